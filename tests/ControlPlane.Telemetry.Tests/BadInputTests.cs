using ControlPlane.Protos.Fabric.V1;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using static ControlPlane.Telemetry.Tests.Fixtures;

namespace ControlPlane.Telemetry.Tests;

/// <summary>Every kind of bad input is refused with a counted reason naming the agent, and never reaches a snapshot.</summary>
public class BadInputTests
{
    private readonly TelemetryPipeline _p = new(SmallFabric());
    private readonly ScriptedAgent _leaf = new("leaf-0", "agent-7");

    private IngestResult Send(long t, params PortSample[] ports) => _p.Ingest(_leaf.Next(t, ports), t + Ms);

    private Rejection SingleSampleRejection(PortSample bad)
    {
        var r = Send(T0, Port(4), bad);
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(1, r.SamplesRejected);
        var rej = Assert.Single(r.Rejections);
        Assert.Equal("agent-7", rej.Agent);
        Assert.Equal("leaf-0", rej.Switch);
        Assert.Equal(1, _p.Metrics.Read().Rejected(rej.Reason));
        Assert.Equal(1, _p.Metrics.Read().Agents["agent-7"].SamplesRejected[rej.Reason]);
        return rej;
    }

    private Rejection BatchRejection(IngestResult r, RejectReason expected)
    {
        Assert.True(r.BatchRejected);
        var rej = Assert.Single(r.Rejections);
        Assert.Equal(expected, rej.Reason);
        Assert.Equal(1, _p.Metrics.Read().BatchRejected(expected));
        return rej;
    }

    [Theory]
    [InlineData(double.NaN, "optics.temperature_c")]
    [InlineData(double.PositiveInfinity, "optics.temperature_c")]
    public void Non_finite_temperature_is_refused(double temp, string field)
    {
        var s = Port(3);
        s.Optics = Optics(temp: temp);
        var rej = SingleSampleRejection(s);
        Assert.Equal(RejectReason.NotFinite, rej.Reason);
        Assert.Contains(field, rej.Detail);
        Assert.Null(_p.GetPort(0, 3));
    }

    [Fact]
    public void Negative_infinity_in_a_lane_power_is_refused()
    {
        var s = Port(3);
        s.Optics = Optics();
        s.Optics.RxPowerDbm[5] = double.NegativeInfinity;
        Assert.Equal(RejectReason.NotFinite, SingleSampleRejection(s).Reason);
    }

    [Theory]
    [InlineData("bias", -1.0)]
    [InlineData("ber", 1.5)]
    [InlineData("ber", -1e-9)]
    [InlineData("vcc", 0.0)]
    [InlineData("temp", 300.0)]
    [InlineData("rx", 20.0)]
    public void Impossible_optics_values_are_refused(string what, double value)
    {
        var s = Port(3);
        s.Optics = what switch
        {
            "bias" => Optics(bias: value),
            "ber" => Optics(ber: value),
            "vcc" => Optics(vcc: value),
            "temp" => Optics(temp: value),
            _ => Optics(rxDbm: value),
        };
        var rej = SingleSampleRejection(s);
        Assert.Equal(RejectReason.OutOfRange, rej.Reason);
        Assert.Contains("outside", rej.Detail);
    }

    [Fact]
    public void Optics_without_lanes_or_with_uneven_lanes_is_refused()
    {
        var s = Port(3);
        s.Optics = Optics();
        s.Optics.TxPowerDbm.RemoveAt(0);
        Assert.Equal(RejectReason.MissingField, SingleSampleRejection(s).Reason);
    }

    [Fact]
    public void Rate_above_line_speed_is_refused_and_a_single_spike_is_skipped()
    {
        Send(T0, Port(3, tx: 0));
        var r = Send(T0 + 100 * Ms, Port(3, tx: (ulong)(LineBytes * 0.1 * 1.5))); // 150% of line rate
        Assert.Equal(RejectReason.RateAboveLineSpeed, Assert.Single(r.Rejections).Reason);
        Assert.Contains("tx_bytes", r.Rejections[0].Detail);
        Assert.False(_p.GetPort(0, 3)!.HasRates);
        // The next good reading is measured against the last good baseline, over 200 ms.
        Send(T0 + 200 * Ms, Port(3, tx: (ulong)(LineBytes * 0.2 * 0.5)));
        Assert.Equal(0.5, _p.GetPort(0, 3)!.TxUtil, 4);
    }

    [Fact]
    public void Packet_rate_above_what_the_line_can_carry_is_refused()
    {
        Send(T0, Port(3));
        var r = Send(T0 + 100 * Ms, Port(3, rxPkts: (ulong)(LineBytes * 0.1 / 16))); // 16-byte packets: impossible
        Assert.Equal(RejectReason.RateAboveLineSpeed, Assert.Single(r.Rejections).Reason);
        Assert.Contains("rx_packets", r.Rejections[0].Detail);
    }

