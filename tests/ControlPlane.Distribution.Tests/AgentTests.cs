using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;

namespace ControlPlane.Distribution.Tests;

public sealed class AgentTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static (AgentTableState Agent, InMemoryDataPlane Dp) NewAgent(int maxGroups = 100)
    {
        var dp = new InMemoryDataPlane(16, new SwitchCapacity(maxGroups, 16, 256));
        return (new AgentTableState("leaf-0", 32, dp), dp);
    }

    [Fact]
    public void Full_then_delta_applied_and_acked_with_read_back_digest()
    {
        var (agent, dp) = NewAgent();
        var rng = new Random(1);
        var v1 = Tables.Random(rng, version: 1);
        var ack = agent.Apply(TableUpdate.Full(v1));
        Assert.True(ack.Applied);
        Assert.Equal(v1.DigestBytes(), ack.InstalledDigest);
        var v2 = Tables.Mutate(v1, rng, 2);
        ack = agent.Apply(TableUpdate.Diff(TableDiff.Compute(v1, v2)));
        Assert.True(ack.Applied, ack.RejectReason);
        Assert.Equal(2UL, ack.Version);
        Assert.Equal(v2.DigestBytes(), dp.ReadBack());
        Assert.True(agent.Current.Equals(v2));
        Assert.Equal(2, dp.InstallCount);
    }

    [Fact]
    public void Delta_on_wrong_base_is_rejected_and_last_good_table_kept()
    {
        var (agent, dp) = NewAgent();
        var rng = new Random(2);
        var v1 = Tables.Random(rng, version: 1);
        agent.Apply(TableUpdate.Full(v1));
        var v2 = Tables.Mutate(v1, rng, 2);
        var v3 = Tables.Mutate(v2, rng, 3);
        var ack = agent.Apply(TableUpdate.Diff(TableDiff.Compute(v2, v3)));
        Assert.False(ack.Applied);
        Assert.Contains("base version", ack.RejectReason);
        Assert.Equal(3UL, ack.Version);
        Assert.Equal(v1.DigestBytes(), ack.InstalledDigest);
        Assert.Equal(1UL, agent.Current.Version);
    }

    [Fact]
    public void Table_full_is_rejected_with_reason_and_nothing_changes()
    {
        var (agent, dp) = NewAgent(maxGroups: 2);
        var small = new SwitchTable("leaf-0", 1, 32, [Tables.Group(1, 32, [1, 2], new Random(1))], [new(new RouteKey("leaf-1", "ep"), new RouteEntry(1, SpreadMode.Spray))]);
        Assert.True(agent.Apply(TableUpdate.Full(small)).Applied);
        var rng = new Random(3);
        var big = new SwitchTable("leaf-0", 2, 32, Enumerable.Range(1, 3).Select(i => Tables.Group(i, 32, [i, i + 1], rng)), []);
        var ack = agent.Apply(TableUpdate.Full(big));
        Assert.False(ack.Applied);
        Assert.Equal("table full: 3 groups > 2", ack.RejectReason);
        Assert.Equal(small.DigestBytes(), ack.InstalledDigest);
        Assert.Equal(1, dp.GroupCount);
    }

    [Fact]
    public void Invalid_table_and_wrong_switch_are_rejected()
    {
        var (agent, _) = NewAgent();
        var bad = new SwitchTable("leaf-0", 1, 32, [new NextHopGroup(1, [new GroupMember(99, 32)])], []);
        Assert.Contains("groups[1].members[0].port", agent.Apply(TableUpdate.Full(bad)).RejectReason);
        Assert.Contains("this agent serves", agent.Apply(TableUpdate.Full(Tables.Random(new Random(1), "leaf-9"))).RejectReason);
        Assert.Equal(0UL, agent.Current.Version);
    }

    [Fact]
    public void Agent_and_planner_converge_through_loss_reconnect_and_drift()
    {
        var (agent, dp) = NewAgent();
        var planner = new DistributionPlanner(new DistributionOptions(), new Random(7));
        var rng = new Random(4);
        var table = Tables.Random(rng, version: 1);
        planner.SetDesired(table, Lane.Priority);
        var now = T0;
        void Deliver(bool drop)
        {
            foreach (var s in planner.Plan(now).Sends)
            {
                var ack = agent.Apply(s.Update);
                if (!drop) planner.OnAck(ack);
            }
        }
        Deliver(drop: true); // ack lost
        now += TimeSpan.FromSeconds(1);
        Deliver(drop: false); // retry
        Assert.True(planner.IsAcknowledged("leaf-0", 1));

        for (ulong v = 2; v <= 6; v++)
        {
            table = Tables.Mutate(table, rng, v);
            planner.SetDesired(table, v % 2 == 0 ? Lane.Priority : Lane.Congestion);
            now += TimeSpan.FromSeconds(1);
            Deliver(drop: v == 4);
        }
        // Reconnect: the hello says what is installed.
        planner.OnHello(agent.Hello());
        Deliver(drop: false);
        Assert.True(planner.Status("leaf-0").InSync);
        Assert.Equal(table.DigestBytes(), dp.ReadBack());

        // Drift behind the agent's back: the audit read-back triggers a full-table repair.
        Assert.True(dp.CorruptRemoveRoute(table.Routes.Keys.First()) || table.Routes.Count == 0);
        if (table.Routes.Count > 0)
        {
            Assert.Equal(AckOutcome.Drift, planner.OnReadBack("leaf-0", dp.ReadBack()).Outcome);
            var send = Assert.Single(planner.Plan(now).Sends);
            Assert.False(send.IsDelta);
            planner.OnAck(agent.Apply(send.Update));
            Assert.Equal(table.DigestBytes(), dp.ReadBack());
        }
        Assert.True(planner.Status("leaf-0").InSync);
    }
}
