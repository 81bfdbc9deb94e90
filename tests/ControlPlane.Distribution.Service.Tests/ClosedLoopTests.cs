using MassTransit;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.Testing;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>The service between routing and agents on the in-memory bus: tables out, acks in, make-before-break, restarts.</summary>
[Collection(ServersCollection.Name)]
public sealed class ClosedLoopTests(PostgresFixture pg)
{
    internal static async Task<(RoutingDriver Routing, TestAgents Agents, Converged Converged)> ConvergedFabricAsync(DistributionApp app, string fabric, Func<string, SwitchCapacity>? capacity = null)
    {
        var routing = new RoutingDriver(DistributionApp.SmallFt2(fabric));
        var agents = await TestAgents.StartAsync(app.Bus, DistributionApp.SmallFt2(fabric), routing.Classes, capacity);
        var converged = await Converged.StartAsync(app.Bus);
        await agents.HelloAllAsync();
        var initial = routing.Initial();
        await app.Bus.Publish(initial);
        var c = await converged.WaitAsync(initial.RoutingVersion);
        Assert.Empty(c.Lagging);
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} holds {agents.Current(sw)}, routing wants {t}");
        // Every agent here shares one queue: the first tables went in batches, not one message per switch.
        Assert.True(agents.Batches > 0 && agents.Batches < agents.Updates, $"{agents.Batches} batches for {agents.Updates} updates");
        return (routing, agents, converged);
    }

    internal static int Uplink(FabricTopology t, int nth = 0) => t.Links.Where(l => l.Role == LinkRole.LeafSpine).ElementAt(nth).Id;

    [Fact]
    public async Task Tables_of_some_planes_lost_before_the_queue_existed_are_asked_for_again_until_every_switch_has_one()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "lost", ("Distribution:RequestTablesInterval", "00:00:00.200"));
        var requests = new System.Collections.Concurrent.ConcurrentQueue<RoutesRequested>();
        var handle = app.Bus.ConnectReceiveEndpoint("lost-requests-" + Guid.NewGuid().ToString("N")[..6], cfg => cfg.Handler<RoutesRequested>(c =>
        {
            requests.Enqueue(c.Message);
            return Task.CompletedTask;
        }));
        await handle.Ready;
        var routing = new RoutingDriver(DistributionApp.SmallFt2("lost"));
        var all = routing.Initial();
        // Only the first half of the switches' tables arrive (as if the other messages went out before our queue was bound).
        await app.Bus.Publish(all with { Tables = [.. all.Tables.Take(all.Tables.Count / 2)] });
        await DistributionApp.EventuallyAsync(() => requests.Any(r => r.Fabric == "lost" && r.Reason.Contains("have no table yet")), () => $"a request for the missing tables: {string.Join("; ", requests.Select(r => r.Reason))}");
        // Routing answers with the complete set: nothing is missing any more, and the requests stop.
        await app.Bus.Publish(all with { RoutingVersion = all.RoutingVersion + 1 });
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().Rollout is null, () => "the complete set to be rolled out");
        await Task.Delay(500);
        var count = requests.Count;
        await Task.Delay(700);
        Assert.Equal(count, requests.Count);
        await handle.StopAsync();
    }

    [Fact]
    public async Task Hello_gets_the_full_table_and_a_link_failure_rolls_out_as_deltas_make_before_break_without_holes()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "mbb");
        var (routing, agents, converged) = await ConvergedFabricAsync(app, "mbb");
        await using var _a = agents;
        await using var _c = converged;
        // First tables: full tables (agents held version 0), one install per switch.
        Assert.All(agents.Installs, i => Assert.False(i.Delta));
        Assert.Equal(routing.Tables.Count, agents.Installs.Select(i => i.Switch).Distinct().Count());

        var oldTables = routing.Tables;
        agents.CheckForwarding = true;
        var before = agents.Installs.Count;
        var change = routing.Change(routing.Snapshot.WithLink(Uplink(routing.Snapshot.Topology), new ElementState(ElementStatus.Down, "los")), priority: true, "port-down", "fault-1");
        Assert.NotEmpty(change.Tables);
        await app.Bus.Publish(change);
        var c = await converged.WaitAsync(change.RoutingVersion);

        Assert.Empty(c.Lagging);
        Assert.Equal(["fault-1"], c.TriggerIds);
        Assert.Equal(change.Tables.Count, c.Switches);
        Assert.True(c.ConvergedAt >= c.ReceivedAt);
        Assert.Empty(agents.Violations);
        var installs = agents.Installs.Skip(before).ToList();
        Assert.All(installs, i => Assert.True(i.Delta, $"{i.Switch} v{i.Version} got a full table"));
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs from routing's table");

        // The install order follows the make-before-break waves: every install of wave k comes after every install of wave k-1.
        var newTables = routing.Tables.Where(kv => !oldTables[kv.Key].SameContents(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value.WithVersion(100));
        var plan = MakeBeforeBreak.Order(oldTables.ToDictionary(kv => kv.Key, kv => kv.Value.WithVersion(1)), newTables, MakeBeforeBreak.Neighbors(routing.Snapshot.Topology));
        Assert.Equal(plan.Waves.Length, c.Waves);
        Assert.True(plan.Waves.Length >= 2, "a link failure needs at least two waves (gain before loss)");
        var position = new Dictionary<(string, int), int>();
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < installs.Count; i++)
        {
            var k = seen.GetValueOrDefault(installs[i].Switch);
            position[(installs[i].Switch, k)] = i;
            seen[installs[i].Switch] = k + 1;
        }
        var stepIndex = new Dictionary<string, int>();
        var lastOfPrevious = -1;
        foreach (var wave in plan.Waves)
        {
            var at = wave.Steps.Select(s =>
            {
                var k = stepIndex.GetValueOrDefault(s.SwitchName);
                stepIndex[s.SwitchName] = k + 1;
                return position[(s.SwitchName, k)];
            }).ToList();
            Assert.True(at.Min() > lastOfPrevious, $"wave {wave.Index} installed before the previous wave was done");
            lastOfPrevious = at.Max();
        }

        // Status: everything in sync, both rollouts in the history, the session known.
        var client = app.CreateClient();
        var (st, body) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/mbb/status");
        Assert.Equal(200, st);
        Assert.Equal(routing.Tables.Count, (int)body!["summary"]!["inSync"]!);
        Assert.Equal(0, (int)body["summary"]!["lagging"]!);
        Assert.Equal(2, body["convergence"]!.AsArray().Count);
        var sw0 = newTables.Keys.First();
        var (ss, sb) = await DistributionApp.GetAsync(client, $"/api/v1/distribution/fabrics/mbb/switches/{sw0}");
        Assert.Equal(200, ss);
        Assert.Equal((ulong)sb!["desiredVersion"]!, (ulong)sb["ackedVersion"]!);
        Assert.Equal(agents.Current(sw0).Version, (ulong)sb["ackedVersion"]!);
        Assert.Equal(agents.Queue, (string)sb["session"]!["replyQueue"]!);
        Assert.Equal((string)sb["desiredDigest"]!, (string)sb["ackedDigest"]!);
        var (ls, lb) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/mbb/lagging");
        Assert.Equal(200, ls);
        Assert.Empty(lb!.AsArray());
        Assert.Contains("mbb", app.Status.ToString());
    }

    [Fact]
    public async Task An_agent_that_missed_many_versions_and_one_restarted_empty_both_converge()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "miss",
            ("Distribution:PriorityWaveTimeout", "00:00:00.100"), ("Distribution:ConvergenceTimeout", "00:00:00.300"));
        var (routing, agents, converged) = await ConvergedFabricAsync(app, "miss");
        await using var _a = agents;
        await using var _c = converged;
        var leaves = routing.Snapshot.Topology.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Name).ToList();
        var offline = leaves[^1];
        agents.Down[offline] = true;
        var held = agents.Current(offline);

        // Three failures and a repair while its agent is away: each rollout stops waiting for it and names it.
        var t = routing.Snapshot.Topology;
        var snapshots = new[]
        {
            routing.Snapshot.WithLink(Uplink(t, 0), new ElementState(ElementStatus.Down)),
            routing.Snapshot.WithLink(Uplink(t, 0), new ElementState(ElementStatus.Down)).WithLink(Uplink(t, 5), new ElementState(ElementStatus.Down)),
            routing.Snapshot.WithLink(Uplink(t, 5), new ElementState(ElementStatus.Down)),
        };
        foreach (var s in snapshots)
        {
            var m = routing.Change(s, priority: true, "port-down");
            await app.Bus.Publish(m);
            var c = await converged.WaitAsync(m.RoutingVersion);
            if (m.Tables.Count > 0 && c.Switches > 0 && routing.Tables[offline] is var want && !held.SameContents(want))
                Assert.Contains(offline, c.Lagging);
        }
        var (_, lagging) = await DistributionApp.GetAsync(app.CreateClient(), "/api/v1/distribution/fabrics/miss/lagging");
        Assert.Contains(lagging!.AsArray(), x => (string)x!["switch"]! == offline && (ulong)x["desiredVersion"]! > (ulong)x["ackedVersion"]!);
        Assert.Equal(held.Version, agents.Current(offline).Version);

        // Back: it says what it holds and gets brought up to date (a delta from the version it acknowledged).
        agents.Down.TryRemove(offline, out _);
        await agents.HelloAsync(offline);
        await DistributionApp.EventuallyAsync(() => agents.Current(offline).SameContents(routing.Tables[offline]), () => $"{offline} to catch up");
        Assert.True(agents.Installs.Last(i => i.Switch == offline).Delta);

        // A switch restarted with an empty data plane says version 0 and gets the full table.
        var restarted = leaves[0];
        agents.Reset(restarted);
        await agents.HelloAsync(restarted);
        await DistributionApp.EventuallyAsync(() => agents.Current(restarted).SameContents(routing.Tables[restarted]), () => $"{restarted} to get its table back");
        Assert.False(agents.Installs.Last(i => i.Switch == restarted).Delta);
        await DistributionApp.EventuallyAsync(async () =>
        {
            var (_, s) = await DistributionApp.GetAsync(app.CreateClient(), "/api/v1/distribution/fabrics/miss/status");
            return (int)s!["summary"]!["lagging"]! == 0;
        }, () => "every switch in sync");
    }

    [Fact]
    public async Task A_priority_rollout_does_not_wait_behind_a_congestion_rollout()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "lanes",
            ("Distribution:CongestionWaveTimeout", "00:01:00"), ("Distribution:ConvergenceTimeout", "00:01:00"), ("Distribution:CongestionUpdatesPerSecond", "100"));
        var (routing, agents, converged) = await ConvergedFabricAsync(app, "lanes");
        await using var _a = agents;
        await using var _c = converged;

        // A congestion change (weights moved on every leaf's shared group) whose acks the agents sit on.
        agents.HoldCongestion = true;
        var reweighted = routing.Tables.Values.Where(x => x.SwitchName.StartsWith("leaf", StringComparison.Ordinal)).Select(Reweight).ToList();
        var congestion = routing.Custom(reweighted, priority: false, "adaptive");
        var sentBefore = agents.Updates;
        await app.Bus.Publish(congestion);
        await DistributionApp.EventuallyAsync(() => agents.Updates > sentBefore, () => "the congestion rollout to start");
        Assert.NotNull(app.Status.Summaries.Single().Rollout);

        // A failure now: its rollout goes ahead and converges although the congestion one waits a minute per wave.
        agents.CheckForwarding = true;
        var failure = routing.Change(routing.Snapshot.WithLink(Uplink(routing.Snapshot.Topology, 3), new ElementState(ElementStatus.Down)), priority: true, "port-down", "fault-7");
        await app.Bus.Publish(failure);
        var c = await converged.WaitAsync(failure.RoutingVersion, seconds: 15);
        Assert.Empty(c.Lagging);
        Assert.Equal(["fault-7"], c.TriggerIds);
        Assert.True(c.ConvergedAt - c.ReceivedAt < TimeSpan.FromSeconds(10), $"priority rollout took {c.ConvergedAt - c.ReceivedAt}");
        foreach (var name in failure.Tables.Select(b => Protos.Fabric.V1.RouteTable.Parser.ParseFrom(b).SwitchName))
            Assert.True(agents.Current(name).SameContents(routing.Tables[name]), $"{name} did not get its failure table");

        // The held congestion updates arrive late: stale, harmless; the congestion change is reported done after.
        agents.CheckForwarding = false;
        await agents.ReleaseHeldAsync();
        var cc = await converged.WaitAsync(congestion.RoutingVersion, seconds: 15);
        Assert.Empty(cc.Lagging);
        // Reported after the priority change it made way for.
        var order = converged.All.Select(x => x.RoutingVersion).ToList();
        Assert.True(order.IndexOf(failure.RoutingVersion) < order.IndexOf(congestion.RoutingVersion), string.Join(",", order));
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single() is { Lagging: 0, Rollout: null }, () => $"all in sync: {app.Status}");
        foreach (var (sw, t) in routing.Tables.Where(kv => failure.Tables.Count > 0))
            if (!sw.StartsWith("leaf", StringComparison.Ordinal)) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs");
    }

    [Fact]
    public async Task Back_to_back_failures_merge_or_follow_and_every_trigger_is_reported_converged()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "b2b");
        var (routing, agents, converged) = await ConvergedFabricAsync(app, "b2b");
        await using var _a = agents;
        await using var _c = converged;
        agents.CheckForwarding = true;
        var t = routing.Snapshot.Topology;
        var first = routing.Change(routing.Snapshot.WithLink(Uplink(t, 1), new ElementState(ElementStatus.Down)), priority: true, "port-down", "a");
        var second = routing.Change(routing.Snapshot.WithLink(Uplink(t, 6), new ElementState(ElementStatus.Down)), priority: true, "port-down", "b");
        await Task.WhenAll(app.Bus.Publish(first), app.Bus.Publish(second));
        var c = await converged.WaitAsync(second.RoutingVersion);
        Assert.Empty(c.Lagging);
        Assert.Contains("b", c.TriggerIds);
        // Merged into one rollout (both triggers in one event) or rolled out one after the other: either way both are reported.
        Assert.Contains(converged.All, x => x.TriggerIds.Contains("a"));
        Assert.Empty(agents.Violations);
        foreach (var (sw, table) in routing.Tables) Assert.True(agents.Current(sw).SameContents(table), $"{sw} differs");
    }

    // Moves one bucket between the first two members of every group with two members or more.
    internal static SwitchTable Reweight(SwitchTable t) =>
        new(t.SwitchName, 0, t.GroupSize,
            t.Groups.Values.Select(g => g.Members.Length < 2 || g.Members[1].Weight < 2 ? g
                : new NextHopGroup(g.Id, g.Members.Select((m, i) => i == 0 ? m with { Weight = m.Weight + 1 } : i == 1 ? m with { Weight = m.Weight - 1 } : m))),
            t.Routes);

    [Fact]
    public async Task A_restarted_service_keeps_versions_and_reconnecting_agents_get_deltas()
    {
        var app = await DistributionApp.StartAsync(pg.Server, "rs");
        var cs = app.ConnectionString;
        var (routing, agents, converged) = await ConvergedFabricAsync(app, "rs");
        await using var _a = agents;
        var change = routing.Change(routing.Snapshot.WithLink(Uplink(routing.Snapshot.Topology, 1), new ElementState(ElementStatus.Down)), priority: true, "port-down");
        await app.Bus.Publish(change);
        await converged.WaitAsync(change.RoutingVersion);
        await converged.DisposeAsync();
        var versions = routing.Tables.Keys.ToDictionary(k => k, agents.Current);
        await agents.DisposeAsync();
        await app.DisposeAsync();

        // A fresh execution context: MassTransit keeps its log context in an async local captured from the first host.
        Task<DistributionApp> starting;
        using (ExecutionContext.SuppressFlow()) starting = Task.Run(() => DistributionApp.Start(cs));
        await using var again = await starting;
        var client = again.CreateClient();
        foreach (var (sw, t) in versions)
        {
            var (st, body) = await DistributionApp.GetAsync(client, $"/api/v1/distribution/fabrics/rs/switches/{sw}");
            Assert.Equal(200, st);
            Assert.Equal(t.Version, (ulong)body!["desiredVersion"]!);
            Assert.Equal(t.Version, (ulong)body["ackedVersion"]!);
        }
        await agents.ConnectAsync(again.Bus);
        await using var converged2 = await Converged.StartAsync(again.Bus);
        var updates = agents.Updates;
        await agents.HelloAllAsync();
        var repair = routing.Change(routing.Snapshot.WithLink(Uplink(routing.Snapshot.Topology, 1), ElementState.InitialUp), priority: true, "port-up");
        var installsBefore = agents.Installs.Count;
        await again.Bus.Publish(repair);
        var c = await converged2.WaitAsync(repair.RoutingVersion);
        Assert.Empty(c.Lagging);
        var after = agents.Installs.Skip(installsBefore).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, i => Assert.True(i.Delta, $"{i.Switch} got a full table after the restart"));
        Assert.All(after, i => Assert.True(i.Version > versions[i.Switch].Version));
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t));
        // The hellos of agents in sync sent nothing: only the rollout's updates went out.
        Assert.Equal(after.Count, agents.Updates - updates);
    }
}
