using System.CommandLine;
using Spectre.Console;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Output;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// The online verbs against the inventory REST API: get, drain, undrain, history. Returns several top-level
/// commands, so the root adds them in one loop.
/// </summary>
public static class InventoryCommands
{
    public static IEnumerable<Command> Build(CliContext ctx)
    {
        yield return GetCommands.Build(ctx);
        yield return StateCommands.Build(ctx, drain: true);
        yield return StateCommands.Build(ctx, drain: false);
        yield return History(ctx);
    }

    private static Command History(CliContext ctx)
    {
        var server = CommonOptions.Server(ctx);
        var fabric = CommonOptions.Fabric();
        var from = new Option<long?>("--from") { Description = "First version to show" };
        var limit = new Option<int?>("--limit") { Description = "Versions to show" };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("history", "Topology versions of a fabric: who changed what, when and why");
        foreach (var o in new Option[] { server, fabric, from, limit, output }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var name = CommonOptions.FabricName(ctx, r.GetValue(fabric));
            using var client = new InventoryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var versions = await client.VersionsAsync(name, r.GetValue(from), r.GetValue(limit), ct);
            if (r.GetValue(output) == "json")
            {
                JsonOutput.Write(ctx.Out, versions);
                return ExitCodes.Ok;
            }
            var t = Format.Table("VERSION", "AT", "BY", "REASON", "CHANGES");
            foreach (var v in versions)
                t.AddRow(v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Time(v.At), Format.Esc(v.By), Format.Esc(v.Reason),
                    Format.Esc(string.Join("; ", v.Changes.Select(c => $"{c.Element} {c.Name ?? c.Id}: {c.From} -> {c.To}"))));
            ctx.Console.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
