using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Telemetry;

[InlineArray(TelemetryWire.MaxPriorityEntries)]
internal struct PriorityEntries
{
    private PriorityData _e;
}

[InlineArray(TelemetryWire.MaxLanes)]
internal struct Lanes
{
    private double _e;
}

/// <summary>One priority of a port sample, decoded.</summary>
internal struct PriorityData
{
    public uint Priority;
    public ulong TxBytes, RxBytes, TxPause, RxPause, QueueBytes;
}

/// <summary>A port sample decoded into a flat struct (no allocation), by either decoder.</summary>
internal struct PortSampleData
{
    public uint Port;
    public int OperState;
    public uint Epoch;
    public PortCounters Counters;
    public int PriorityCount;          // entries seen; only the first MaxPriorityEntries are kept
    public PriorityEntries Priority;
    public bool HasOptics;
    public double TemperatureC, SupplyVoltageV, PreFecBer;
    public int BiasCount, TxCount, RxCount; // lane values seen; only the first MaxLanes are kept
    public Lanes Bias, Tx, Rx;

    public static void From(PortSample s, ref PortSampleData d)
    {
        d = default;
        d.Port = s.Port;
        d.OperState = (int)s.OperState;
        d.Epoch = s.CounterEpoch;
        d.Counters[Ctr.TxBytes] = s.TxBytes;
        d.Counters[Ctr.RxBytes] = s.RxBytes;
        d.Counters[Ctr.TxPackets] = s.TxPackets;
        d.Counters[Ctr.RxPackets] = s.RxPackets;
        d.Counters[Ctr.TxDrops] = s.TxDrops;
        d.Counters[Ctr.RxDrops] = s.RxDrops;
        d.Counters[Ctr.Ecn] = s.EcnMarkedPackets;
        d.Counters[Ctr.FecCorrected] = s.FecCorrectedCodewords;
        d.Counters[Ctr.FecUncorrected] = s.FecUncorrectedCodewords;
        d.Counters[Ctr.SymbolErrors] = s.SymbolErrors;
        d.Counters[Ctr.LinkDowns] = s.LinkDownCount;
        var prios = s.Priorities;
        for (var i = 0; i < prios.Count; i++)
        {
            var q = prios[i];
            if (d.PriorityCount < TelemetryWire.MaxPriorityEntries)
                d.Priority[d.PriorityCount] = new PriorityData { Priority = q.Priority, TxBytes = q.TxBytes, RxBytes = q.RxBytes, TxPause = q.TxPauseFrames, RxPause = q.RxPauseFrames, QueueBytes = q.QueueBytes };
            d.PriorityCount++;
        }
        if (s.Optics is { } o)
        {
            d.HasOptics = true;
            d.TemperatureC = o.TemperatureC;
            d.SupplyVoltageV = o.SupplyVoltageV;
            d.PreFecBer = o.PreFecBer;
            foreach (var v in o.BiasCurrentMa) TelemetryWire.AddLane(ref d.Bias, ref d.BiasCount, v);
            foreach (var v in o.TxPowerDbm) TelemetryWire.AddLane(ref d.Tx, ref d.TxCount, v);
            foreach (var v in o.RxPowerDbm) TelemetryWire.AddLane(ref d.Rx, ref d.RxCount, v);
        }
    }
}

/// <summary>The header fields of a batch.</summary>
internal struct BatchHeader
{
    public string SwitchName;
    public string AgentId;
    public ulong Session, Sequence, BootId;
    public long SampleTime;
}

/// <summary>
/// A decoder for <see cref="TelemetryBatch"/> that reads the protobuf wire format straight into flat structs,
/// allocating only the two strings of a batch. It follows the proto3 rules Google.Protobuf follows: fields in any
/// order, the last value of a repeated scalar wins, unknown fields and fields with an unexpected wire type are
/// skipped, packed and unpacked repeated doubles are both read, varints beyond 10 bytes and truncated fields are
/// errors, and the whole batch fails if any part does. One difference: groups (a proto2 wire type no proto3
/// message has) are refused rather than skipped. Tests check it against Google.Protobuf's parser.
/// </summary>
internal static class TelemetryWire
{
    public const int MaxPriorityEntries = 9; // one more than the 8 priorities: a 9th entry proves a duplicate or a bad priority
    public const int MaxLanes = 8;

