using ControlPlane.Protos.Fabric.V1;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;

namespace ControlPlane.Telemetry.Tests;

/// <summary>The span decoder against Google.Protobuf's parser: same values on valid input, never accepts what it refuses.</summary>
public class WireDecoderTests
{
    private static TelemetryBatch RandomBatch(int seed)
    {
        var rng = new Random(seed);
        ulong U() => rng.Next(4) switch { 0 => 0, 1 => (ulong)rng.Next(), 2 => ulong.MaxValue - (ulong)rng.Next(1000), _ => (ulong)rng.NextInt64() };
        var b = new TelemetryBatch
        {
            SwitchName = "p0-leaf-" + rng.Next(64), AgentId = "agent-ü-" + rng.Next(), SessionId = U(), Sequence = U(),
            SampleTimeUnixNanos = rng.Next(2) == 0 ? -rng.NextInt64() : rng.NextInt64(), BootId = U(),
        };
        for (var i = rng.Next(0, 10); i > 0; i--)
        {
            var s = new PortSample
            {
                Port = (uint)rng.Next(0, 70), OperState = (PortOperState)rng.Next(-2, 5), CounterEpoch = (uint)rng.Next(3),
                TxBytes = U(), RxBytes = U(), TxPackets = U(), RxPackets = U(), TxDrops = U(), RxDrops = U(), EcnMarkedPackets = U(),
                FecCorrectedCodewords = U(), FecUncorrectedCodewords = U(), SymbolErrors = U(), LinkDownCount = U(),
            };
            for (var q = rng.Next(0, 11); q > 0; q--)
                s.Priorities.Add(new PrioritySample { Priority = (uint)rng.Next(0, 10), TxBytes = U(), RxBytes = U(), TxPauseFrames = U(), RxPauseFrames = U(), QueueBytes = U() });
            if (rng.Next(2) == 0)
            {
                s.Optics = new OpticsReading { TemperatureC = rng.NextDouble() * 100 - 20, SupplyVoltageV = double.NaN, PreFecBer = rng.NextDouble() };
                for (var l = rng.Next(0, 10); l > 0; l--)
                {
                    s.Optics.BiasCurrentMa.Add(rng.NextDouble());
                    s.Optics.TxPowerDbm.Add(-rng.NextDouble());
                    if (rng.Next(3) > 0) s.Optics.RxPowerDbm.Add(double.NegativeInfinity);
                }
            }
            b.Ports.Add(s);
        }
        return b;
    }

    private static void AssertSame(PortSampleData expected, PortSampleData actual)
    {
        Assert.Equal(expected.Port, actual.Port);
        Assert.Equal(expected.OperState, actual.OperState);
        Assert.Equal(expected.Epoch, actual.Epoch);
        for (var k = 0; k < Ctr.Count; k++) Assert.Equal(expected.Counters[k], actual.Counters[k]);
        Assert.Equal(expected.PriorityCount, actual.PriorityCount);
        for (var q = 0; q < Math.Min(expected.PriorityCount, TelemetryWire.MaxPriorityEntries); q++) Assert.Equal(expected.Priority[q], actual.Priority[q]);
        Assert.Equal(expected.HasOptics, actual.HasOptics);
        Assert.Equal(expected.TemperatureC, actual.TemperatureC);
        Assert.Equal(expected.SupplyVoltageV, actual.SupplyVoltageV);
        Assert.Equal(expected.PreFecBer, actual.PreFecBer);
        Assert.Equal((expected.BiasCount, expected.TxCount, expected.RxCount), (actual.BiasCount, actual.TxCount, actual.RxCount));
        for (var l = 0; l < Math.Min(expected.BiasCount, TelemetryWire.MaxLanes); l++) Assert.Equal(expected.Bias[l], actual.Bias[l]);
        for (var l = 0; l < Math.Min(expected.RxCount, TelemetryWire.MaxLanes); l++) Assert.Equal(expected.Rx[l], actual.Rx[l]);
    }

    private static void CheckAgainstGoogle(byte[] bytes)
    {
        TelemetryBatch? reference = null;
        try { reference = TelemetryBatch.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException) { }
        BatchHeader h = default;
        var buffer = new PortSampleData[1];
        var error = TelemetryWire.Decode(bytes, ref h, ref buffer, 4096, out var n);
        if (error is not null) return; // refusing is always safe; accepting what Google refuses is not
        Assert.NotNull(reference);
        Assert.Equal(reference!.SwitchName, h.SwitchName);
        Assert.Equal(reference.AgentId, h.AgentId);
        Assert.Equal((reference.SessionId, reference.Sequence, reference.SampleTimeUnixNanos, reference.BootId), (h.Session, h.Sequence, h.SampleTime, h.BootId));
        Assert.Equal(reference.Ports.Count, n);
        for (var i = 0; i < n; i++)
        {
            PortSampleData expected = default;
            PortSampleData.From(reference.Ports[i], ref expected);
            AssertSame(expected, buffer[i]);
        }
    }