    [Fact]
    public void Counter_that_really_jumped_is_relearned_after_consecutive_refusals()
    {
        Send(T0, Port(3, tx: 0));
        const ulong jump = 1UL << 50;
        for (var i = 1; i <= 3; i++)
            Assert.Equal(RejectReason.RateAboveLineSpeed, Send(T0 + i * 100 * Ms, Port(3, tx: jump + (ulong)(i * LineBytes * 0.01))).Rejections[0].Reason);
        var ok = Send(T0 + 400 * Ms, Port(3, tx: jump + (ulong)(3 * LineBytes * 0.01) + (ulong)(LineBytes * 0.1 * 0.25)));
        Assert.Empty(ok.Rejections);
        Assert.Equal(0.25, _p.GetPort(0, 3)!.TxUtil, 4);
        Assert.Equal(1, _p.Metrics.Read().Rebaselines);
    }

    [Fact]
    public void Unknown_switch_is_refused_naming_the_agent()
    {
        var ghost = new ScriptedAgent("leaf-99", "agent-ghost");
        var r = _p.Ingest(ghost.Next(T0, Port(1), Port(2)), T0 + Ms);
        var rej = BatchRejection(r, RejectReason.UnknownSwitch);
        Assert.Equal("agent-ghost", rej.Agent);
        Assert.Equal(2, rej.Samples);
        Assert.Contains("leaf-99", rej.Detail);
        Assert.Equal(2, _p.Metrics.Read().Agents["agent-ghost"].SamplesRejected[RejectReason.UnknownSwitch]);
    }

    [Fact]
    public void Port_zero_is_a_sample_refusal_not_a_batch_refusal()
    {
        var r = Send(T0, Port(0));
        Assert.False(r.BatchRejected);
        Assert.False(r.Rejections[0].WholeBatch);
        Assert.Equal(0, _p.Metrics.Read().BatchRejected(RejectReason.UnknownPort));
        Assert.Equal(1, _p.Metrics.Read().Rejected(RejectReason.UnknownPort));
    }

    [Theory]
    [InlineData(0u, "outside")]
    [InlineData(5u, "outside")]
    [InlineData(4000000000u, "outside")]
    public void Port_out_of_range_is_refused(uint port, string text)
    {
        var rej = SingleSampleRejection(Port(port));
        Assert.Equal(RejectReason.UnknownPort, rej.Reason);
        Assert.Contains(text, rej.Detail);
    }

    [Fact]
    public void Uncabled_port_is_refused()
    {
        var spine = new ScriptedAgent("spine-1");
        var r = _p.Ingest(spine.Next(T0, Port(1), Port(3)), T0 + Ms);
        var rej = Assert.Single(r.Rejections);
        Assert.Equal(RejectReason.UnknownPort, rej.Reason);
        Assert.Equal(3, rej.Port);
        Assert.Contains("not cabled", rej.Detail);
    }

    [Fact]
    public void Same_port_twice_is_refused_once()
    {
        var r = Send(T0, Port(3), Port(3));
        Assert.Equal(1, r.SamplesAccepted);
        Assert.Equal(RejectReason.DuplicatePort, Assert.Single(r.Rejections).Reason);
    }

    [Fact]
    public void Bad_priorities_and_oper_state_are_refused()
    {
        var dup = Port(3);
        dup.Priorities.Add(new PrioritySample { Priority = 1 });
        dup.Priorities.Add(new PrioritySample { Priority = 1 });
        var high = Port(3);
        high.Priorities.Add(new PrioritySample { Priority = 9 });
        var queue = Port(3);
        queue.Priorities.Add(new PrioritySample { Priority = 2, QueueBytes = ulong.MaxValue });
        var state = Port(3, state: (PortOperState)7);
        var t = T0;
        foreach (var (s, reason) in new[] { (dup, RejectReason.DuplicatePriority), (high, RejectReason.OutOfRange), (queue, RejectReason.OutOfRange), (state, RejectReason.OutOfRange) })
        {
            var r = Send(t += 100 * Ms, s);
            Assert.Equal(reason, Assert.Single(r.Rejections).Reason);
        }
    }

    [Fact]
    public void Timestamps_far_in_the_future_or_past_are_refused()
    {
        BatchRejection(_p.Ingest(_leaf.Next(T0 + 31 * Sec, Port(3)), T0), RejectReason.TimestampInFuture);
        BatchRejection(_p.Ingest(_leaf.Next(T0 - 31 * Sec, Port(3)), T0), RejectReason.TimestampTooOld);
        var zero = _p.Ingest(_leaf.Next(0, Port(3)), T0);
        Assert.Equal(RejectReason.TimestampTooOld, zero.Rejections[0].Reason);
        var negative = _p.Ingest(_leaf.Next(-5, Port(3)), T0);
        Assert.Equal(RejectReason.TimestampTooOld, negative.Rejections[0].Reason);
        Assert.Equal(RejectReason.TimestampTooOld, _p.Ingest(_leaf.Next(long.MinValue, Port(3)), T0).Rejections[0].Reason);
        Assert.Equal(RejectReason.TimestampInFuture, _p.Ingest(_leaf.Next(long.MaxValue, Port(3)), T0).Rejections[0].Reason);
        Assert.Null(_p.GetPort(0, 3));
    }