    public static void AddLane(ref Lanes lanes, ref int count, double v)
    {
        if (count < MaxLanes) lanes[count] = v;
        count++;
    }

    /// <summary>Decodes a batch; samples go into <paramref name="samples"/> (grown as needed, up to <paramref name="maxPorts"/> + 1 entries kept).</summary>
    /// <returns>Null on success, else what was wrong.</returns>
    public static string? Decode(ReadOnlySpan<byte> data, ref BatchHeader header, ref PortSampleData[] samples, int maxPorts, out int portCount)
    {
        header = default;
        header.SwitchName = header.AgentId = "";
        portCount = 0;
        var r = new Reader(data);
        while (!r.End)
        {
            if (!r.Tag(out var field, out var wt)) return r.Error("tag");
            switch (field, wt)
            {
                case (1, 2):
                    if (!r.Bytes(out var name)) return r.Error("switch_name");
                    header.SwitchName = Encoding.UTF8.GetString(name);
                    break;
                case (2, 2):
                    if (!r.Bytes(out var agent)) return r.Error("agent_id");
                    header.AgentId = Encoding.UTF8.GetString(agent);
                    break;
                case (3, 1):
                    if (!r.Fixed64(out header.Session)) return r.Error("session_id");
                    break;
                case (4, 0):
                    if (!r.Varint(out header.Sequence)) return r.Error("sequence");
                    break;
                case (5, 0):
                    if (!r.Varint(out var t)) return r.Error("sample_time_unix_nanos");
                    header.SampleTime = (long)t;
                    break;
                case (6, 1):
                    if (!r.Fixed64(out header.BootId)) return r.Error("boot_id");
                    break;
                case (7, 2):
                    if (!r.Bytes(out var port)) return r.Error("ports");
                    if (portCount <= maxPorts)
                    {
                        if (portCount >= samples.Length) Array.Resize(ref samples, Math.Min(Math.Max(64, samples.Length * 2), maxPorts + 1));
                        var e = DecodePort(port, ref samples[portCount]);
                        if (e is not null) return $"ports[{portCount}]: {e}";
                    }
                    else
                    {
                        // Past the limit the batch is refused as too large; still check the encoding so a malformed batch says so.
                        PortSampleData scratch = default;
                        var e = DecodePort(port, ref scratch);
                        if (e is not null) return $"ports[{portCount}]: {e}";
                    }
                    portCount++;
                    break;
                default:
                    if (!r.Skip(wt)) return r.Error($"field {field}");
                    break;
            }
        }
        return null;
    }

    private static string? DecodePort(ReadOnlySpan<byte> data, ref PortSampleData d)
    {
        // Reset what is read unconditionally; priority entries and lanes beyond their counts are never read.
        d.Port = d.Epoch = 0;
        d.OperState = 0;
        d.Counters = default;
        d.PriorityCount = d.BiasCount = d.TxCount = d.RxCount = 0;
        d.HasOptics = false;
        d.TemperatureC = d.SupplyVoltageV = d.PreFecBer = 0;
        var r = new Reader(data);
        while (!r.End)
        {
            if (!r.Tag(out var field, out var wt)) return r.Error("tag");
            ulong v;
            if (wt == 0 && field is >= 1 and <= 14)
            {
                if (!r.Varint(out v)) return r.Error($"field {field}");
                switch (field)
                {
                    case 1: d.Port = (uint)v; break;
                    case 2: d.OperState = (int)(uint)v; break;
                    case 3: d.Epoch = (uint)v; break;
                    default: d.Counters[field - 4] = v; break; // fields 4..14 are the counters in Ctr order
                }
                continue;
            }
            if (field == 15 && wt == 2)
            {
                if (!r.Bytes(out var p)) return r.Error("priorities");
                PriorityData q = default;
                var e = DecodePriority(p, ref q);
                if (e is not null) return $"priorities: {e}";
                if (d.PriorityCount < MaxPriorityEntries) d.Priority[d.PriorityCount] = q;
                d.PriorityCount++;
                continue;
            }
            if (field == 16 && wt == 2)
            {
                if (!r.Bytes(out var o)) return r.Error("optics");
                // A repeated occurrence of a message field merges into the earlier one, as Google.Protobuf does.
                var e = DecodeOptics(o, ref d);
                if (e is not null) return $"optics: {e}";
                d.HasOptics = true;
                continue;
            }
            if (!r.Skip(wt)) return r.Error($"field {field}");
        }
        return null;
    }

