using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Tests;

/// <summary>The pieces together, as the distribution service and the emulated fabric will use them.</summary>
public sealed class RolloutDriveTests
{
    [Fact]
    public void Rollout_through_planner_and_agents_reaches_new_tables_without_holes()
    {
        var t = TreeTables.Ft2(6);
        var nb = MakeBeforeBreak.Neighbors(t);
        var spine = t.Switches.First(s => s.Tier != SwitchTier.Leaf).Id;
        var links = TreeTables.SwitchLinks(t).Where(l => l.B.Device == spine).ToList();
        var oldT = TreeTables.Compute(t, new HashSet<int> { links[0].Id }, 1);
        var newT = TreeTables.Compute(t, new HashSet<int> { links[1].Id }, 3);

        var planes = t.Switches.ToDictionary(s => s.Name, s => new InMemoryDataPlane(s.Radix, SwitchCapacity.For(s)));
        var agents = t.Switches.ToDictionary(s => s.Name, s => new AgentTableState(s.Name, 12, planes[s.Name]));
        var planner = new DistributionPlanner(new DistributionOptions(), new Random(3));
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        void Pump()
        {
            foreach (var send in planner.Plan(now).Sends) planner.OnAck(agents[send.SwitchName].Apply(send.Update));
        }
        foreach (var table in oldT.Values) planner.SetDesired(table, Lane.Priority);
        Pump();
        Assert.All(oldT.Values, x => Assert.True(planner.IsAcknowledged(x.SwitchName, 1)));

        var plan = MakeBeforeBreak.Order(oldT, newT, nb);
        Assert.Empty(plan.Unordered);
        var rounds = 0;
        while (plan.Releasable(step => planner.IsAcknowledged(step.SwitchName, step.Table.Version)) is { Count: > 0 } steps)
        {
            foreach (var step in steps)
            {
                if (planner.Status(step.SwitchName).DesiredVersion < step.Table.Version) planner.SetDesired(step.Table, Lane.Priority);
            }
            now += TimeSpan.FromMilliseconds(10);
            Pump();
            var installed = agents.ToDictionary(a => a.Key, a => a.Value.Current);
            foreach (var src in oldT.Keys.Where(n => n.StartsWith("leaf", StringComparison.Ordinal)))
                foreach (var dst in oldT.Keys.Where(n => n.StartsWith("leaf", StringComparison.Ordinal)))
                    Assert.Null(ForwardingCheck.Walk(installed, nb, src, new RouteKey(dst, "default")));
            Assert.True(++rounds < 10);
        }
        Assert.All(newT, kv => Assert.True(agents[kv.Key].Current.SameContents(kv.Value)));
        Assert.All(newT, kv => Assert.Equal(kv.Value.DigestBytes(), planes[kv.Key].ReadBack()));
    }
}
