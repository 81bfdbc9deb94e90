using ControlPlane.Fabric.Planning;
using Spectre.Console;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Output;

/// <summary>The table view of a plan.</summary>
internal static class PlanView
{
    private static string Title(string kind) => kind switch
    {
        "railOptimized" => "Rail-optimized",
        "slimFly" => "Slim Fly",
        "dragonfly" => "Dragonfly",
        _ => kind.ToUpperInvariant(),
    };

    public static void Compare(IAnsiConsole c, IReadOnlyList<PlanReport> reports)
    {
        var first = reports[0];
        c.MarkupLine($"[bold]All kinds[/] at radix {first.Radix}, {first.PortSpeedGbps}G ports");
        var t = Table("TOPOLOGY", "ENDPOINTS", "SWITCHES", "LINKS", "COST", "COST / ENDPOINT", "POWER KW", "BISECTION TB/S", "SHAPE");
        foreach (var r in reports)
            t.AddRow(Esc(Title(r.Kind)), N(r.Endpoints), N(r.Switches), N(r.SwitchLinks), Money(r.CostUsd), Money(r.CostPerEndpointUsd), N(r.TotalPowerKw, 0),
                N(r.BisectionTbps) + (r.BisectionIsEstimate ? "*" : ""), Esc(r.Shape));
        c.Write(t);
        c.MarkupLine("[grey]LINKS are switch-to-switch links; * estimated bisection[/]");
    }

    public static void Render(IAnsiConsole c, PlanReport r)
    {
        c.MarkupLine($"[bold]{Esc(Title(r.Kind))}[/] plan: {Esc(r.Shape)}  (radix {r.Radix}, {r.PortSpeedGbps}G ports{(r.Planes > 1 ? $", {r.Planes} planes" : "")}{(r.Oversubscription != 1 ? $", {r.Oversubscription}:1 oversubscribed" : "")})");
        c.WriteLine();
        var g = new Grid().AddColumn(new GridColumn().PadRight(3)).AddColumn(new GridColumn().RightAligned().PadRight(3)).AddColumn();
        g.AddRow("Endpoints", N(r.Endpoints), $"{N(r.Nodes)} nodes, {N(r.Gpus)} GPUs");
        g.AddRow("Switches", N(r.Switches), string.Join(", ", r.SwitchesByTier.Select(t => $"{t.Name} {N(t.Count)}")));
        g.AddRow("Switch links", N(r.SwitchLinks), string.Join(", ", r.LinksByRole.Where(x => x.Name != "host").Select(x => $"{x.Name} {N(x.Count)}")));
        g.AddRow("Host links", N(r.HostLinks), "");
        g.AddRow("Transceivers", N(r.Transceivers), $"{N(r.Cables)} cables");
        g.AddRow("Bisection", $"{N(r.BisectionTbps)} Tb/s", r.BisectionIsEstimate ? "estimate" : "");
        g.AddRow("Power", $"{N(r.TotalPowerKw)} kW", $"switches {N(r.SwitchPowerKw)} kW, optics and cables {N(r.OpticsPowerKw)} kW");
        g.AddRow("[bold]Cost[/]", $"[bold]{Money(r.CostUsd)}[/]", $"{Money(r.CostPerEndpointUsd)} per endpoint");
        c.Write(g);
        c.WriteLine();

        var t = Table("MEDIUM", "REACH", "LINKS", "TRANSCEIVERS", "CABLES", "POWER KW", "COST");
        foreach (var m in r.Media)
            t.AddRow(Esc(m.Medium), Esc(m.ReachTier), N(m.Links), N(m.Transceivers), N(m.Cables), N(m.PowerW / 1000), Money(m.CostUsd));
        c.Write(t);
        c.MarkupLine("Links by reach: " + string.Join(", ", r.LinksByReach.Select(x => $"{Esc(x.Name)} {N(x.Count)}")));
        foreach (var n in r.Notes) c.MarkupLine($"[grey]note: {Esc(n)}[/]");
    }
}