    private static string? DecodePriority(ReadOnlySpan<byte> data, ref PriorityData q)
    {
        var r = new Reader(data);
        while (!r.End)
        {
            if (!r.Tag(out var field, out var wt)) return r.Error("tag");
            if (wt == 0 && field is >= 1 and <= 6)
            {
                if (!r.Varint(out var v)) return r.Error($"field {field}");
                switch (field)
                {
                    case 1: q.Priority = (uint)v; break;
                    case 2: q.TxBytes = v; break;
                    case 3: q.RxBytes = v; break;
                    case 4: q.TxPause = v; break;
                    case 5: q.RxPause = v; break;
                    default: q.QueueBytes = v; break;
                }
                continue;
            }
            if (!r.Skip(wt)) return r.Error($"field {field}");
        }
        return null;
    }

    private static string? DecodeOptics(ReadOnlySpan<byte> data, ref PortSampleData d)
    {
        var r = new Reader(data);
        while (!r.End)
        {
            if (!r.Tag(out var field, out var wt)) return r.Error("tag");
            if (wt == 1 && field is 1 or 2 or 6)
            {
                if (!r.Fixed64(out var bits)) return r.Error($"field {field}");
                var x = BitConverter.UInt64BitsToDouble(bits);
                if (field == 1) d.TemperatureC = x;
                else if (field == 2) d.SupplyVoltageV = x;
                else d.PreFecBer = x;
                continue;
            }
            if (field is 3 or 4 or 5 && wt is 1 or 2)
            {
                ref var lanes = ref field == 3 ? ref d.Bias : ref field == 4 ? ref d.Tx : ref d.Rx;
                ref var count = ref field == 3 ? ref d.BiasCount : ref field == 4 ? ref d.TxCount : ref d.RxCount;
                if (wt == 1)
                {
                    if (!r.Fixed64(out var bits)) return r.Error($"field {field}");
                    AddLane(ref lanes, ref count, BitConverter.UInt64BitsToDouble(bits));
                }
                else
                {
                    if (!r.Bytes(out var packed) || packed.Length % 8 != 0) return r.Error($"field {field} (packed doubles)");
                    for (var i = 0; i < packed.Length; i += 8)
                        AddLane(ref lanes, ref count, BitConverter.UInt64BitsToDouble(BinaryPrimitives.ReadUInt64LittleEndian(packed[i..])));
                }
                continue;
            }
            if (!r.Skip(wt)) return r.Error($"field {field}");
        }
        return null;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _d = data;
        private int _pos;

        public readonly bool End => _pos >= _d.Length;

        public readonly string Error(string what) => $"truncated or invalid {what} at byte {_pos} of {_d.Length}";

        public bool Varint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if (_pos >= _d.Length) return false;
                var b = _d[_pos++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return true;
            }
            return false; // more than 10 bytes
        }

        public bool Tag(out int field, out int wireType)
        {
            field = wireType = 0;
            if (!Varint(out var tag) || tag > uint.MaxValue) return false;
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return field != 0;
        }

        public bool Fixed64(out ulong value)
        {
            value = 0;
            if (_d.Length - _pos < 8) return false;
            value = BinaryPrimitives.ReadUInt64LittleEndian(_d[_pos..]);
            _pos += 8;
            return true;
        }

        public bool Bytes(out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (!Varint(out var len) || len > (ulong)(_d.Length - _pos)) return false;
            bytes = _d.Slice(_pos, (int)len);
            _pos += (int)len;
            return true;
        }

        public bool Skip(int wireType)
        {
            switch (wireType)
            {
                case 0: return Varint(out _);
                case 1: return Fixed64(out _);
                case 2: return Bytes(out _);
                case 5:
                    if (_d.Length - _pos < 4) return false;
                    _pos += 4;
                    return true;
                default: return false; // groups (3, 4) and the undefined 6, 7
            }
        }
    }
}