    [Fact]
    public void Batch_over_the_size_limits_is_refused()
    {
        var p = new TelemetryPipeline(SmallFabric(), new TelemetryOptions { MaxBatchBytes = 200, QueueCapacityBytes = 1 << 20, MaxPortsPerBatch = 3 });
        var a = new ScriptedAgent("leaf-0", "agent-big");
        var many = a.Next(T0, Port(1), Port(2), Port(3), Port(4));
        var r = p.Ingest(many, T0 + Ms);
        Assert.Equal(RejectReason.TooLarge, Assert.Single(r.Rejections).Reason);
        Assert.Equal(4, r.SamplesRejected);
        var big = a.Next(T0 + 100 * Ms, Port(3));
        big.Ports[0].Optics = Optics();
        var bytes = big.ToByteArray();
        Assert.True(bytes.Length > 200);
        var rb = p.Ingest(bytes, T0 + 101 * Ms, "amqp:agent-big");
        Assert.Equal(RejectReason.TooLarge, Assert.Single(rb.Rejections).Reason);
        Assert.Equal("amqp:agent-big", rb.Rejections[0].Agent);
    }

    [Fact]
    public void Truncated_protobuf_is_refused_naming_the_transport_identity()
    {
        var bytes = _leaf.Next(T0, Port(3, tx: 123456789), Port(4, tx: 987654321)).ToByteArray();
        var r = _p.Ingest(bytes.AsSpan(0, bytes.Length - 3), T0 + Ms, "http:10.0.0.7");
        var rej = BatchRejection(r, RejectReason.Malformed);
        Assert.Equal("http:10.0.0.7", rej.Agent);
        Assert.Contains("not a TelemetryBatch", rej.Detail);
        Assert.Equal(1, _p.Metrics.Read().Agents["http:10.0.0.7"].BatchesRejected[RejectReason.Malformed]);
    }

    [Fact]
    public void Missing_agent_id_or_switch_name_is_refused()
    {
        var noAgent = _leaf.Next(T0, Port(3));
        noAgent.AgentId = "";
        Assert.Contains("agent_id", BatchRejection(_p.Ingest(noAgent, T0 + Ms, "bus:q1"), RejectReason.MissingField).Detail);
        var noSwitch = _leaf.Next(T0, Port(3));
        noSwitch.SwitchName = "";
        Assert.Contains("switch_name", _p.Ingest(noSwitch, T0 + Ms).Rejections[0].Detail);
    }

    [Fact]
    public void Encoded_batch_round_trips_through_the_byte_paths()
    {
        var bytes = _leaf.Next(T0, Port(3, tx: 5)).ToByteArray();
        Assert.Equal(1, _p.Ingest(bytes, T0 + Ms, "x").SamplesAccepted);
        var seq = new System.Buffers.ReadOnlySequence<byte>(_leaf.Next(T0 + 100 * Ms, Port(3, tx: 5 + (ulong)(LineBytes * 0.1 * 0.5))).ToByteArray());
        Assert.Equal(1, _p.Ingest(seq, T0 + 101 * Ms, "x").SamplesAccepted);
        Assert.Equal(0.5, _p.GetPort(0, 3)!.TxUtil, 4);
    }

    [Property(MaxTest = 200)]
    public Property Random_bytes_never_throw_and_never_count_as_accepted(byte[] junk)
    {
        var p = new TelemetryPipeline(SmallFabric());
        var r = p.Ingest(junk ?? [], T0, "fuzz");
        return (r.SamplesAccepted == 0 && (r.Rejections.Count > 0 || r.SamplesRejected == 0)).Label($"accepted {r.SamplesAccepted}");
    }

    [Property(MaxTest = 100)]
    public Property Mutilated_valid_batches_never_throw(int cut, byte flip, int at)
    {
        var p = new TelemetryPipeline(SmallFabric());
        var a = new ScriptedAgent("leaf-0");
        var s = Port(3, tx: 1000);
        s.Optics = Optics();
        var bytes = a.Next(T0, s, Port(4, rx: 77)).ToByteArray();
        var len = (int)((uint)cut % (bytes.Length + 1));
        var copy = bytes[..len];
        if (copy.Length > 0) copy[(int)((uint)at % copy.Length)] ^= flip;
        var r = p.Ingest(copy, T0 + Ms, "fuzz");
        var v = p.GetPort(0, 3);
        var finite = v is null || (double.IsFinite(v.TxUtil) && v.TemperatureC is null or (>= -40 and <= 125) && v.PreFecBer is null or (>= 0 and <= 1));
        return (finite && r.SamplesAccepted + r.SamplesRejected <= 2).Label($"accepted {r.SamplesAccepted}, rejected {r.SamplesRejected}");
    }
}
