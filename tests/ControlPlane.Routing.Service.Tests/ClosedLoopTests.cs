using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Inventory.Store;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>Initial tables, port events (down, up, forged, coalesced), drains and fabrics that come and go, on a small FT2 in PostgreSQL.</summary>
[Collection(ServersCollection.Name)]
public sealed class ClosedLoopTests(PostgresFixture pg)
{
    private static Switch Leaf(FabricTopology t, int i) => t.Switches.Where(s => s.Tier == SwitchTier.Leaf).ElementAt(i);

    [Fact]
    public async Task Initial_tables_are_complete_valid_and_loop_free()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "init");
        var t = RoutingApp.SmallFt2("init");
        var tables = await app.InitialTablesAsync(t);
        Assert.Equal(t.Switches.Select(s => s.Name).Order(), tables.Keys.Order());
        var complete = app.Published.All.Where(m => m.Complete).ToList();
        Assert.All(complete, m =>
        {
            Assert.Equal("initial", m.Reason);
            Assert.False(m.Priority);
            Assert.NotNull(m.Plane);
        });
        // Every leaf has a route to every other leaf for every class of the default policy.
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Name).ToList();
        foreach (var table in tables.Values)
            foreach (var d in leaves)
                foreach (var c in new[] { "ep", "tp", "kv", "other" })
                    Assert.True(table.Routes.ContainsKey(new RouteKey(d, c)), $"{table.SwitchName} has no route to {d}/{c}");
        RoutingApp.AssertLoopAndHoleFree(t, tables);

        using var client = app.CreateClient();
        var status = await RoutingApp.StatusAsync(client, "init");
        Assert.Equal("routing", (string)status["state"]!);
        Assert.Equal(t.Switches.Count, (int)status["switches"]!);
        Assert.True((long)status["routingVersion"]! >= 1);
        Assert.Equal(1, RoutingApp.Count(status, "recomputes", "initial"));
    }

    [Fact]
    public async Task A_port_down_from_a_leaf_agent_routes_around_the_link_and_a_port_up_restores_it()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "pd");
        var t = RoutingApp.SmallFt2("pd");
        var initial = await app.InitialTablesAsync(t);
        var leaf = Leaf(t, 0);
        var uplink = leaf.Radix / 2 + 1; // first port facing a spine
        var linkId = t.LinkAtSwitchPort(leaf.Id, uplink);
        var link = t.Links[linkId];
        var spine = t.Switches[link.B.Device];

        // Over the in-memory bus, as an agent would send it; also received by a bus subscriber.
        var received = new TaskCompletionSource<RoutesComputed>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = app.Bus.ConnectReceiveEndpoint("routes-observer-" + Guid.NewGuid().ToString("N"), e =>
            e.Handler<RoutesComputed>(ctx => { if (ctx.Message.TriggerIds.Contains("chaos-1")) received.TrySetResult(ctx.Message); return Task.CompletedTask; }));
        await handle.Ready;
        await app.Bus.Publish(RoutingApp.PortEvent("pd", leaf.Name, uplink, up: false, "chaos-1", nanos: 1_000));
        var down = await app.WaitForAsync(m => m.TriggerIds.Contains("chaos-1"), "port-down tables");
        Assert.True(down.Priority);
        Assert.False(down.Complete);
        Assert.Equal("port-down", down.Reason);
        Assert.Equal(0, down.Plane);
        Assert.NotNull(down.TriggeredAt);
        // Each changed table travels as a delta from the one sent before (on this small fabric a failure changes most routes).
        Assert.Empty(down.Tables);
        Assert.NotEmpty(down.Deltas);
        var changed = RoutingApp.Decode(t, down, initial);
        var whole = changed.Values.Sum(x => TableCodec.EncodeTable(x).Length);
        Assert.True(down.Deltas.Sum(d => d.Length) < whole, $"deltas {down.Deltas.Sum(d => d.Length)} bytes, whole tables {whole} bytes");
        Assert.Contains(leaf.Name, changed.Keys);
        Assert.Contains(spine.Name, changed.Keys);
        // Only switches whose tables changed are named.
        Assert.All(changed, kv => Assert.False(initial[kv.Key].SameContents(kv.Value), $"{kv.Key} is listed but unchanged"));
        var installed = new Dictionary<string, SwitchTable>(initial, StringComparer.Ordinal);
        foreach (var (k, v) in changed) installed[k] = v;
        Assert.DoesNotContain(installed[leaf.Name].Groups.Values, g => g.Members.Any(m => m.Port == uplink));
        Assert.DoesNotContain(installed[spine.Name].Groups.Values, g => g.Members.Any(m => m.Port == link.B.Port));
        RoutingApp.AssertLoopAndHoleFree(t, installed);
        var viaBus = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(down.RoutingVersion, viaBus.RoutingVersion);

        using var client = app.CreateClient();
        var status = await RoutingApp.StatusAsync(client, "pd");
        Assert.Equal(1, (int)status["linksDownByOverlay"]!);
        Assert.Equal(1, RoutingApp.Count(status, "recomputes", "port-down"));
        Assert.True((int)status["portEventLatencyMs"]!["count"]! >= 1);
        var (code, table) = await RoutingApp.GetAsync(client, $"/api/v1/routing/fabrics/pd/tables/{leaf.Name}");
        Assert.Equal(200, code);
        Assert.Equal(Convert.ToHexStringLower(installed[leaf.Name].Digest), (string)table!["digest"]!);
        Assert.DoesNotContain(table["groups"]!.AsArray().SelectMany(g => g!["members"]!.AsArray()), m => (int)m!["port"]! == uplink);

        // The spine's end reporting the same link down changes nothing more; the leaf's end coming up does not bring
        // the link back while the spine still reports it down; the spine's end coming up does.
        await app.Bus.Publish(RoutingApp.PortEvent("pd", spine.Name, link.B.Port, up: false, "chaos-1", nanos: 2_000));
        await app.Bus.Publish(RoutingApp.PortEvent("pd", leaf.Name, uplink, up: true, "chaos-2", nanos: 3_000));
        var stillDown = await app.WaitForAsync(m => m.TriggerIds.Contains("chaos-2"), "leaf end up");
        Assert.Empty(stillDown.Tables);
        Assert.Empty(stillDown.Deltas);
        await app.Bus.Publish(RoutingApp.PortEvent("pd", spine.Name, link.B.Port, up: true, "chaos-3", nanos: 4_000));
        var up = await app.WaitForAsync(m => m.TriggerIds.Contains("chaos-3"), "port-up tables");
        Assert.Equal("port-up", up.Reason);
        foreach (var (k, v) in RoutingApp.Decode(t, up, installed)) installed[k] = v;
        // Back to the same tables as before the failure (group ids may differ, forwarding does not).
        foreach (var s in t.Switches)
            foreach (var key in initial[s.Name].Routes.Keys)
                Assert.Equal(initial[s.Name].PortsOf(key).Order(), installed[s.Name].PortsOf(key).Order());
        RoutingApp.AssertLoopAndHoleFree(t, installed);
        status = await RoutingApp.StatusAsync(client, "pd");
        Assert.Equal(0, (int)status["linksDownByOverlay"]!);
        Assert.Equal(1, RoutingApp.Count(status, "recomputes", "port-up"));
    }

    [Fact]
    public async Task A_forged_credential_changes_nothing_and_is_counted()
    {
        // With deltas off (for a consumer that cannot apply them), changes carry whole tables.
        await using var app = await RoutingApp.StartAsync(pg.Server, "forge", ("Routing:PublishDeltas", "false"));
        var t = RoutingApp.SmallFt2("forge");
        var initial = await app.InitialTablesAsync(t);
        var victim = Leaf(t, 1);
        var attacker = Leaf(t, 2);
        var port = victim.Radix / 2 + 1;
        // The attacker's agent reports the victim's port down with its own (valid, but not the victim's) credential.
        await app.Bus.Publish(RoutingApp.PortEvent("forge", victim.Name, port, up: false, "forged", signedAs: attacker.Name));
        await app.Bus.Publish(RoutingApp.PortEvent("forge", attacker.Name, port, up: false, "genuine"));
        var genuine = await app.WaitForAsync(m => m.TriggerIds.Contains("genuine"), "the genuine event's tables");
        Assert.DoesNotContain(app.Published.All, m => m.TriggerIds.Contains("forged"));
        Assert.Empty(genuine.Deltas);
        Assert.NotEmpty(RoutingApp.Decode(t, genuine));

        using var client = app.CreateClient();
        var status = await RoutingApp.StatusAsync(client, "forge");
        Assert.Equal(1, RoutingApp.Count(status, "rejectedPortEvents", "badCredential"));
        Assert.Equal(1, (int)status["linksDownByOverlay"]!);
        Assert.Equal(1, (long)status["portEvents"]!);
        var (_, table) = await RoutingApp.GetAsync(client, $"/api/v1/routing/fabrics/forge/tables/{victim.Name}");
        Assert.Contains(table!["groups"]!.AsArray().SelectMany(g => g!["members"]!.AsArray()), m => (int)m!["port"]! == port);
    }

    [Fact]
    public async Task Port_events_that_queue_up_fold_into_one_computation()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "burst");
        var t = RoutingApp.SmallFt2("burst");
        await app.InitialTablesAsync(t);
        var intake = app.Services.GetRequiredService<PortEventIntake>();
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).Take(4).ToList();
        // Handed to the intake back to back, faster than a computation: they queue and fold.
        foreach (var (l, i) in leaves.Select((l, i) => (l, i)))
            Assert.True(intake.Accept(RoutingApp.PortEvent("burst", l.Name, l.Radix / 2 + 1 + i % 2, up: false, $"b-{i}"), System.Diagnostics.Stopwatch.GetTimestamp()));
        await RoutingApp.EventuallyAsync(() => Task.FromResult(leaves.Select((_, i) => $"b-{i}").All(id => app.Published.All.Any(m => m.TriggerIds.Contains(id)))), "every burst trigger published");
        var messages = app.Published.All.Where(m => m.TriggerIds.Any(id => id.StartsWith("b-", StringComparison.Ordinal))).ToList();
        Assert.True(messages.Count < leaves.Count, $"{messages.Count} messages for {leaves.Count} events");
        Assert.All(messages, m => Assert.Equal(m.TriggerIds.Count, m.TriggerIds.Distinct().Count()));
        var installed = new Dictionary<string, SwitchTable>(await app.InitialTablesAsync(t), StringComparer.Ordinal);
        foreach (var m in messages)
            foreach (var (k, v) in RoutingApp.Decode(t, m, installed)) installed[k] = v;
        RoutingApp.AssertLoopAndHoleFree(t, installed);
        using var client = app.CreateClient();
        Assert.Equal(4, (int)(await RoutingApp.StatusAsync(client, "burst"))["linksDownByOverlay"]!);
    }

    [Fact]
    public async Task A_drained_spine_gets_no_traffic_and_a_fabric_created_later_is_routed_and_a_deleted_one_dropped()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "drain");
        var t = RoutingApp.SmallFt2("drain");
        var initial = await app.InitialTablesAsync(t);
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine);

        ChangeResult change;
        await using (var db = RoutingApp.Db(app.ConnectionString))
            (change, _) = await new FabricRepository(db, TimeProvider.System).ChangeSwitchStateAsync("drain", spine.Name, new StateChange(ElementStatus.Drained, "maintenance window", "sre", null));
        var ev = change.Event;
        await app.Bus.Publish(ev);
        var drained = await app.WaitForAsync(m => m.Reason == "drain", "drain tables");
        Assert.True(drained.Priority);
        Assert.Equal(0, drained.Plane);
        var installed = new Dictionary<string, SwitchTable>(initial, StringComparer.Ordinal);
        foreach (var (k, v) in RoutingApp.Decode(t, drained, installed)) installed[k] = v;
        var neighbor = MakeBeforeBreak.Neighbors(t);
        foreach (var leaf in t.Switches.Where(s => s.Tier == SwitchTier.Leaf))
            Assert.DoesNotContain(installed[leaf.Name].Groups.Values, g => g.Members.Any(m => neighbor(leaf.Name, m.Port) == spine.Name));
        // Nothing is sent to the drained spine, so walks start everywhere else.
        RoutingApp.AssertLoopAndHoleFree(t, installed, skipSources: [spine.Name]);
        using var client = app.CreateClient();
        var status = await RoutingApp.StatusAsync(client, "drain");
        Assert.Equal(ev.Version, (long)status["inventoryVersion"]!);
        var (hc, health) = await RoutingApp.GetAsync(client, "/api/v1/routing/fabrics/drain/health");
        Assert.Equal(200, hc);
        Assert.True((double)health!["planes"]![0]!["liveSwitchFraction"]! < 1);

        // A duplicate of the same event changes nothing.
        var before = app.Published.All.Count;
        await app.Bus.Publish(ev);
        await app.Bus.Publish(RoutingApp.PortEvent("drain", Leaf(t, 1).Name, Leaf(t, 1).Radix / 2 + 2, up: false, "after-dup"));
        await app.WaitForAsync(m => m.TriggerIds.Contains("after-dup"), "event after the duplicate");
        Assert.Equal(before + 1, app.Published.All.Count);

        // A fabric created after start is routed once its TopologyChanged arrives.
        var t2 = RoutingApp.SmallFt2("later");
        await RoutingApp.CreateFabricAsync(app.ConnectionString, t2);
        await app.Bus.Publish(new TopologyChanged { FabricName = "later", Version = 1, PreviousVersion = 0, Kind = TopologyChangeKind.Created, Changes = [], At = app.Clock.GetUtcNow() });
        var later = await app.InitialTablesAsync(t2);
        RoutingApp.AssertLoopAndHoleFree(t2, later);

        // Deleted: its state is dropped.
        TopologyChanged deleted;
        await using (var db = RoutingApp.Db(app.ConnectionString))
            deleted = await new FabricRepository(db, TimeProvider.System).DeleteAsync("later");
        await app.Bus.Publish(deleted);
        await RoutingApp.EventuallyAsync(async () => (await RoutingApp.GetAsync(client, "/api/v1/routing/fabrics/later/status")).Status == 404, "fabric 'later' dropped");
    }
}
