using ControlPlane.Distribution;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Tests;

public sealed class PlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static DistributionPlanner Planner(DistributionOptions? o = null) => new(o ?? new DistributionOptions(), new Random(42));

    private static SwitchTable Table(string name, ulong version, int seed) => Tables.Random(new Random(seed), name, version);

    private static AgentAck Ack(SwitchTable t) => new(t.SwitchName, t.Version, true, null, t.DigestBytes());

    [Fact]
    public void First_send_is_full_then_delta_from_acknowledged_base()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.False(send.IsDelta);
        Assert.Equal(AckOutcome.Applied, p.OnAck(Ack(v1)).Outcome);
        Assert.Empty(p.Plan(T0).Sends);

        var v2 = Tables.Mutate(v1, new Random(2), 2);
        p.SetDesired(v2, Lane.Congestion);
        send = Assert.Single(p.Plan(T0).Sends);
        Assert.True(send.IsDelta);
        Assert.Equal(1UL, send.Update.Delta!.BaseVersion);
        Assert.True(send.Update.Delta.ApplyTo(v1).Table!.Equals(v2));
    }

    [Fact]
    public void Unacknowledged_send_is_retried_with_growing_jittered_backoff_then_as_full_table()
    {
        var o = new DistributionOptions { InitialRetry = TimeSpan.FromMilliseconds(100), Jitter = 0.2, FullTableAfterAttempts = 3 };
        var p = Planner(o);
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        p.OnAck(Ack(v1));
        p.SetDesired(Tables.Mutate(v1, new Random(3), 2), Lane.Priority);

        var now = T0;
        var first = p.Plan(now);
        Assert.True(Assert.Single(first.Sends).IsDelta);
        var expected = 100.0;
        for (var attempt = 2; attempt <= 5; attempt++)
        {
            var due = first.NextWakeUp!.Value;
            var wait = (due - now).TotalMilliseconds;
            Assert.InRange(wait, expected * 0.8 - 0.01, expected * 1.2 + 0.01);
            Assert.Empty(p.Plan(due - TimeSpan.FromMilliseconds(1)).Sends);
            now = due;
            first = p.Plan(now);
            var send = Assert.Single(first.Sends);
            Assert.Equal(attempt, send.Attempt);
            Assert.Equal(SendReason.Retry, send.Reason);
            Assert.Equal(attempt <= 3, send.IsDelta);
            expected *= 2;
        }
    }

    [Fact]
    public void Duplicate_stale_and_unknown_acks_never_lower_or_raise_wrongly()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        var v2 = Tables.Mutate(v1, new Random(4), 2);
        p.SetDesired(v2, Lane.Priority);
        p.Plan(T0);
        Assert.Equal(AckOutcome.Applied, p.OnAck(Ack(v2)).Outcome);
        Assert.Equal(AckOutcome.Stale, p.OnAck(Ack(v1)).Outcome); // out of order
        Assert.Equal(AckOutcome.Duplicate, p.OnAck(Ack(v2)).Outcome);
        Assert.Equal(AckOutcome.UnknownVersion, p.OnAck(new AgentAck("s", 9, true, null, v2.DigestBytes())).Outcome);
        Assert.Equal(AckOutcome.UnknownSwitch, p.OnAck(new AgentAck("nope", 1, true, null, [])).Outcome);
        var st = p.Status("s");
        Assert.Equal(2UL, st.AckedVersion);
        Assert.True(st.InSync);
    }

    [Fact]
    public void Ack_for_desired_but_unsent_version_is_ignored()
    {
        var p = Planner(new DistributionOptions { CongestionUpdatesPerSecond = 1 });
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Congestion);
        p.Plan(T0);
        p.OnAck(Ack(v1));
        var v2 = Tables.Mutate(v1, new Random(8), 2);
        p.SetDesired(v2, Lane.Congestion);
        Assert.Empty(p.Plan(T0).Sends); // rate-limited: v2 not sent yet
        Assert.Equal(AckOutcome.UnknownVersion, p.OnAck(Ack(v2)).Outcome);
        Assert.Equal(1UL, p.Status("s").AckedVersion);
    }

    [Fact]
    public void Newer_desired_version_supersedes_unsent_older_one()
    {
        var p = Planner();
        p.SetDesired(Table("s", 1, 1), Lane.Congestion);
        p.SetDesired(Table("s", 2, 2), Lane.Congestion);
        p.SetDesired(Table("s", 3, 3), Lane.Congestion);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.Equal(3UL, send.Update.Version);
        Assert.Throws<ArgumentException>(() => p.SetDesired(Table("s", 3, 4), Lane.Congestion));
    }

    [Fact]
    public void Priority_lane_goes_first_and_is_not_rate_limited()
    {
        var p = Planner(new DistributionOptions { MaxSendsPerPlan = 2, CongestionUpdatesPerSecond = 1 });
        for (var i = 0; i < 5; i++) p.SetDesired(Table($"a{i}", 1, i), Lane.Congestion);
        p.SetDesired(Table("z-failed", 1, 9), Lane.Priority);
        var plan = p.Plan(T0);
        Assert.Equal(2, plan.Sends.Count);
        Assert.Equal("z-failed", plan.Sends[0].SwitchName);
        Assert.Equal(Lane.Priority, plan.Sends[0].Lane);
        Assert.Equal(4, plan.OverBudget.Count);

        // Priority updates in a row on one switch: never rate-limited.
        var q = Planner(new DistributionOptions { CongestionUpdatesPerSecond = 1 });
        for (ulong v = 1; v <= 4; v++)
        {
            q.SetDesired(Table("s", v, (int)v), Lane.Priority);
            Assert.Single(q.Plan(T0).Sends);
        }
    }

    [Fact]
    public void Lanes_interleaved_by_name_give_priority_sends_then_congestion_sends_each_in_name_order()
    {
        var p = Planner(new DistributionOptions { MaxSendsPerPlan = 5 });
        string[] names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        for (var i = 0; i < names.Length; i++) p.SetDesired(Table(names[i], 1, i), i % 3 == 1 ? Lane.Priority : Lane.Congestion);
        var plan = p.Plan(T0);
        Assert.Equal(["b", "e", "h", "a", "c"], plan.Sends.Select(x => x.SwitchName));
        Assert.Equal([Lane.Priority, Lane.Priority, Lane.Priority, Lane.Congestion, Lane.Congestion], plan.Sends.Select(x => x.Lane));
        Assert.Equal(["d", "f", "g"], plan.OverBudget);
    }

    [Fact]
    public void IsInSync_agrees_with_the_status_through_send_ack_drift_and_repair()
    {
        var p = Planner();
        var t = Table("s", 1, 3);
        p.SetDesired(t, Lane.Priority);
        Assert.False(p.IsInSync("s"));
        Assert.Equal(p.Status("s").InSync, p.IsInSync("s"));
        p.Plan(T0);
        p.OnAck(new AgentAck("s", 1, true, null, t.DigestBytes()));
        Assert.True(p.IsInSync("s"));
        Assert.Equal(p.Status("s").InSync, p.IsInSync("s"));
        p.OnReadBack("s", new byte[32]); // drifted: repair pending
        Assert.False(p.IsInSync("s"));
        Assert.Equal(p.Status("s").InSync, p.IsInSync("s"));
        Assert.Throws<KeyNotFoundException>(() => p.IsInSync("nope"));
    }

    [Fact]
    public void Congestion_superseding_unacked_priority_keeps_priority_lane()
    {
        var p = Planner(new DistributionOptions { CongestionUpdatesPerSecond = 1 });
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Congestion);
        p.Plan(T0);
        p.OnAck(Ack(v1));
        p.SetDesired(Table("s", 2, 2), Lane.Priority);
        p.SetDesired(Table("s", 3, 3), Lane.Congestion);
        var send = Assert.Single(p.Plan(T0 + TimeSpan.FromMilliseconds(10)).Sends);
        Assert.Equal(Lane.Priority, send.Lane);
        Assert.Equal(3UL, send.Update.Version);
    }

    [Fact]
    public void Congestion_lane_is_rate_limited_per_switch_per_second()
    {
        var p = Planner(new DistributionOptions { CongestionUpdatesPerSecond = 2 });
        var sent = 0;
        var now = T0;
        for (ulong v = 1; v <= 10; v++)
        {
            var t = Table("s", v, (int)v);
            p.SetDesired(t, Lane.Congestion);
            var plan = p.Plan(now);
            foreach (var s in plan.Sends) p.OnAck(new AgentAck("s", s.Update.Version, true, null, t.DigestBytes()));
            sent += plan.Sends.Count;
            now += TimeSpan.FromMilliseconds(100);
        }
        // 10 versions over 1 s: at most 2 sends in [0, 1 s).
        Assert.Equal(2, sent);
        var later = p.Plan(T0 + TimeSpan.FromSeconds(1.5));
        Assert.Equal(10UL, Assert.Single(later.Sends).Update.Version);
    }

    [Fact]
    public void Reconnect_in_sync_gets_delta_drifted_gets_full_table()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        p.OnAck(Ack(v1));
        var v2 = Tables.Mutate(v1, new Random(5), 2);
        p.SetDesired(v2, Lane.Priority);
        p.Plan(T0); // lost with the connection

        Assert.Equal(AckOutcome.InSync, p.OnHello(new AgentHelloInfo("s", 1, v1.DigestBytes())).Outcome);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.True(send.IsDelta);
        Assert.Equal(SendReason.Reconnect, send.Reason);

        Assert.Equal(AckOutcome.Drift, p.OnHello(new AgentHelloInfo("s", 1, new byte[32])).Outcome);
        send = Assert.Single(p.Plan(T0).Sends);
        Assert.False(send.IsDelta);
        Assert.Equal(SendReason.Repair, send.Reason);

        Assert.Equal(AckOutcome.NeedsFullTable, p.OnHello(new AgentHelloInfo("s", 0, [])).Outcome);
        Assert.False(Assert.Single(p.Plan(T0).Sends).IsDelta);
        Assert.Equal(0UL, p.Status("s").AckedVersion);
    }

    [Fact]
    public void Reconnect_holding_the_desired_version_needs_nothing()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        Assert.Equal(AckOutcome.InSync, p.OnHello(new AgentHelloInfo("s", 1, v1.DigestBytes())).Outcome);
        Assert.Empty(p.Plan(T0).Sends);
        Assert.Equal(1UL, p.Status("s").DesiredVersion);
        Assert.True(p.Status("s").InSync);
    }

    [Fact]
    public void Agent_ahead_of_planner_gets_renumbered_full_table()
    {
        var p = Planner();
        p.SetDesired(Table("s", 1, 1), Lane.Priority);
        Assert.Equal(AckOutcome.NeedsFullTable, p.OnHello(new AgentHelloInfo("s", 57, new byte[32])).Outcome);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.Equal(58UL, send.Update.Version);
        Assert.False(send.IsDelta);
    }

    [Fact]
    public void Rejected_delta_is_followed_by_full_table_and_rejected_full_table_blocks()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        p.OnAck(Ack(v1));
        var v2 = Tables.Mutate(v1, new Random(6), 2);
        p.SetDesired(v2, Lane.Priority);
        Assert.True(Assert.Single(p.Plan(T0).Sends).IsDelta);
        Assert.Equal(AckOutcome.Rejected, p.OnAck(new AgentAck("s", 2, false, "base version mismatch", v1.DigestBytes())).Outcome);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.False(send.IsDelta);
        Assert.Equal(SendReason.AfterReject, send.Reason);
        Assert.Equal(AckOutcome.Rejected, p.OnAck(new AgentAck("s", 2, false, "table full: 9 groups > 4", v1.DigestBytes())).Outcome);
        Assert.Empty(p.Plan(T0 + TimeSpan.FromMinutes(1)).Sends);
        Assert.Contains("table full", p.Status("s").BlockedReason);
        p.SetDesired(Tables.Mutate(v1, new Random(7), 3), Lane.Priority);
        Assert.Single(p.Plan(T0 + TimeSpan.FromMinutes(1)).Sends);
    }

    [Fact]
    public void Ack_with_wrong_installed_digest_or_drifted_read_back_triggers_repair()
    {
        var p = Planner();
        var v1 = Table("s", 1, 1);
        p.SetDesired(v1, Lane.Priority);
        p.Plan(T0);
        Assert.Equal(AckOutcome.Drift, p.OnAck(new AgentAck("s", 1, true, null, new byte[32])).Outcome);
        var send = Assert.Single(p.Plan(T0).Sends);
        Assert.Equal(SendReason.Repair, send.Reason);
        Assert.False(send.IsDelta);
        Assert.Equal(AckOutcome.Applied, p.OnAck(Ack(v1)).Outcome);
        Assert.True(p.IsAcknowledged("s", 1));
        Assert.Equal(AckOutcome.InSync, p.OnReadBack("s", v1.DigestBytes()).Outcome);
        Assert.Equal(AckOutcome.Drift, p.OnReadBack("s", new byte[32]).Outcome);
        Assert.False(Assert.Single(p.Plan(T0).Sends).IsDelta);
    }

    [Fact]
    public void Table_that_would_not_fit_is_refused_before_sending_and_coarsened_one_goes()
    {
        var p = Planner();
        p.SetCapacity("s", new SwitchCapacity(2, 16, 256));
        var rng = new Random(11);
        var big = new SwitchTable("s", 1, 32, Enumerable.Range(1, 3).Select(i => Tables.Group(i, 32, [1, 2, 3], rng)),
            Enumerable.Range(1, 3).Select(i => new KeyValuePair<RouteKey, RouteEntry>(new RouteKey($"leaf-{i}", "ep"), new RouteEntry(i, SpreadMode.Spray))));
        var refused = p.SetDesired(big, Lane.Priority);
        Assert.Equal("table full: 3 groups > 2", Assert.Single(refused).Reason);
        Assert.Empty(p.Plan(T0).Sends);
        Assert.Equal(0UL, p.Status("s").DesiredVersion);
        var fit = Coarsening.Fit(big, new SwitchCapacity(2, 16, 256));
        Assert.True(fit.Fits, fit.Reason);
        Assert.Empty(p.SetDesired(fit.Table!, Lane.Priority));
        Assert.Equal(1UL, Assert.Single(p.Plan(T0).Sends).Update.Version);
    }

    [Fact]
    public void Invalid_options_name_the_field()
    {
        var ex = Assert.Throws<FabricInputException>(() => new DistributionPlanner(new DistributionOptions { Jitter = 2 }, new Random(1)));
        Assert.Equal("jitter", ex.Errors[0].Field);
    }
}
