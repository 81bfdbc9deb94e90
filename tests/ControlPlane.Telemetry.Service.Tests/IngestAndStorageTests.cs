using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>HTTP batches in, link-load snapshots out on the in-memory bus, downsampled rows in partitions, retention, queries.</summary>
[Collection(ServersCollection.Name)]
public sealed class IngestAndStorageTests(PostgresFixture pg)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Http_batches_become_snapshots_on_the_bus_and_stats_count_them()
    {
        await using var app = await TelemetryApp.StartAsync(pg.Server, "h1");
        var received = Channel.CreateUnbounded<LinkLoadSnapshot>();
        var handle = app.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint($"telemetry-test-{Guid.NewGuid():N}", (IReceiveEndpointConfigurator e) =>
            e.Handler<LinkLoadSnapshot>(ctx => received.Writer.WriteAsync(ctx.Message).AsTask()));
        await handle.Ready.WaitAsync(Wait);
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("h1");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;

        var (s1, b1) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 1_000_000_000));
        Assert.Equal(202, s1);
        Assert.Equal(8, (int)b1!["accepted"]!);
        Assert.Equal(0, (int)b1["rejected"]!);
        Assert.Equal("h1", (string)b1["fabric"]!);
        await app.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var (s2, b2) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 2, app.Clock.GetUtcNow(), 3_000_000_000));
        Assert.Equal(202, s2);
        Assert.Equal(8, (int)b2!["accepted"]!);
        await app.AdvanceAsync(TimeSpan.FromMilliseconds(300));

        // Snapshots of the fabric's one plane, the first full; after the second batch a link of the leaf carries load.
        var sw = t.FindSwitch(leaf);
        var leafLinks = Enumerable.Range(1, 8).Select(p => t.LinkAtSwitchPort(sw, p)).Where(l => l >= 0).ToHashSet();
        LinkLoadSnapshot? loaded = null;
        using var cts = new CancellationTokenSource(Wait);
        while (loaded is null)
        {
            var s = await received.Reader.ReadAsync(cts.Token);
            Assert.Equal("h1", s.Fabric);
            Assert.Equal(0, s.Plane);
            if (s.Loads.Any(l => leafLinks.Contains(l.LinkId) && l.Fresh && (l.UtilAtoB > 0 || l.UtilBtoA > 0))) loaded = s;
            else await app.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        }
        Assert.All(loaded.Loads.Where(l => leafLinks.Contains(l.LinkId) && l.Fresh), l => Assert.InRange(Math.Max(l.UtilAtoB, l.UtilBtoA), 0.0001, 1.0));

        var (ss, stats) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
        Assert.Equal(200, ss);
        Assert.Equal(16, (long)stats!["samplesAccepted"]!);
        Assert.Equal(16, (long)stats["agents"]!["agent-" + leaf]!["samplesAccepted"]!);
        var fabric = stats["fabrics"]!.AsArray().Single()!;
        Assert.Equal("h1", (string)fabric["name"]!);
        Assert.Equal(2, (long)fabric["queue"]!["enqueued"]!);
        Assert.True((long)fabric["snapshotsPublished"]! >= 2);
        Assert.True((long)stats["snapshots"]! >= 2);

        var (rs, ready) = await TelemetryApp.GetAsync(client, "/readyz");
        Assert.True(rs == 200, ready?.ToJsonString());
        var checks = ready!["checks"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Contains("store-telemetry", checks);
        Assert.Contains("store-inventory", checks);
        Assert.Contains(checks, c => c.Contains("masstransit", StringComparison.OrdinalIgnoreCase) || c.Contains("bus", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Downsampled_rows_land_in_hourly_partitions_are_queryable_and_expire_with_retention()
    {
        await using var app = await TelemetryApp.StartAsync(pg.Server, "st",
            ("Telemetry:Retention", "02:00:00"), ("Telemetry:RetentionCheckInterval", "00:30:00"), ("Telemetry:PartitionsAhead", "1"));
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("st");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;
        var sw = t.FindSwitch(leaf);

        // One sample a second for 12 s: the first 10 s bucket closes, and the period tick flushes it to the store.
        ulong bytes = 0;
        for (var i = 0; i < 12; i++)
        {
            bytes += 10_000_000_000; // 10 GB a second: 20% of 400 Gb/s
            var (s, body) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, (ulong)i + 1, app.Clock.GetUtcNow(), bytes));
            Assert.True(s == 202, body?.ToJsonString());
            await app.AdvanceAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        }
        await TelemetryApp.EventuallyAsync(async () => await app.ScalarAsync("SELECT count(*) FROM port_series WHERE fabric = 'st'") >= 8, "rows in port_series");

        // Partitions: the current hour and one ahead, the rows in the current one.
        var parts = await app.PartitionsAsync();
        Assert.Contains("port_series_2026112310", parts);
        Assert.Contains("port_series_2026112311", parts);
        Assert.True(await app.ScalarAsync("SELECT count(*) FROM port_series_2026112310") >= 8);
        Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM port_series WHERE tx_util_max > 1 OR tx_util_min < 0 OR samples < 1"));

        var (ps, port) = await TelemetryApp.GetAsync(client, $"/api/v1/telemetry/ports/{leaf}/1?since=1h");
        Assert.True(ps == 200, port?.ToJsonString());
        var series = port!["series"]!.AsArray().Single()!;
        Assert.Equal(leaf, (string)series["switch"]!);
        Assert.Equal(1, (int)series["port"]!);
        var point = series["points"]!.AsArray().First()!;
        Assert.Equal(TelemetryApp.Start, DateTimeOffset.Parse((string)point["time"]!, System.Globalization.CultureInfo.InvariantCulture));
        var tx = point["metrics"]!["txUtil"]!;
        Assert.InRange((double)tx["mean"]!, 0.15, 0.25);
        Assert.True((double)tx["min"]! <= (double)tx["mean"]! && (double)tx["mean"]! <= (double)tx["max"]!);
        Assert.NotNull(point["metrics"]!["temperatureC"]);

        var link = t.LinkAtSwitchPort(sw, 1);
        var (ls, linkBody) = await TelemetryApp.GetAsync(client, $"/api/v1/telemetry/links/{link}?since=30m");
        Assert.True(ls == 200, linkBody?.ToJsonString());
        Assert.Equal(link, (int)linkBody!["linkId"]!);
        Assert.Contains(linkBody["series"]!.AsArray(), s => (string)s!["switch"]! == leaf && (int)s["port"]! == 1);

        // A window that ends before the data returns no series.
        var (es, empty) = await TelemetryApp.GetAsync(client, $"/api/v1/telemetry/ports/{leaf}/1?since=2026-11-23T08:00:00Z&until=2026-11-23T09:00:00Z");
        Assert.Equal(200, es);
        Assert.Empty(empty!["series"]!.AsArray());

        // Three hours on: the 10:00 partition ends before the 2 h retention cutoff and is dropped; the data is gone.
        await app.AdvanceAsync(TimeSpan.FromHours(3), TimeSpan.FromMinutes(15));
        await TelemetryApp.EventuallyAsync(async () => !(await app.PartitionsAsync()).Contains("port_series_2026112310"), "the 10:00 partition to be dropped");
        Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM port_series WHERE bucket < '2026-11-23T11:00:00Z'"));
        // Retention also created the partitions for the new current hour (13:00) and the one ahead.
        await TelemetryApp.EventuallyAsync(async () => (await app.PartitionsAsync()).Contains("port_series_2026112314"), "the partition ahead of 13:00");
        var (as_, after) = await TelemetryApp.GetAsync(client, $"/api/v1/telemetry/ports/{leaf}/1?since=2026-11-23T09:00:00Z&until=2026-11-23T12:00:00Z");
        Assert.Equal(200, as_);
        Assert.Empty(after!["series"]!.AsArray());
    }
}
