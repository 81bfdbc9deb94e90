using System.CommandLine;
using Spectre.Console;
using System.Globalization;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Output;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl get fabrics|switches|links|endpoints|transceivers`. Lists follow the server's pages until done or --limit.</summary>
public static class GetCommands
{
    public static Command Build(CliContext ctx)
    {
        var cmd = new Command("get", "List fabrics, switches, links, endpoints or transceivers from the inventory");
        cmd.Subcommands.Add(Fabrics(ctx));
        cmd.Subcommands.Add(Switches(ctx));
        cmd.Subcommands.Add(Links(ctx));
        cmd.Subcommands.Add(Endpoints(ctx));
        cmd.Subcommands.Add(Transceivers(ctx));
        return cmd;
    }

    private static Command Fabrics(CliContext ctx)
    {
        var server = CommonOptions.Server(ctx);
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("fabrics", "Fabrics known to the inventory");
        cmd.Options.Add(server);
        cmd.Options.Add(output);
        cmd.SetAction(async (r, ct) =>
        {
            using var client = new InventoryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var list = await client.FabricsAsync(ct);
            if (r.GetValue(output) == "json") { JsonOutput.Write(ctx.Out, list); return ExitCodes.Ok; }
            var t = Table("NAME", "KIND", "VERSION", "PLANES", "SWITCHES", "HOSTS", "ENDPOINTS", "LINKS", "UPDATED");
            foreach (var f in list)
                t.AddRow(Esc(f.Name), Esc(f.Kind), N(f.Version), N(f.Planes), N(f.Switches), N(f.Hosts), N(f.Endpoints), N(f.Links), Time(f.UpdatedAt));
            ctx.Console.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Switches(CliContext ctx)
    {
        var plane = new Option<int?>("--plane") { Description = "Only this plane" };
        var tier = new Option<string?>("--tier") { Description = "leaf, spine or core" }.OneOf("leaf", "spine", "core");
        var status = StatusOption();
        var q = new Option<string?>("--name", "-q") { Description = "Name contains" };
        return List<SwitchDto>(ctx, "switches", "Switches with their state", "switches",
            [plane, tier, status, q],
            r => [new("plane", Str(r.GetValue(plane))), new("tier", r.GetValue(tier)), new("status", r.GetValue(status)), new("q", r.GetValue(q))],
            ["NAME", "PLANE", "TIER", "RADIX", "SPEED", "MODEL", "STATUS", "REASON", "BY", "SINCE"],
            s => [Esc(s.Name), N(s.Plane), Esc(s.Tier), N(s.Radix), $"{s.PortSpeedGbps}G", Esc(s.Model), Status(s.Status), Esc(s.Reason), Esc(s.By), Time(s.Since)]);
    }

    private static Command Links(CliContext ctx)
    {
        var plane = new Option<int?>("--plane") { Description = "Only this plane" };
        var role = new Option<string?>("--role") { Description = "host, leafSpine, spineCore or switchSwitch" }.OneOf("host", "leafSpine", "spineCore", "switchSwitch");
        var status = StatusOption();
        var sw = new Option<string?>("--switch") { Description = "Only links on this switch" };
        return List<LinkDto>(ctx, "links", "Links with their state", "links",
            [plane, role, status, sw],
            r => [new("plane", Str(r.GetValue(plane))), new("role", r.GetValue(role)), new("status", r.GetValue(status)), new("switch", r.GetValue(sw))],
            ["ID", "A", "B", "SPEED", "ROLE", "MEDIUM", "LEN M", "PLANE", "STATUS", "REASON", "BY", "SINCE"],
            l => [N(l.Id), Esc(l.A), Esc(l.B), $"{l.SpeedGbps}G", Esc(l.Role), Esc(l.Medium), N(l.LengthM), N(l.Plane), Status(l.Status), Esc(l.Reason), Esc(l.By), Time(l.Since)]);
    }

    private static Command Endpoints(CliContext ctx)
    {
        var plane = new Option<int?>("--plane") { Description = "Only hosts with a NIC in this plane" };
        var q = new Option<string?>("--name", "-q") { Description = "Name contains" };
        return List<HostDto>(ctx, "endpoints", "Hosts with their NICs and the leaf port each NIC is cabled to", "endpoints",
            [plane, q],
            r => [new("plane", Str(r.GetValue(plane))), new("q", r.GetValue(q))],
            ["NAME", "GPUS", "NICS (mlx5_N plane -> leaf port)"],
            h => [Esc(h.Name), N(h.Gpus), Esc(string.Join("  ", h.Nics.Select(n => $"{n.Index}:p{n.Plane}->{n.Peer ?? "uncabled"}")))]);
    }

    private static Command Transceivers(CliContext ctx)
    {
        var kind = new Option<string?>("--kind") { Description = "passiveDac, activeDac, aoc, sr8, dr8, fr4 or lr8" };
        var link = new Option<int?>("--link") { Description = "Only the modules of this link" };
        return List<TransceiverDto>(ctx, "transceivers", "Optical modules and active cable ends", "transceivers",
            [kind, link],
            r => [new("kind", r.GetValue(kind)), new("link", Str(r.GetValue(link)))],
            ["ID", "SERIAL", "KIND", "LINK", "SIDE", "VENDOR", "PART NUMBER", "FIRMWARE", "POWER W"],
            x => [N(x.Id), Esc(x.Serial), Esc(x.Kind), N(x.Link), Esc(x.Side), Esc(x.Vendor), Esc(x.PartNumber), Esc(x.Firmware), N(x.PowerW)]);
    }

    private static Command List<T>(CliContext ctx, string name, string description, string path, Option[] filters,
        Func<ParseResult, KeyValuePair<string, string?>[]> query, string[] columns, Func<T, string[]> row)
    {
        var server = CommonOptions.Server(ctx);
        var fabric = CommonOptions.Fabric();
        var offset = new Option<int>("--offset") { Description = "Skip this many", DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit") { Description = "At most this many (default: all)" };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command(name, description);
        foreach (var o in filters.Concat([server, fabric, offset, limit, output])) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var f = CommonOptions.FabricName(ctx, r.GetValue(fabric));
            if (r.GetValue(offset) < 0) throw new CliUsageException($"--offset: must not be negative, got {r.GetValue(offset)}");
            if (r.GetValue(limit) is < 1) throw new CliUsageException($"--limit: must be at least 1, got {r.GetValue(limit)}");
            using var client = new InventoryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var page = await client.PageAsync<T>($"api/v1/fabrics/{Uri.EscapeDataString(f)}/{path}", query(r), r.GetValue(offset), r.GetValue(limit), ct);
            if (r.GetValue(output) == "json") { JsonOutput.Write(ctx.Out, page); return ExitCodes.Ok; }
            var t = Table(columns);
            foreach (var item in page.Items) t.AddRow(row(item));
            ctx.Console.Write(t);
            ctx.Console.MarkupLine($"[grey]{N(page.Items.Count)} of {N(page.Total)} {name}[/]");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Option<string?> StatusOption() =>
        new Option<string?>("--status") { Description = "up, down, drained or maintenance" }.OneOf("up", "down", "drained", "maintenance");

    private static string? Str(int? v) => v?.ToString(CultureInfo.InvariantCulture);
}
