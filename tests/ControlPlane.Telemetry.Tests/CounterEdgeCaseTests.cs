using ControlPlane.Protos.Fabric.V1;
using static ControlPlane.Telemetry.Tests.Fixtures;

namespace ControlPlane.Telemetry.Tests;

/// <summary>Rates from counters: wrap, reset, gap, duplicate, out of order, skew.</summary>
public class CounterEdgeCaseTests
{
    private readonly TelemetryPipeline _p = new(SmallFabric());
    private readonly ScriptedAgent _leaf = new("leaf-0");
    private int Leaf0 => _p.Layout.Topology.FindSwitch("leaf-0");

    private IngestResult Send(long t, params PortSample[] ports) => _p.Ingest(_leaf.Next(t, ports), t + Ms);

    private static ulong Bytes(double util, double seconds) => (ulong)(util * LineBytes * seconds);

    [Fact]
    public void First_sample_is_a_baseline_and_the_second_gives_the_rate()
    {
        Assert.Equal(1, Send(T0, Port(3, tx: 1_000)).SamplesAccepted);
        Assert.False(_p.GetPort(Leaf0, 3)!.HasRates);
        Send(T0 + 100 * Ms, Port(3, tx: 1_000 + Bytes(0.5, 0.1)));
        var v = _p.GetPort(Leaf0, 3)!;
        Assert.True(v.HasRates);
        Assert.Equal(0.5, v.TxUtil, 4);
    }

    [Fact]
    public void Smoothing_follows_the_documented_time_constant()
    {
        Send(T0, Port(3, tx: 0));
        Send(T0 + 100 * Ms, Port(3, tx: Bytes(0.5, 0.1)));
        Send(T0 + 200 * Ms, Port(3, tx: Bytes(0.5, 0.1) + Bytes(1.0, 0.1)));
        // s = 0.5 + (1.0 - 0.5) * (1 - exp(-0.1 / 0.5))
        Assert.Equal(0.5 + 0.5 * (1 - Math.Exp(-0.2)), _p.GetPort(Leaf0, 3)!.TxUtil, 4);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(20)]
    [InlineData(4)]
    public void A_step_is_63_percent_through_after_one_time_constant_whatever_the_poll_rate(int hz)
    {
        var p = new TelemetryPipeline(SmallFabric());
        var a = new ScriptedAgent("leaf-0");
        var step = Sec / hz;
        ulong tx = 0;
        long t = T0;
        p.Ingest(a.Next(t, Port(3, tx: tx)), t + Ms);
        for (var i = 0; i < hz; i++) // 1 s at 20%
        {
            t += step; tx += (ulong)(0.2 * LineBytes * step / 1e9);
            p.Ingest(a.Next(t, Port(3, tx: tx)), t + Ms);
        }
        for (var i = 0; i < hz / 2; i++) // 0.5 s = tau at 80%
        {
            t += step; tx += (ulong)(0.8 * LineBytes * step / 1e9);
            p.Ingest(a.Next(t, Port(3, tx: tx)), t + Ms);
        }
        Assert.Equal(0.2 + 0.6 * (1 - Math.Exp(-1)), p.GetPort(Leaf0, 3)!.TxUtil, 3);
    }

