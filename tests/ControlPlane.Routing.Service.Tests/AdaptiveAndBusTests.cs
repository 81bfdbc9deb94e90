using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Fabric;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>The congestion loop's rate limit on the fake clock, and the port-event path over real RabbitMQ.</summary>
[Collection(ServersCollection.Name)]
public sealed class AdaptiveAndBusTests(PostgresFixture pg, RabbitMqFixture rmq)
{
    private static LinkLoad Load(int id, double up, double down) => new()
    {
        LinkId = id, UtilAtoB = up, UtilBtoA = down, ErrorRate = 0, PreFecBer = 0, DropRate = 0, EcnRate = 0, PauseRate = 0, Up = true, Fresh = true,
    };

    /// <summary>A full snapshot of plane 0 where one leaf's first uplink runs hot and its others cool.</summary>
    private static LinkLoadSnapshot Skewed(FabricTopology t, long seq, DateTimeOffset at, double hot)
    {
        var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf);
        var loads = t.Links.Where(l => l.IsSwitchLink).Select(l =>
        {
            var own = l.A.Device == leaf.Id;
            var first = own && l.A.Port == leaf.Radix / 2 + 1;
            return Load(l.Id, first ? hot : own ? 0.2 : 0.3, 0.3);
        }).ToList();
        return new LinkLoadSnapshot { Fabric = t.Name, Plane = 0, Sequence = seq, IsFull = true, PeriodEnd = at, MaxLagMs = 5, Loads = loads };
    }

    [Fact]
    public async Task Congestion_driven_recomputes_are_rate_limited_and_move_weight_off_the_hot_link()
    {
        // Synthetic snapshots on a fake clock: no settling time after a publish.
        await using var app = await RoutingApp.StartAsync(pg.Server, "adapt", ("Routing:AdaptivePeriodMs", "2000"), ("Routing:AdaptiveSettleMs", "0"));
        var t = RoutingApp.SmallFt2("adapt");
        var initial = await app.InitialTablesAsync(t);
        var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf);
        var hotPort = leaf.Radix / 2 + 1;
        using var client = app.CreateClient();

        // The first snapshot is acted on at once.
        await app.Bus.Publish(Skewed(t, 1, app.Clock.GetUtcNow(), 0.9));
        var first = await app.WaitForAsync(m => m.Reason == "adaptive", "first adaptive tables");
        Assert.False(first.Priority);
        Assert.False(first.Complete);
        var changed = RoutingApp.Decode(t, first, initial);
        Assert.Contains(leaf.Name, changed.Keys);
        Assert.All(changed, kv => Assert.False(initial[kv.Key].SameContents(kv.Value)));
        // The ep class (adaptive) sends less to a remote leaf over the hot uplink than before.
        var dest = t.Switches.Last(s => s.Tier == SwitchTier.Leaf).Name;
        int Weight(SwitchTable table) => table.Groups[table.Routes[new RouteKey(dest, "ep")].GroupId].Members.Single(m => m.Port == hotPort).Weight;
        Assert.True(Weight(changed[leaf.Name]) < Weight(initial[leaf.Name]), $"{Weight(changed[leaf.Name])} vs {Weight(initial[leaf.Name])}");
        var installed = new Dictionary<string, SwitchTable>(initial, StringComparer.Ordinal);
        foreach (var (k, v) in changed) installed[k] = v;
        RoutingApp.AssertLoopAndHoleFree(t, installed);

        // More snapshots inside the period: merged, not acted on.
        await app.Bus.Publish(Skewed(t, 2, app.Clock.GetUtcNow(), 0.8));
        await app.Bus.Publish(Skewed(t, 3, app.Clock.GetUtcNow(), 0.8));
        await RoutingApp.EventuallyAsync(async () => (long)(await RoutingApp.StatusAsync(client, "adapt"))["loadSnapshots"]! == 3, "three snapshots merged");
        // A port event behind them is handled, and still no second adaptive computation.
        await app.Bus.Publish(RoutingApp.PortEvent("adapt", t.Switches.Last(s => s.Tier == SwitchTier.Leaf).Name, leaf.Radix / 2 + 2, up: false, "between"));
        await app.WaitForAsync(m => m.TriggerIds.Contains("between"), "port event during the period");
        Assert.Equal(1, RoutingApp.Count(await RoutingApp.StatusAsync(client, "adapt"), "recomputes", "adaptive"));
        // Loads measured before that reroute describe paths that changed: only a snapshot from after it is acted on.
        await app.Bus.Publish(Skewed(t, 4, app.Clock.GetUtcNow(), 0.95));
        await RoutingApp.EventuallyAsync(async () => (long)(await RoutingApp.StatusAsync(client, "adapt"))["loadSnapshots"]! == 4, "a snapshot after the reroute merged");

        // Once the period has passed on the clock, the pending loads are acted on.
        app.Clock.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(200);
        Assert.Equal(1, RoutingApp.Count(await RoutingApp.StatusAsync(client, "adapt"), "recomputes", "adaptive"));
        app.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await RoutingApp.EventuallyAsync(async () => RoutingApp.Count(await RoutingApp.StatusAsync(client, "adapt"), "recomputes", "adaptive") == 2, "second adaptive computation");
        var status = await RoutingApp.StatusAsync(client, "adapt");
        Assert.Equal(2, (int)status["adaptiveSteps"]!);
        Assert.True((int)status["hotDirections"]! >= 1);
        foreach (var m in app.Published.All.Where(m => !m.Complete))
            foreach (var (k, v) in RoutingApp.Decode(t, m, installed)) installed[k] = v;
        RoutingApp.AssertLoopAndHoleFree(t, installed);
    }

    [Fact]
    public async Task Over_RabbitMQ_a_port_event_from_an_agent_yields_priority_tables()
    {
        var received = Channel.CreateUnbounded<RoutesComputed>();
        var amqp = new Uri(rmq.Server.AmqpUri);
        var agentBus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(amqp.Host, (ushort)amqp.Port, "/", h => { h.Username("guest"); h.Password("guest"); });
            cfg.ReceiveEndpoint($"routing-test-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                e.Handler<RoutesComputed>(ctx => received.Writer.WriteAsync(ctx.Message).AsTask());
            });
        });
        using var startCts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await agentBus.StartAsync(startCts.Token);
        try
        {
            await using var app = await RoutingApp.StartAsync(pg.Server, "rb",
                ("Bus:Transport", "RabbitMq"), ("ConnectionStrings:rabbitmq", rmq.Server.AmqpUri), ("Bus:EndpointPrefix", "r" + Guid.NewGuid().ToString("N")[..8]));
            var t = RoutingApp.SmallFt2("rb");
            await app.InitialTablesAsync(t);
            var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf);
            // The host's queues may bind after its start; resend until the event's tables arrive.
            RoutesComputed? got = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var n = 0;
            while (got is null && DateTime.UtcNow < deadline)
            {
                await agentBus.Publish(RoutingApp.PortEvent("rb", leaf.Name, leaf.Radix / 2 + 1, up: false, $"rmq-{n}"));
                n++;
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    while (got is null)
                    {
                        var m = await received.Reader.ReadAsync(wait.Token);
                        // Later copies of the same failure change nothing and come with no tables.
                        if (m.TriggerIds.Any(id => id.StartsWith("rmq-", StringComparison.Ordinal)) && m.Tables.Count + m.Deltas.Count > 0) got = m;
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
            Assert.NotNull(got);
            Assert.True(got.Priority);
            Assert.Equal("rb", got.Fabric);
            Assert.True(got.Tables.Count + got.Deltas.Count > 0, "no tables in the priority message");
        }
        finally
        {
            await agentBus.StopAsync(CancellationToken.None);
        }
    }
}
