using ControlPlane.Fabric.Validation;
using Spectre.Console;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Output;

/// <summary>The table view of a cabling comparison: what to go and fix, most actionable first.</summary>
internal static class CablingView
{
    public static void Render(IAnsiConsole c, CablingReport r, int max)
    {
        var head = $"{N(r.Matched)} cables as planned; {N(r.Swapped.Count)} swapped pair(s), {N(r.Miscabled.Count)} on the wrong port, {N(r.Missing.Count)} missing, {N(r.Unexpected.Count)} unexpected";
        c.MarkupLine(r.IsClean ? $"[green]{head}[/]" : $"[red]{head}[/]");
        if (r.Swapped.Count > 0)
        {
            var t = Table("SWAPPED: PLANNED", "FOUND");
            foreach (var s in r.Swapped.Take(max))
            {
                t.AddRow(Esc(s.Planned1.ToString()), Esc(s.Seen1.ToString()));
                t.AddRow(Esc(s.Planned2.ToString()), Esc(s.Seen2.ToString()));
            }
            c.Write(t);
        }
        if (r.Miscabled.Count > 0)
        {
            var t = Table("WRONG PORT: PLANNED", "FOUND", "FIX");
            foreach (var m in r.Miscabled.Take(max)) t.AddRow(Esc(m.Planned.ToString()), Esc(m.Seen.ToString()), Esc(m.Fix));
            c.Write(t);
        }
        List("MISSING (planned, not seen)", r.Missing, c, max);
        List("UNEXPECTED (seen, not planned)", r.Unexpected, c, max);
    }

    private static void List(string title, IReadOnlyList<Cable> cables, IAnsiConsole c, int max)
    {
        if (cables.Count == 0) return;
        var t = Table(title);
        foreach (var x in cables.Take(max)) t.AddRow(Esc(x.ToString()));
        c.Write(t);
        if (cables.Count > max) c.MarkupLine($"[grey]... and {N(cables.Count - max)} more (use --max or -o json)[/]");
    }
}