    [Fact]
    public void Rate_is_right_across_a_64_bit_wrap_and_the_wrap_is_counted()
    {
        var start = ulong.MaxValue - Bytes(0.2, 0.1) + 1;
        Send(T0, Port(3, tx: start));
        var inc = Bytes(0.6, 0.1);
        var r = Send(T0 + 100 * Ms, Port(3, tx: unchecked(start + inc)));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(0.6, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        Assert.Equal(1, _p.Metrics.Read().CounterWraps);
    }

    [Fact]
    public void Reboot_with_a_new_boot_id_rebaselines_without_a_bogus_rate()
    {
        Send(T0, Port(3, tx: 0));
        Send(T0 + 100 * Ms, Port(3, tx: Bytes(0.3, 0.1)));
        _leaf.BootId = 2;
        // After the reboot the counter is small but larger than zero: without boot_id it would look like a huge drop.
        var r = Send(T0 + 200 * Ms, Port(3, tx: 12_345));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(0.3, _p.GetPort(Leaf0, 3)!.TxUtil, 4); // unchanged: no rate for the reset interval
        Assert.Equal(1, _p.Metrics.Read().CounterResets);
        Send(T0 + 300 * Ms, Port(3, tx: 12_345 + Bytes(0.3, 0.1)));
        Assert.Equal(0.3, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
    }

    [Fact]
    public void Counter_that_drops_without_any_indicator_is_a_reset_not_a_wrap()
    {
        Send(T0, Port(3, tx: 50_000_000_000, rx: 70_000_000_000));
        Send(T0 + 100 * Ms, Port(3, tx: 50_000_000_000 + Bytes(0.4, 0.1), rx: 70_000_000_000));
        var r = Send(T0 + 200 * Ms, Port(3, tx: 1_000, rx: 2_000));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Empty(r.Rejections);
        Assert.Equal(0.4, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        var m = _p.Metrics.Read();
        Assert.Equal(1, m.CounterResets);
        Assert.Equal(0, m.CounterWraps);
    }

    [Fact]
    public void Cleared_port_counters_with_a_new_epoch_reset_only_that_port()
    {
        Send(T0, Port(3, tx: 0), Port(4, tx: 0));
        Send(T0 + 100 * Ms, Port(3, tx: Bytes(0.5, 0.1)), Port(4, tx: Bytes(0.5, 0.1)));
        // Port 3 cleared: the new reading is above the old one, only counter_epoch says it restarted.
        Send(T0 + 200 * Ms, Port(3, tx: Bytes(0.5, 0.1) + 10, epoch: 1), Port(4, tx: Bytes(0.5, 0.1) + Bytes(0.9, 0.1)));
        Assert.Equal(0.5, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        Assert.True(_p.GetPort(Leaf0, 4)!.TxUtil > 0.5);
        Assert.Equal(1, _p.Metrics.Read().CounterResets);
    }

    [Fact]
    public void Gap_in_sequence_is_counted_and_the_rate_covers_the_whole_interval()
    {
        Send(T0, Port(3, tx: 0));
        _leaf.Sequence += 2; // batches 2 and 3 lost
        var r = Send(T0 + 300 * Ms, Port(3, tx: Bytes(0.7, 0.3)));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(0.7, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        Assert.Equal(2, _p.Metrics.Read().MissedBatches);
    }

    [Fact]
    public void Gap_longer_than_the_rate_interval_rebaselines()
    {
        Send(T0, Port(3, tx: 0));
        Send(T0 + 100 * Ms, Port(3, tx: Bytes(0.2, 0.1)));
        Send(T0 + 20 * Sec, Port(3, tx: Bytes(0.2, 0.1) + Bytes(0.9, 19.9)));
        Assert.Equal(0.2, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        Assert.Equal(1, _p.Metrics.Read().Rebaselines);
    }

    [Fact]
    public void Duplicate_batch_is_rejected_and_changes_nothing()
    {
        var first = _leaf.Next(T0, Port(3, tx: 0));
        _p.Ingest(first, T0 + Ms);
        var second = _leaf.Next(T0 + 100 * Ms, Port(3, tx: Bytes(0.5, 0.1)));
        _p.Ingest(second, T0 + 101 * Ms);
        var again = _p.Ingest(second, T0 + 102 * Ms);
        Assert.True(again.BatchRejected);
        Assert.Equal(RejectReason.DuplicateBatch, again.Rejections[0].Reason);
        Assert.Equal("agent-leaf-0", again.Rejections[0].Agent);
        Assert.Equal(1, again.SamplesRejected);
        Assert.Equal(0.5, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
        Assert.Equal(1, _p.Metrics.Read().Rejected(RejectReason.DuplicateBatch));
    }

    [Fact]
    public void Older_batch_arriving_late_is_rejected_as_out_of_order()
    {
        var b1 = _leaf.Next(T0, Port(3, tx: 0));
        var b2 = _leaf.Next(T0 + 100 * Ms, Port(3, tx: Bytes(0.5, 0.1)));
        var b3 = _leaf.Next(T0 + 200 * Ms, Port(3, tx: Bytes(0.5, 0.2)));
        _p.Ingest(b1, T0 + Ms);
        _p.Ingest(b3, T0 + 201 * Ms);
        var late = _p.Ingest(b2, T0 + 202 * Ms);
        Assert.Equal(RejectReason.OutOfOrderBatch, Assert.Single(late.Rejections).Reason);
        Assert.Equal(0.5, _p.GetPort(Leaf0, 3)!.TxUtil, 4); // b1 -> b3 over 200 ms
        Assert.Equal(1, _p.Metrics.Read().MissedBatches);
    }

    [Fact]
    public void Sample_time_that_does_not_advance_is_rejected_even_with_a_higher_sequence()
    {
        Send(T0, Port(3, tx: 0));
        var r = Send(T0, Port(3, tx: 10));
        Assert.Equal(RejectReason.OutOfOrderBatch, Assert.Single(r.Rejections).Reason);
    }

    [Fact]
    public void Agent_restart_with_a_new_session_starts_the_sequence_again()
    {
        Send(T0, Port(3, tx: 0));
        Send(T0 + 100 * Ms, Port(3, tx: Bytes(0.5, 0.1)));
        _leaf.Session = 42;
        _leaf.Sequence = 0;
        var r = Send(T0 + 200 * Ms, Port(3, tx: Bytes(0.5, 0.2)));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(0.5, _p.GetPort(Leaf0, 3)!.TxUtil, 4);
    }

    [Fact]
    public void Clock_skew_between_switches_does_not_distort_rates_and_is_corrected_on_the_timeline()
    {
        var spine = new ScriptedAgent("spine-0");
        var spineId = _p.Layout.Topology.FindSwitch("spine-0");
        const long ahead = 12 * Sec;   // spine clock runs 12 s fast, leaf clock is right
        for (var i = 0; i < 5; i++)
        {
            var now = T0 + i * 100 * Ms;
            var jitter = (i % 3) * Ms;  // network delay varies 1..3 ms
            _p.Ingest(_leaf.Next(now - Ms - jitter, Port(3, tx: Bytes(0.4, 0.1 * i))), now);
            _p.Ingest(spine.Next(now + ahead - Ms - jitter, Port(1, rx: Bytes(0.4, 0.1 * i))), now);
        }
        Assert.Equal(0.4, _p.GetPort(spineId, 1)!.RxUtil, 2);
        Assert.Equal(0.4, _p.GetPort(Leaf0, 3)!.TxUtil, 2);
        var offset = _p.ClockOffsetNanos(spineId)!.Value;
        Assert.InRange(offset, -ahead + Ms, -ahead + 3 * Ms); // the least delay seen is 1 ms
        // Both switches' last samples land within a few ms of the control plane's receive time.
        var lastReceive = T0 + 400 * Ms;
        Assert.InRange(_p.GetPort(spineId, 1)!.LastSeenUnixNanos, lastReceive - 5 * Ms, lastReceive);
        Assert.InRange(_p.GetPort(Leaf0, 3)!.LastSeenUnixNanos, lastReceive - 5 * Ms, lastReceive);
    }

    [Fact]
    public void Offset_estimate_follows_a_clock_step()
    {
        Send(T0, Port(3));
        Assert.Equal(Ms, _p.ClockOffsetNanos(Leaf0));
        // The switch clock is stepped 2 s back: observed offset jumps up, the estimate follows gradually.
        for (var i = 1; i <= 60; i++) _p.Ingest(_leaf.Next(T0 + i * 100 * Ms, Port(3)), T0 + i * 100 * Ms + Ms);
        Assert.Equal(Ms, _p.ClockOffsetNanos(Leaf0));
        var stepped = new ScriptedAgent("leaf-1");
        var leaf1 = _p.Layout.Topology.FindSwitch("leaf-1");
        _p.Ingest(stepped.Next(T0, Port(3)), T0 + Ms);
        // Batches until the stepped clock passes the last accepted time are refused (the clock must be monotonic).
        var refused = 0;
        for (var i = 1; i <= 120; i++)
            refused += _p.Ingest(stepped.Next(T0 + i * 100 * Ms - 2 * Sec, Port(3)), T0 + i * 100 * Ms + Ms).BatchRejected ? 1 : 0;
        Assert.Equal(20, refused);
        // 100 accepted batches move the estimate by 1 - (15/16)^100 of the 2 s step.
        Assert.InRange(_p.ClockOffsetNanos(leaf1)!.Value, 2 * Sec - 10 * Ms, 2 * Sec + Ms);
    }

    [Fact]
    public void Per_priority_rates_and_pauses_are_computed()
    {
        PortSample WithPrio(ulong tx, ulong pauses, ulong queue)
        {
            var s = Port(3, tx: tx);
            s.Priorities.Add(new PrioritySample { Priority = 3, TxBytes = tx / 2, TxPauseFrames = pauses, QueueBytes = queue });
            return s;
        }
        Send(T0, WithPrio(0, 0, 0));
        Send(T0 + 100 * Ms, WithPrio(Bytes(0.6, 0.1), 500, 4096));
        var v = _p.GetPort(Leaf0, 3)!;
        var pr = Assert.Single(v.Priorities);
        Assert.Equal(3, pr.Priority);
        Assert.Equal(0.3, pr.TxUtil, 4);
        Assert.Equal(5000, pr.TxPauseRate, 1);
        Assert.Equal(4096, pr.QueueBytes);
    }

    [Fact]
    public void Raw_history_is_bounded_to_its_depth_and_keeps_the_newest()
    {
        var p = new TelemetryPipeline(SmallFabric(), new TelemetryOptions { RawHistoryDepth = 4 });
        var a = new ScriptedAgent("leaf-0");
        for (var i = 0; i < 10; i++) p.Ingest(a.Next(T0 + i * 100 * Ms, Port(3, tx: Bytes(0.1, 0.1 * i))), T0 + i * 100 * Ms + Ms);
        var pts = p.RecentPoints(Leaf0, 3);
        Assert.Equal(4, pts.Count);
        Assert.Equal(T0 + 900 * Ms + Ms, pts[^1].TimeUnixNanos);
        Assert.True(pts.Zip(pts.Skip(1)).All(x => x.First.TimeUnixNanos < x.Second.TimeUnixNanos));
        Assert.All(pts, x => Assert.Equal(0.1, x.TxUtil, 3));
    }
}
