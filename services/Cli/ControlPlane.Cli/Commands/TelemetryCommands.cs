using System.CommandLine;
using Spectre.Console;
using System.Globalization;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Output;
using static ControlPlane.Cli.Output.Format;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl telemetry link &lt;id&gt;` and `fabricctl telemetry port &lt;switch&gt; &lt;port&gt;`: the stored 10 s min/mean/max series.</summary>
public static class TelemetryCommands
{
    /// <summary>Environment variable naming the telemetry server when it is not the inventory's.</summary>
    public const string ServerVariable = "FABRICCTL_TELEMETRY_SERVER";

    public static Command Build(CliContext ctx)
    {
        var cmd = new Command("telemetry", "Stored telemetry series (10 s min/mean/max per port) from the telemetry service");
        cmd.Subcommands.Add(Link(ctx));
        cmd.Subcommands.Add(Port(ctx));
        return cmd;
    }

    private static Option<string> Server(CliContext ctx) =>
        new("--server") { Description = $"Telemetry server URL (${ServerVariable}, else ${CliContext.ServerVariable})", DefaultValueFactory = _ => ctx.Environment(ServerVariable) ?? ctx.DefaultServerUrl };

    private static Option<string> Since() =>
        new("--since") { Description = "Start: a duration back from now (90s, 15m, 1h, 2d) or an ISO 8601 time", DefaultValueFactory = _ => "1h" };

    private static Option<string?> Until() =>
        new("--until") { Description = "End: a duration back from now or an ISO 8601 time (default now)" };

    private static Command Link(CliContext ctx)
    {
        var id = new Argument<int>("id") { Description = "Link id" };
        var (server, fabric, since, until, output) = (Server(ctx), CommonOptions.Fabric(), Since(), Until(), CommonOptions.OutputFormat());
        var cmd = new Command("link", "Series of both ends of a link") { id, server, fabric, since, until, output };
        cmd.SetAction(async (r, ct) =>
        {
            using var client = new TelemetryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var reply = await client.LinkAsync(r.GetValue(id), r.GetValue(fabric) ?? ctx.Environment(CliContext.FabricVariable), r.GetValue(since), r.GetValue(until), ct);
            return Write(ctx, reply, r.GetValue(output)!);
        });
        return cmd;
    }

    private static Command Port(CliContext ctx)
    {
        var sw = new Argument<string>("switch") { Description = "Switch name" };
        var port = new Argument<string>("port") { Description = "1-based port number" };
        var (server, fabric, since, until, output) = (Server(ctx), CommonOptions.Fabric(), Since(), Until(), CommonOptions.OutputFormat());
        var cmd = new Command("port", "Series of one switch port") { sw, port, server, fabric, since, until, output };
        cmd.SetAction(async (r, ct) =>
        {
            using var client = new TelemetryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            var reply = await client.PortAsync(r.GetValue(sw)!, r.GetValue(port)!, r.GetValue(fabric) ?? ctx.Environment(CliContext.FabricVariable), r.GetValue(since), r.GetValue(until), ct);
            return Write(ctx, reply, r.GetValue(output)!);
        });
        return cmd;
    }

    private static int Write(CliContext ctx, SeriesReplyDto reply, string output)
    {
        if (output == "json") { JsonOutput.Write(ctx.Out, reply); return ExitCodes.Ok; }
        var t = Table("TIME", "END", "SAMPLES", "TX % mean/max", "RX % mean/max", "FEC UNC/s max", "DROPS/s max", "PRE-FEC BER max", "TEMP C max", "RX dBm min");
        foreach (var s in reply.Series)
            foreach (var p in s.Points)
                t.AddRow(Time(p.Time), Esc($"{s.Switch}:{s.Port}"), N(p.Samples), Pct(p, "txUtil"), Pct(p, "rxUtil"), Max(p, "fecUncorrectedRate"), Max(p, "dropRate"),
                    Sci(p, "preFecBer"), Max(p, "temperatureC"), Min(p, "rxPowerMinDbm"));
        ctx.Console.Write(t);
        var points = reply.Series.Sum(s => s.Points.Count);
        ctx.Out.WriteLine($"{reply.Fabric}{(reply.LinkId is { } l ? $" link {l}" : "")}: {points} points of {reply.BucketSeconds.ToString(CultureInfo.InvariantCulture)} s from {Time(reply.From)} to {Time(reply.To)}");
        return ExitCodes.Ok;
    }

    private static MetricStatDto? Stat(SeriesPointDto p, string m) => p.Metrics.TryGetValue(m, out var s) ? s : null;

    private static string Pct(SeriesPointDto p, string m) => Stat(p, m) is { } s ? $"{N(s.Mean * 100)} / {N(s.Max * 100)}" : "-";

    private static string Max(SeriesPointDto p, string m) => Stat(p, m) is { } s ? N(s.Max, 2) : "-";

    private static string Min(SeriesPointDto p, string m) => Stat(p, m) is { } s ? N(s.Min, 2) : "-";

    private static string Sci(SeriesPointDto p, string m) => Stat(p, m) is { } s ? s.Max.ToString("0.0e0", CultureInfo.InvariantCulture) : "-";
}