    [Property(MaxTest = 200)]
    public Property Valid_batches_decode_to_the_same_values(int seed)
    {
        var b = RandomBatch(seed);
        var bytes = b.ToByteArray();
        BatchHeader h = default;
        var buffer = new PortSampleData[1];
        var error = TelemetryWire.Decode(bytes, ref h, ref buffer, 4096, out var n);
        CheckAgainstGoogle(bytes);
        return (error is null && n == b.Ports.Count).Label($"error {error}");
    }

    [Property(MaxTest = 300)]
    public Property Damaged_batches_are_never_accepted_when_google_refuses_them(int seed, int cut, byte flip, int at)
    {
        var bytes = RandomBatch(seed).ToByteArray();
        var len = (int)((uint)cut % (bytes.Length + 1));
        var copy = bytes[..len];
        if (copy.Length > 0) copy[(int)((uint)at % copy.Length)] ^= flip;
        CheckAgainstGoogle(copy);
        return true.ToProperty();
    }

    [Fact]
    public void Fields_in_any_order_unknown_fields_and_unpacked_lanes_are_read_as_google_reads_them()
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        // ports before the header, an unknown varint field 99 and an unknown fixed32 field 98, lanes unpacked
        o.WriteTag(7, WireFormat.WireType.LengthDelimited);
        var port = new MemoryStream();
        var po = new CodedOutputStream(port);
        po.WriteTag(4, WireFormat.WireType.Varint); po.WriteUInt64(123);
        po.WriteTag(16, WireFormat.WireType.LengthDelimited);
        var optics = new MemoryStream();
        var oo = new CodedOutputStream(optics);
        foreach (var f in new[] { 3, 4, 5 }) { oo.WriteTag(f, WireFormat.WireType.Fixed64); oo.WriteDouble(-1.5); }
        oo.WriteTag(2, WireFormat.WireType.Fixed64); oo.WriteDouble(3.3);
        oo.Flush();
        po.WriteBytes(ByteString.CopyFrom(optics.ToArray()));
        po.WriteTag(1, WireFormat.WireType.Varint); po.WriteUInt32(3);
        po.Flush();
        o.WriteBytes(ByteString.CopyFrom(port.ToArray()));
        o.WriteTag(99, WireFormat.WireType.Varint); o.WriteUInt64(7);
        o.WriteTag(98, WireFormat.WireType.Fixed32); o.WriteFixed32(7);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("leaf-0");
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("leaf-1"); // last one wins
        o.Flush();
        var bytes = ms.ToArray();
        CheckAgainstGoogle(bytes);
        BatchHeader h = default;
        var buffer = new PortSampleData[1];
        Assert.Null(TelemetryWire.Decode(bytes, ref h, ref buffer, 4096, out var n));
        Assert.Equal("leaf-1", h.SwitchName);
        Assert.Equal(1, n);
        Assert.Equal(3u, buffer[0].Port);
        Assert.Equal(123UL, buffer[0].Counters[Ctr.TxBytes]);
        Assert.Equal((1, 1, 1), (buffer[0].BiasCount, buffer[0].TxCount, buffer[0].RxCount));
    }

    [Fact]
    public void Decoded_object_and_byte_paths_give_the_same_pipeline_state()
    {
        var a = new TelemetryPipeline(Fixtures.SmallFabric());
        var b = new TelemetryPipeline(Fixtures.SmallFabric());
        var agent = new ScriptedAgent("leaf-0");
        for (var i = 0; i < 5; i++)
        {
            var s = Fixtures.Port(3, tx: (ulong)(i * 1_000_000_000L), rx: (ulong)(i * 2_000_000_000L));
            s.Priorities.Add(new PrioritySample { Priority = 5, TxBytes = (ulong)(i * 500_000_000L), RxPauseFrames = (ulong)i * 10 });
            s.Optics = Fixtures.Optics(temp: 40 + i);
            var batch = agent.Next(Fixtures.T0 + i * 100 * Fixtures.Ms, s);
            a.Ingest(batch, Fixtures.T0 + i * 100 * Fixtures.Ms + Fixtures.Ms);
            b.Ingest(batch.ToByteArray(), Fixtures.T0 + i * 100 * Fixtures.Ms + Fixtures.Ms, "x");
        }
        Assert.Equal(a.GetPort(0, 3)! with { Priorities = [] }, b.GetPort(0, 3)! with { Priorities = [] });
        Assert.Equal(a.GetPort(0, 3)!.Priorities, b.GetPort(0, 3)!.Priorities);
    }
}
