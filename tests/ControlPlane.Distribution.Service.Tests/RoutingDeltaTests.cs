using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>Routing's tables as deltas from the ones it sent before: applied, rolled out; a missing base asks for complete tables.</summary>
[Collection(ServersCollection.Name)]
public sealed class RoutingDeltaTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_failure_sent_as_deltas_is_rolled_out_like_full_tables()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "deltas");
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "deltas");
        await using var _a = agents;
        await using var _c = converged;
        var change = routing.ChangeAsDeltas(routing.Snapshot.WithLink(ClosedLoopTests.Uplink(routing.Snapshot.Topology, 1), new ElementState(ElementStatus.Down)), priority: true, "port-down", "d-1");
        Assert.Empty(change.Tables);
        Assert.NotEmpty(change.Deltas);
        await app.Bus.Publish(change);
        var c = await converged.WaitAsync(change.RoutingVersion);
        Assert.Empty(c.Lagging);
        Assert.Equal(change.Deltas.Count, c.Switches);
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs from routing's table");

        // The repair, again as deltas from what was just sent.
        var repair = routing.ChangeAsDeltas(routing.Snapshot.WithLink(ClosedLoopTests.Uplink(routing.Snapshot.Topology, 1), new ElementState(ElementStatus.Up)), priority: true, "port-up", "d-2");
        await app.Bus.Publish(repair);
        Assert.Empty((await converged.WaitAsync(repair.RoutingVersion)).Lagging);
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs after the repair");
        // The same message delivered again changes nothing and asks for nothing.
        await app.Bus.Publish(repair);
        await Task.Delay(300);
        Assert.Equal(0, app.Status.Intake.GetValueOrDefault("routesWithoutBase"));
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs after a redelivery");
    }

    [Fact]
    public async Task Deltas_without_their_base_stale_messages_and_bad_delta_bytes_change_nothing()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "nobase");
        var requests = new ConcurrentQueue<RoutesRequested>();
        var handle = app.Bus.ConnectReceiveEndpoint("nobase-requests-" + Guid.NewGuid().ToString("N")[..6], cfg => cfg.Handler<RoutesRequested>(c =>
        {
            requests.Enqueue(c.Message);
            return Task.CompletedTask;
        }));
        await handle.Ready;
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "nobase");
        await using var _a = agents;
        await using var _c = converged;
        var held = routing.Tables.ToDictionary(kv => kv.Key, kv => agents.Current(kv.Key));
        var link = ClosedLoopTests.Uplink(routing.Snapshot.Topology, 3);

        // A delta from a version distribution never got (as if a message was lost): refused whole, complete tables asked for.
        var change = routing.ChangeAsDeltas(routing.Snapshot.WithLink(link, new ElementState(ElementStatus.Down)), priority: true, "port-down");
        var first = TableCodec.DecodeDelta(change.Deltas[0]);
        var wrongBase = new TableDelta(first.SwitchName, first.BaseVersion + 7, first.Version, first.UpsertGroups, first.RemoveGroupIds, first.UpsertRoutes, first.RemoveRoutes, first.Digest.AsSpan());
        await app.Bus.Publish(change with { Deltas = [TableCodec.EncodeDelta(wrongBase), .. change.Deltas.Skip(1)] });
        await DistributionApp.EventuallyAsync(() => app.Status.Intake.GetValueOrDefault("routesWithoutBase") == 1, () => "the delta without its base refused");
        await DistributionApp.EventuallyAsync(() => requests.Any(r => r.Fabric == "nobase" && r.Reason.Contains(first.SwitchName, StringComparison.Ordinal)),
            () => $"complete tables asked for, naming the switch: {string.Join("; ", requests.Select(r => r.Reason))}");

        // Bytes that are not a RouteDelta: counted as malformed.
        var malformed = app.Status.Summaries.Single().Malformed;
        await app.Bus.Publish(change with { Deltas = [[0x0a, 0xff, 0x01]] });
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().Malformed == malformed + 1, () => "the bad delta counted");

        // Routing answers with complete tables; then an older message (overtaken) is ignored as stale.
        var complete = routing.Message(routing.Tables.Values, priority: false, complete: true, "requested");
        await app.Bus.Publish(complete);
        Assert.Empty((await converged.WaitAsync(complete.RoutingVersion)).Lagging);
        await app.Bus.Publish(change with { RoutingVersion = complete.RoutingVersion - 5, Deltas = [], Tables = [TableCodec.EncodeTable(held[first.SwitchName].WithVersion(0))] });
        await DistributionApp.EventuallyAsync(() => app.Status.Intake.GetValueOrDefault("staleRoutes") == 1, () => "the overtaken message ignored");
        await Task.Delay(300);
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs from routing's latest table");
        await handle.StopAsync();
    }

    [Fact]
    public async Task A_restarted_routing_numbering_from_one_again_is_followed_from_its_first_complete_set()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "rerouting");
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "rerouting");
        await using var _a = agents;
        await using var _c = converged;
        var link = ClosedLoopTests.Uplink(routing.Snapshot.Topology, 2);
        var change = routing.ChangeAsDeltas(routing.Snapshot.WithLink(link, new ElementState(ElementStatus.Down)), priority: true, "port-down");
        await app.Bus.Publish(change);
        Assert.Empty((await converged.WaitAsync(change.RoutingVersion)).Lagging);

        // Routing restarts: its versions start from 1 again, below what distribution holds; the link is back meanwhile.
        var restarted = new RoutingDriver(DistributionApp.SmallFt2("rerouting"));
        var complete = restarted.Initial();
        Assert.True(complete.RoutingVersion < 2);
        await app.Bus.Publish(complete);
        await DistributionApp.EventuallyAsync(() => restarted.Tables.All(kv => agents.Current(kv.Key).SameContents(kv.Value)), () => "the restarted routing's tables on every agent");
        // Its next change, as deltas from its own complete set, applies too; nothing was refused on the way.
        var next = restarted.ChangeAsDeltas(restarted.Snapshot.WithLink(link, new ElementState(ElementStatus.Down)), priority: true, "port-down");
        await app.Bus.Publish(next);
        await DistributionApp.EventuallyAsync(() => restarted.Tables.All(kv => agents.Current(kv.Key).SameContents(kv.Value)), () => "the restarted routing's delta on every agent");
        Assert.Equal(0, app.Status.Intake.GetValueOrDefault("staleRoutes"));
        Assert.Equal(0, app.Status.Intake.GetValueOrDefault("routesWithoutBase"));
    }
}
