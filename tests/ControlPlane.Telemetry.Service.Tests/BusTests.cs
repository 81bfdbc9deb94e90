using System.Text.Json.Nodes;
using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using Google.Protobuf;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>Batches in over the bus (RabbitMQ and in-memory), snapshots out over RabbitMQ, topology reloaded on TopologyChanged.</summary>
[Collection(ServersCollection.Name)]
public sealed class BusTests(PostgresFixture pg, RabbitMqFixture rmq)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Over_RabbitMQ_batches_come_in_snapshots_go_out_and_a_new_fabric_is_picked_up()
    {
        // A separate bus, as a collector and the routing engine would run it.
        var received = Channel.CreateUnbounded<LinkLoadSnapshot>();
        var amqp = new Uri(rmq.Server.AmqpUri);
        var other = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(amqp.Host, (ushort)amqp.Port, "/", h => { h.Username("guest"); h.Password("guest"); });
            cfg.ReceiveEndpoint($"telemetry-test-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<LinkLoadSnapshot>(ctx => received.Writer.WriteAsync(ctx.Message).AsTask());
            });
        });
        using var startCts = new CancellationTokenSource(Wait);
        await other.StartAsync(startCts.Token);
        try
        {
            await using var app = await TelemetryApp.StartAsync(pg.Server, "rb",
                ("Bus:Transport", "RabbitMq"), ("ConnectionStrings:rabbitmq", rmq.Server.AmqpUri), ("Bus:EndpointPrefix", "t" + Guid.NewGuid().ToString("N")[..8]));
            var client = app.CreateClient();
            var t = TelemetryApp.SmallFt2("rb");
            var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;
            var sw = t.FindSwitch(leaf);
            var leafLinks = Enumerable.Range(1, 8).Select(p => t.LinkAtSwitchPort(sw, p)).Where(l => l >= 0).ToHashSet();

            // Publish a batch a period until a snapshot shows the leaf's links loaded (the first publishes may precede the bindings).
            LinkLoadSnapshot? loaded = null;
            ulong seq = 0, bytes = 0;
            var deadline = DateTime.UtcNow + Wait;
            while (loaded is null && DateTime.UtcNow < deadline)
            {
                bytes += 2_000_000_000;
                var batch = TelemetryApp.Batch(t, leaf, ++seq, app.Clock.GetUtcNow(), bytes);
                await other.Publish(new TelemetryBatchReceived { AgentId = "collector-1", Payload = batch.ToByteArray(), Fabric = "rb", SentAt = app.Clock.GetUtcNow() });
                await Task.Delay(100);
                await app.AdvanceAsync(TimeSpan.FromMilliseconds(100));
                while (received.Reader.TryRead(out var s))
                {
                    Assert.Equal("rb", s.Fabric);
                    if (s.Loads.Any(l => leafLinks.Contains(l.LinkId) && l.Fresh && l.UtilAtoB + l.UtilBtoA > 0)) loaded = s;
                }
            }
            Assert.NotNull(loaded);
            var (_, stats) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
            Assert.True((long)stats!["agents"]!["agent-" + leaf]!["samplesAccepted"]! >= 16, stats.ToJsonString());

            // A fabric created after start is served once its TopologyChanged arrives.
            await TelemetryApp.CreateFabricAsync(app.ConnectionString, "rb2");
            await other.Publish(new TopologyChanged { FabricName = "rb2", Version = 1, PreviousVersion = 0, Kind = TopologyChangeKind.Created, Changes = [], At = app.Clock.GetUtcNow() });
            await TelemetryApp.EventuallyAsync(async () =>
            {
                var (_, s) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
                return s!["fabrics"]!.AsArray().Any(f => (string)f!["name"]! == "rb2");
            }, "fabric rb2 to be served");

            // Its switches share names with rb's: without a fabric the switch is ambiguous, with one it is accepted.
            var (amb, ambBody) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 5));
            Assert.Equal(400, amb);
            Assert.NotNull(ambBody!["errors"]!["fabric"]);
            var (ok, okBody) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 5), "?fabric=rb2");
            Assert.True(ok == 202, okBody?.ToJsonString());
            Assert.Equal("rb2", (string)okBody!["fabric"]!);
        }
        finally
        {
            await other.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Over_the_in_memory_bus_batches_are_ingested_and_bad_ones_counted_not_stored()
    {
        await using var app = await TelemetryApp.StartAsync(pg.Server, "mb");
        var bus = app.Services.GetRequiredService<IBus>();
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("mb");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;

        await bus.Publish(new TelemetryBatchReceived { AgentId = "c", Payload = TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 1000).ToByteArray() });
        var truncated = TelemetryApp.Batch(t, leaf, 2, app.Clock.GetUtcNow(), 2000).ToByteArray();
        await bus.Publish(new TelemetryBatchReceived { AgentId = "c-bad", Payload = truncated[..^5] });
        var unknown = TelemetryApp.Batch(t, leaf, 3, app.Clock.GetUtcNow(), 3000);
        unknown.SwitchName = "nowhere";
        await bus.Publish(new TelemetryBatchReceived { AgentId = "c-bad", Payload = unknown.ToByteArray() });

        JsonNode? stats = null;
        await TelemetryApp.EventuallyAsync(async () =>
        {
            (_, stats) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
            return (long)stats!["samplesAccepted"]! == 8 && stats["batchesRejected"]!.AsObject().Count >= 2;
        }, "one batch accepted and two rejected");
        Assert.True((long)stats!["batchesRejected"]!["malformed"]! >= 1, stats.ToJsonString());
        Assert.True((long)stats["batchesRejected"]!["unknownSwitch"]! >= 1, stats.ToJsonString());
        Assert.True((long)stats["agents"]!["c-bad"]!["batchesRejected"]!["unknownSwitch"]! >= 1, stats.ToJsonString());

        // A partly bad batch over HTTP, a period later: the good samples go in, the bad one is named.
        await app.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var mixed = TelemetryApp.Batch(t, leaf, 4, app.Clock.GetUtcNow(), 4000);
        mixed.Ports[2].Optics.TemperatureC = double.NaN;
        var (ms, body) = await app.PostBatchAsync(client, mixed);
        Assert.True(ms == 202, body?.ToJsonString());
        Assert.Equal(7, (int)body!["accepted"]!);
        Assert.Equal(1, (int)body["rejected"]!);
        var rejection = body["rejections"]!.AsArray().Single()!;
        Assert.Equal("notFinite", (string)rejection["reason"]!);
        Assert.Equal(3, (int)rejection["port"]!);

        // Rows are written only for the accepted samples.
        await app.AdvanceAsync(TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(1));
        await TelemetryApp.EventuallyAsync(async () => await app.ScalarAsync("SELECT count(*) FROM port_series") > 0, "rows stored");
        Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM port_series WHERE switch_name <> '" + leaf + "'"));
        Assert.Equal(0, await app.ScalarAsync("SELECT count(*) FROM port_series WHERE temperature_c_max = 'NaN'::float8 OR tx_util_max = 'NaN'::float8"));
    }

    [Fact]
    public async Task A_state_change_keeps_the_fabric_served_and_a_deletion_stops_it()
    {
        await using var app = await TelemetryApp.StartAsync(pg.Server, "dl");
        var bus = app.Services.GetRequiredService<IBus>();
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("dl");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;
        Assert.Equal(202, (await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 1000))).Status);

        // A drain changes states, not structure: the shard and its sequence state stay (a replayed batch is still a duplicate).
        await bus.Publish(new TopologyChanged { FabricName = "dl", Version = 2, PreviousVersion = 1, Kind = TopologyChangeKind.StateChanged, Changes = [], At = app.Clock.GetUtcNow() });
        await Task.Delay(200);
        var (dup, dupBody) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 1, app.Clock.GetUtcNow(), 1000));
        Assert.True(dup == 409, dupBody?.ToJsonString());

        await TelemetryApp.DeleteFabricAsync(app.ConnectionString, "dl");
        await bus.Publish(new TopologyChanged { FabricName = "dl", Version = 3, PreviousVersion = 2, Kind = TopologyChangeKind.Deleted, Changes = [], At = app.Clock.GetUtcNow() });
        await TelemetryApp.EventuallyAsync(async () =>
        {
            var (_, s) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
            return s!["fabrics"]!.AsArray().Count == 0;
        }, "fabric dl to be dropped");
        await app.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var (gone, goneBody) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, 2, app.Clock.GetUtcNow(), 2000));
        Assert.Equal(400, gone);
        Assert.NotNull(goneBody!["errors"]!["fabric"]);
    }
}
