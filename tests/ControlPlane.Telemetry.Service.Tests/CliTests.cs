extern alias fabricctl;
using System.Text.Json.Nodes;
using ControlPlane.Testing;
using FabricCtl = fabricctl::ControlPlane.Cli.Cli;
using ExitCodes = fabricctl::ControlPlane.Cli.ExitCodes;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>`fabricctl telemetry link|port` in-process against the telemetry host.</summary>
[Collection(ServersCollection.Name)]
public sealed class CliTests(PostgresFixture pg)
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(TelemetryApp app, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await FabricCtl.RunAsync([.. args, "--server", "http://localhost/"], o, e, app.Server.CreateHandler(), environment: _ => null);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task Link_and_port_series_print_as_json_and_table_and_bad_input_names_the_field()
    {
        await using var app = await TelemetryApp.StartAsync(pg.Server, "cl");
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("cl");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;
        var link = t.LinkAtSwitchPort(t.FindSwitch(leaf), 2);
        ulong bytes = 0;
        for (var i = 0; i < 12; i++)
        {
            bytes += 5_000_000_000; // 10% of 400 Gb/s
            var (s, body) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, (ulong)i + 1, app.Clock.GetUtcNow(), bytes));
            Assert.True(s == 202, body?.ToJsonString());
            await app.AdvanceAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        }
        await TelemetryApp.EventuallyAsync(async () => await app.ScalarAsync("SELECT count(*) FROM port_series") >= 8, "rows stored");

        var (code, json, err) = await RunAsync(app, "telemetry", "link", link.ToString(System.Globalization.CultureInfo.InvariantCulture), "--since", "1h", "--fabric", "cl", "-o", "json");
        Assert.True(code == ExitCodes.Ok, err);
        var reply = JsonNode.Parse(json)!;
        Assert.Equal(link, (int)reply["linkId"]!);
        var end = reply["series"]!.AsArray().Single(s => (string)s!["switch"]! == leaf)!;
        Assert.Equal(2, (int)end["port"]!);
        Assert.InRange((double)end["points"]![0]!["metrics"]!["txUtil"]!["mean"]!, 0.05, 0.15);

        var (pc, table, perr) = await RunAsync(app, "telemetry", "port", leaf, "2", "--since", "30m");
        Assert.True(pc == ExitCodes.Ok, perr);
        Assert.Contains($"{leaf}:2", table);
        Assert.Contains("2026-11-23 10:00:00Z", table);
        Assert.Contains("cl: 1 points", table);

        var (bc, _, berr) = await RunAsync(app, "telemetry", "port", leaf, "2", "--since", "yesterday");
        Assert.Equal(ExitCodes.Problems, bc);
        Assert.Contains("since", berr);
        var (nc, _, nerr) = await RunAsync(app, "telemetry", "link", "99999");
        Assert.NotEqual(ExitCodes.Ok, nc);
        Assert.Contains("99999", nerr);
    }
}
