using System.CommandLine;
using Spectre.Console;
using System.Globalization;
using System.Text.Json;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Output;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `fabricctl loop status|lagging` (routing, distribution and emulated-fabric state of the closed loop) and
/// `fabricctl fault ...` (inject failures into the emulated fabric).
/// </summary>
public static class LoopCommands
{
    public static Command BuildLoop(CliContext ctx)
    {
        var cmd = new Command("loop", "The closed loop: routing version, table distribution and convergence, emulated fabric load");
        cmd.Subcommands.Add(Status(ctx));
        cmd.Subcommands.Add(Lagging(ctx));
        return cmd;
    }

    public static Command BuildFault(CliContext ctx)
    {
        var cmd = new Command("fault", "Inject a failure into the emulated fabric (chaos): the loop routes around it");
        cmd.Subcommands.Add(LinkFault(ctx, "link-down", "LinkDown", "A link goes down (both ends report loss of signal)"));
        cmd.Subcommands.Add(LinkFault(ctx, "link-up", "LinkUp", "A link comes back up"));
        cmd.Subcommands.Add(LinkFault(ctx, "link-flap", "LinkFlap", "A link goes down and back up after --duration-ms"));
        cmd.Subcommands.Add(SwitchFault(ctx, "switch-crash", "SwitchCrash", "A switch crashes: its agent stops, its data plane is lost, neighbours see ports down"));
        cmd.Subcommands.Add(SwitchFault(ctx, "switch-restart", "SwitchRestart", "A crashed switch restarts with an empty data plane"));
        cmd.Subcommands.Add(ListFaults(ctx));
        return cmd;
    }

