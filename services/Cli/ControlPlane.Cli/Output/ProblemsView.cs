using ControlPlane.Fabric;
using ControlPlane.Fabric.Validation;
using Spectre.Console;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Output;

/// <summary>Views of a topology summary and its validation problems.</summary>
internal static class ProblemsView
{
    public static void Summary(IAnsiConsole c, FabricTopology t, string source)
    {
        var tiers = string.Join(", ", t.Switches.GroupBy(s => s.Tier).OrderBy(x => x.Key).Select(x => $"{x.Key.ToString().ToLowerInvariant()} {N(x.Count())}"));
        c.MarkupLine($"[bold]{Esc(t.Name)}[/] ({Esc(source)}): {Esc(t.Kind.ToString().ToLowerInvariant())}, {N(t.Planes.Count)} plane(s), {N(t.Switches.Count)} switches ({tiers}), "
            + $"{N(t.Hosts.Count)} hosts, {N(t.EndpointCount)} endpoints, {N(t.Links.Count)} links ({N(t.SwitchLinkCount)} switch-to-switch), {N(t.Transceivers.Count)} transceivers");
    }

    public static void Problems(IAnsiConsole c, IReadOnlyList<ValidationProblem> problems, int max)
    {
        if (problems.Count == 0)
        {
            c.MarkupLine("[green]no problems found[/]");
            return;
        }
        c.MarkupLine($"[red]{N(problems.Count)} problem(s):[/] " + string.Join(", ", problems.GroupBy(p => p.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {N(g.Count())}")));
        var t = Table("KIND", "ELEMENT", "PROBLEM");
        foreach (var p in problems.Take(max)) t.AddRow(p.Kind.ToString(), Esc(p.Element), Esc(p.Message));
        c.Write(t);
        if (problems.Count > max) c.MarkupLine($"[grey]... and {N(problems.Count - max)} more (use --max or -o json for all)[/]");
    }

    public static object Json(string file, string format, FabricTopology t, IReadOnlyList<ValidationProblem> problems) => new
    {
        file,
        format,
        fabric = new { name = t.Name, kind = t.Kind, planes = t.Planes.Count, switches = t.Switches.Count, hosts = t.Hosts.Count, endpoints = t.EndpointCount, links = t.Links.Count, transceivers = t.Transceivers.Count },
        problemCount = problems.Count,
        problems = problems.Select(p => new { kind = p.Kind, elementType = p.ElementType, elementId = p.ElementId, element = p.Element, message = p.Message }),
    };
}