    private static Command Status(CliContext ctx)
    {
        var (server, fabric, output) = (CommonOptions.Server(ctx), CommonOptions.Fabric(), CommonOptions.OutputFormat());
        var cmd = new Command("status", "Routing version and last computation, tables in sync and lagging, last convergence, emulated load vs bound") { server, fabric, output };
        cmd.SetAction(async (r, ct) =>
        {
            var name = CommonOptions.FabricName(ctx, r.GetValue(fabric) ?? "mpft");
            using var client = new LoopClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var routing = await client.GetAsync($"api/v1/routing/fabrics/{Uri.EscapeDataString(name)}/status", ct);
            var distribution = await client.GetAsync($"api/v1/distribution/fabrics/{Uri.EscapeDataString(name)}/status", ct);
            JsonElement? emulation = null;
            try { emulation = await client.GetAsync("api/v1/emulation/status", ct); }
            catch (ServerProblemException e) when (e.Status == System.Net.HttpStatusCode.NotFound) { } // a deployment without the emulated fabric
            if (r.GetValue(output) == "json")
            {
                JsonOutput.Write(ctx.Out, new { fabric = name, routing, distribution, emulation });
                return ExitCodes.Ok;
            }
            var s = distribution.GetProperty("summary");
            var t = Table("WHAT", "STATE");
            t.AddRow("routing", Esc($"v{Num(routing, "routingVersion")} ({Str(routing, "lastReason")}, {Dbl(routing, "lastComputeMs"):F1} ms, {Num(routing, "lastSwitchesChanged")} switches changed); {Num(routing, "linksDownByOverlay")} links down by port events"));
            t.AddRow("tables", Esc($"{Num(s, "inSync")}/{Num(s, "switches")} in sync, {Num(s, "lagging")} lagging, {Num(s, "sessions")} agents connected" +
                (s.TryGetProperty("lastConvergenceMs", out var lc) && lc.ValueKind == JsonValueKind.Number ? $", last convergence {lc.GetDouble().ToString("F0", CultureInfo.InvariantCulture)} ms" : "")));
            t.AddRow("rejected", Esc($"{Num(s, "rejectedCredentials")} bad credentials, {Num(s, "agentRejections")} tables refused by agents, {Num(s, "malformed")} malformed messages"));
            if (emulation is { } em)
                t.AddRow("emulation", Esc($"{Num(em, "agents")} agents ({Num(em, "agentsDown")} down), period {Num(em, "period")}: max link utilization {Dbl(em, "maxUtilization"):P1}, bound {Dbl(em, "lowerBound"):P1}, ratio {Dbl(em, "ratioToBound"):F3}; {Num(em, "activeFaults")} active faults; {Num(em, "forwardingProblems")} loops/holes found"));
            ctx.Console.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Lagging(CliContext ctx)
    {
        var (server, fabric, output) = (CommonOptions.Server(ctx), CommonOptions.Fabric(), CommonOptions.OutputFormat());
        var cmd = new Command("lagging", "Switches whose agents have not acknowledged their desired table: versions, since when") { server, fabric, output };
        cmd.SetAction(async (r, ct) =>
        {
            var name = CommonOptions.FabricName(ctx, r.GetValue(fabric) ?? "mpft");
            using var client = new LoopClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var lagging = await client.GetAsync($"api/v1/distribution/fabrics/{Uri.EscapeDataString(name)}/lagging", ct);
            if (r.GetValue(output) == "json") { JsonOutput.Write(ctx.Out, lagging); return ExitCodes.Ok; }
            var t = Table("SWITCH", "DESIRED", "ACKED", "FOR", "CONNECTED", "BLOCKED");
            var rows = lagging.ValueKind == JsonValueKind.Array ? lagging.EnumerateArray().ToList() : [];
            foreach (var x in rows)
                t.AddRow(Esc(Str(x, "switch")), Num(x, "desiredVersion"), Num(x, "ackedVersion"), $"{Dbl(x, "forMs"):F0} ms", x.TryGetProperty("session", out var ss) && ss.ValueKind == JsonValueKind.True ? "yes" : "no", Esc(Str(x, "blocked")));
            ctx.Console.Write(t);
            ctx.Out.WriteLine(rows.Count == 0 ? $"{name}: every switch holds its desired table" : $"{name}: {rows.Count} switches lagging");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command LinkFault(CliContext ctx, string verb, string kind, string description)
    {
        var link = new Argument<int>("link") { Description = "Link id (see `fabricctl get links`)" };
        var duration = new Option<int>("--duration-ms") { Description = "For a flap: how long the link stays down", DefaultValueFactory = _ => 500 };
        var (server, output) = (CommonOptions.Server(ctx), CommonOptions.OutputFormat());
        var cmd = new Command(verb, description) { link, server, output };
        if (kind == "LinkFlap") cmd.Options.Add(duration);
        cmd.SetAction(async (r, ct) =>
        {
            var body = new Dictionary<string, object?> { ["kind"] = kind, ["linkId"] = r.GetValue(link) };
            if (kind == "LinkFlap") body["durationMs"] = r.GetValue(duration);
            return await Inject(ctx, r.GetValue(server), body, r.GetValue(output)!, ct);
        });
        return cmd;
    }

    private static Command SwitchFault(CliContext ctx, string verb, string kind, string description)
    {
        var sw = new Argument<string>("switch") { Description = "Switch name" };
        var (server, output) = (CommonOptions.Server(ctx), CommonOptions.OutputFormat());
        var cmd = new Command(verb, description) { sw, server, output };
        cmd.SetAction(async (r, ct) => await Inject(ctx, r.GetValue(server), new Dictionary<string, object?> { ["kind"] = kind, ["switch"] = r.GetValue(sw) }, r.GetValue(output)!, ct));
        return cmd;
    }

    private static async Task<int> Inject(CliContext ctx, string? server, Dictionary<string, object?> body, string output, CancellationToken ct)
    {
        using var client = new LoopClient(ctx.CreateClient(CommonOptions.ServerUri(server)));
        var reply = await client.PostAsync("api/v1/emulation/faults", body, ct);
        if (output == "json") { JsonOutput.Write(ctx.Out, reply); return ExitCodes.Ok; }
        ctx.Out.WriteLine($"injected {Str(reply, "kind")}{(reply.TryGetProperty("linkId", out var l) && l.ValueKind == JsonValueKind.Number ? $" on link {l.GetInt32()}" : "")}{(Str(reply, "switch") is { Length: > 0 } s ? $" on {s}" : "")}: trigger {Str(reply, "triggerId")} (follow it with `fabricctl loop status`)");
        return ExitCodes.Ok;
    }

    private static Command ListFaults(CliContext ctx)
    {
        var (server, output) = (CommonOptions.Server(ctx), CommonOptions.OutputFormat());
        var cmd = new Command("list", "Faults injected and whether they are still in effect") { server, output };
        cmd.SetAction(async (r, ct) =>
        {
            using var client = new LoopClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var reply = await client.GetAsync("api/v1/emulation/faults", ct);
            if (r.GetValue(output) == "json") { JsonOutput.Write(ctx.Out, reply); return ExitCodes.Ok; }
            var t = Table("TRIGGER", "KIND", "LINK", "SWITCH", "AT", "ACTIVE");
            if (reply.TryGetProperty("faults", out var faults) && faults.ValueKind == JsonValueKind.Array)
                foreach (var f in faults.EnumerateArray())
                    t.AddRow(Esc(Str(f, "triggerId")), Esc(Str(f, "kind")), f.TryGetProperty("linkId", out var l) && l.ValueKind == JsonValueKind.Number ? N(l.GetInt32()) : "", Esc(Str(f, "switch")),
                        f.TryGetProperty("at", out var at) && at.TryGetDateTimeOffset(out var when) ? Time(when) : "", f.TryGetProperty("active", out var a) && a.ValueKind == JsonValueKind.True ? "yes" : "no");
            ctx.Console.Write(t);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch { JsonValueKind.String => v.GetString() ?? "", JsonValueKind.Null or JsonValueKind.Undefined => "", _ => v.ToString() } : "";

    private static string Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (v.TryGetInt64(out var l) ? N(l) : N(v.GetDouble())) : "-";

    private static double Dbl(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
}
