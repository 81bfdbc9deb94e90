using System.Buffers;
using System.Runtime.CompilerServices;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Telemetry;

/// <summary>
/// The ingest pipeline as a pure class: decodes <see cref="TelemetryBatch"/> bytes, validates them, turns monotonic
/// counters into smoothed rates per port and priority, keeps recent raw points and feeds the downsampler. The
/// <see cref="LinkLoadSnapshotBuilder"/> reads its state to publish link loads.
/// <para>
/// Time: the switch's sample time drives rates (differences of one switch's clock, so a constant skew cancels);
/// the receive time passed in by the host (from its <see cref="TimeProvider"/>) drives the per-switch clock offset
/// estimate that puts samples on the control plane's timeline, and the future/past checks. Sequence numbers and
/// offsets are kept per switch (one agent per switch), so their state is bounded by the topology, not by the agent
/// ids senders make up.
/// </para>
/// <para>
/// Counter edge cases: a counter that goes down is a 64-bit wrap when <c>(new - old) mod 2^64</c> is within what line
/// rate allows over the interval, else a reset (a new baseline, no rate for that interval); a changed
/// <c>boot_id</c> or <c>counter_epoch</c> is a reset; a gap in sequence numbers is counted and the rate is taken over the
/// longer interval, up to <see cref="TelemetryOptions.MaxRateInterval"/> beyond which the port is re-baselined;
/// duplicate and out-of-order batches are rejected; a rate above line speed is rejected, and after
/// <see cref="TelemetryOptions.RebaselineAfterRateRejects"/> in a row the port is re-baselined.
/// </para>
/// <para>
/// Memory: fixed at construction, <see cref="BytesPerPort"/> per switch port (cabled or not), plus the pending
/// downsampled rows (bounded by <see cref="TelemetryOptions.MaxPendingRows"/>) and a decode buffer of about 800 bytes per
/// sample of the largest batch seen (at most <see cref="TelemetryOptions.MaxPortsPerBatch"/> + 1); nothing grows with
/// the number of samples. Not thread-safe: one consumer thread per shard
/// calls <see cref="Ingest(TelemetryBatch, long, string?)"/> and the snapshot builder.
/// </para>
/// </summary>
public sealed class TelemetryPipeline
{
    /// <summary>Priorities per port (802.1p / traffic classes 0..7).</summary>
    public const int Priorities = 8;

    /// <summary>Smallest packet assumed when bounding packet rates, bytes on the wire (covers InfiniBand's smallest packets; Ethernet's is 84).</summary>
    public const double MinPacketBytes = 32;

    /// <summary>Payload bits per RS(544,514) FEC codeword, bounding codeword rates.</summary>
    public const double CodewordBits = 5000;

    private static readonly Rejection[] NoRejections = [];

    private readonly TelemetryOptions _o;
    private readonly PortState[] _ports;
    private readonly PriorityState[] _prio;
    private readonly PortLoad[] _loads;
    private readonly PriorityLoadState[] _prioLoads;
    private readonly RawPoint[] _raw;
    private readonly SwitchState[] _switches;
    private readonly int _depth;
    private readonly double _tauSeconds;
    private readonly long _maxSkew;
    private readonly long _maxRateInterval;
    private int _batchStamp;
    private PortSampleData[] _samples = new PortSampleData[64];
    private long _lastWeightDt = -1;
    private float _lastWeight;

    /// <summary>Creates the pipeline for a topology; all per-port memory is allocated here.</summary>
    /// <exception cref="FabricInputException">When the options are invalid.</exception>
    public TelemetryPipeline(FabricTopology topology, TelemetryOptions? options = null, TelemetryMetrics? metrics = null)
    {
        _o = (options ?? new TelemetryOptions()).ThrowIfInvalid();
        Layout = new PortLayout(topology);
        Metrics = metrics ?? new TelemetryMetrics();
        _ports = new PortState[Layout.PortCount];
        _prio = new PriorityState[Layout.PortCount * Priorities];
        _loads = new PortLoad[Layout.PortCount];
        _prioLoads = new PriorityLoadState[Layout.PortCount * Priorities];
        _depth = _o.RawHistoryDepth;
        _raw = new RawPoint[Layout.PortCount * _depth];
        _switches = new SwitchState[topology.Switches.Count];
        _tauSeconds = _o.EwmaTimeConstant.TotalSeconds;
        _maxSkew = UnixNanos.FromTimeSpan(_o.MaxClockSkew);
        _maxRateInterval = UnixNanos.FromTimeSpan(_o.MaxRateInterval);
        Downsampler = new PortDownsampler(Layout.PortCount, UnixNanos.FromTimeSpan(_o.DownsampleBucket), _o.MaxPendingRows,
            p => (Layout.SwitchOf(p), Layout.PortNumber(p), Layout.LinkOf(p)));
    }

    /// <summary>The options in force.</summary>
    public TelemetryOptions Options => _o;

    /// <summary>Port numbering and link mapping.</summary>
    public PortLayout Layout { get; }

    /// <summary>Counters of accepted and rejected input.</summary>
    public TelemetryMetrics Metrics { get; }

    /// <summary>10 s min/mean/max rows per port; drain it to store them.</summary>
    public PortDownsampler Downsampler { get; }

    /// <summary>
    /// Bytes of state per switch port with these options: port state, 8 priority states, the raw ring, the
    /// downsampler's accumulator, the compact load arrays the snapshot builder reads, and the layout's arrays: 2,405 bytes with the defaults (32 raw points), of which 1,280 are the raw ring (40 bytes a point); 3,685 with 64 points.
    /// </summary>
    public static int BytesPerPort(TelemetryOptions options) =>
        Unsafe.SizeOf<PortState>() + Priorities * Unsafe.SizeOf<PriorityState>() + options.RawHistoryDepth * Unsafe.SizeOf<RawPoint>()
        + Unsafe.SizeOf<PortLoad>() + Priorities * Unsafe.SizeOf<PriorityLoadState>()
        + PortDownsampler.BytesPerPort + 4 + 1 + 4 + 4 + 2 * 4 /* layout: link, side, switch, line rate, plane port list */;

    internal PortLoad[] PortLoads => _loads;
    internal PriorityLoadState[] PriorityLoads => _prioLoads;

    /// <summary>
    /// Decodes and ingests one encoded batch. Never throws on bad bytes: they come back as a rejection. Decoding reads
    /// the wire format straight into flat per-pipeline buffers (see <c>TelemetryWire</c>; checked against
    /// Google.Protobuf in the tests), so a batch costs two string allocations, not an object per sample.
    /// </summary>
    /// <param name="payload">The protobuf encoding of a <see cref="TelemetryBatch"/>.</param>
    /// <param name="receiveUnixNanos">When the control plane received it (host clock).</param>
    /// <param name="transportAgent">Who the transport says sent it, named in the rejection when the bytes cannot be decoded.</param>
    public IngestResult Ingest(ReadOnlySpan<byte> payload, long receiveUnixNanos, string transportAgent)
    {
        if (payload.Length > _o.MaxBatchBytes)
            return RejectBatch(RejectReason.TooLarge, transportAgent, "", 0, $"batch is {payload.Length} bytes, limit {_o.MaxBatchBytes}");
        BatchHeader h = default;
        var error = TelemetryWire.Decode(payload, ref h, ref _samples, _o.MaxPortsPerBatch, out var n);
        if (error is not null)
            return RejectBatch(RejectReason.Malformed, transportAgent, "", 0, $"not a TelemetryBatch ({payload.Length} bytes): {error}");
        return IngestDecoded(ref h, n, receiveUnixNanos, transportAgent);
    }

    /// <summary>Decodes and ingests one encoded batch held in a sequence (as a bus or HTTP body delivers it).</summary>
    public IngestResult Ingest(ReadOnlySequence<byte> payload, long receiveUnixNanos, string transportAgent)
    {
        if (payload.Length > _o.MaxBatchBytes)
            return RejectBatch(RejectReason.TooLarge, transportAgent, "", 0, $"batch is {payload.Length} bytes, limit {_o.MaxBatchBytes}");
        if (payload.IsSingleSegment) return Ingest(payload.FirstSpan, receiveUnixNanos, transportAgent);
        var buffer = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(buffer);
            return Ingest(buffer.AsSpan(0, (int)payload.Length), receiveUnixNanos, transportAgent);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Ingests one batch already decoded by Google.Protobuf.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="receiveUnixNanos">When the control plane received it (host clock).</param>
    /// <param name="transportAgent">The transport's identity of the sender, used when the batch names no agent.</param>
    public IngestResult Ingest(TelemetryBatch batch, long receiveUnixNanos, string? transportAgent = null)
    {
        var h = new BatchHeader
        {
            SwitchName = batch.SwitchName, AgentId = batch.AgentId, Session = batch.SessionId, Sequence = batch.Sequence,
            SampleTime = batch.SampleTimeUnixNanos, BootId = batch.BootId,
        };
        var n = batch.Ports.Count;
        if (n <= _o.MaxPortsPerBatch)
        {
            if (_samples.Length < n) Array.Resize(ref _samples, n);
            for (var i = 0; i < n; i++) PortSampleData.From(batch.Ports[i], ref _samples[i]);
        }
        return IngestDecoded(ref h, n, receiveUnixNanos, transportAgent);
    }

    private IngestResult IngestDecoded(ref BatchHeader batch, int n, long receiveUnixNanos, string? transportAgent)
    {
        var agent = batch.AgentId.Length > 0 ? batch.AgentId : transportAgent ?? "(unknown)";
        var name = batch.SwitchName;
        if (batch.AgentId.Length == 0) return RejectBatch(RejectReason.MissingField, agent, name, n, "agent_id is empty");
        if (name.Length == 0) return RejectBatch(RejectReason.MissingField, agent, name, n, "switch_name is empty");
        if (n > _o.MaxPortsPerBatch) return RejectBatch(RejectReason.TooLarge, agent, name, n, $"{n} port samples, limit {_o.MaxPortsPerBatch}");
        var sw = Layout.Topology.FindSwitch(name);
        if (sw < 0) return RejectBatch(RejectReason.UnknownSwitch, agent, name, n, $"switch_name '{name}' is not in fabric '{Layout.Topology.Name}'");

        var t = batch.SampleTime;
        // Compared in 128 bits: a hostile time near the ends of the long range must not wrap into the window.
        var ahead = (Int128)t - receiveUnixNanos;
        if (ahead > _maxSkew)
            return RejectBatch(RejectReason.TimestampInFuture, agent, name, n, $"sample_time_unix_nanos {t} is {(double)ahead / 1e9:F1} s ahead of receive time, limit {_o.MaxClockSkew.TotalSeconds} s");
        if (-ahead > _maxSkew)
            return RejectBatch(RejectReason.TimestampTooOld, agent, name, n, $"sample_time_unix_nanos {t} is {(double)-ahead / 1e9:F1} s behind receive time, limit {_o.MaxClockSkew.TotalSeconds} s");

        ref var ss = ref _switches[sw];
        long missed = 0;
        if (ss.HasSession && ss.Session == batch.Session)
        {
            if (batch.Sequence == ss.Sequence) return RejectBatch(RejectReason.DuplicateBatch, agent, name, n, $"sequence {batch.Sequence} already accepted");
            if (batch.Sequence < ss.Sequence) return RejectBatch(RejectReason.OutOfOrderBatch, agent, name, n, $"sequence {batch.Sequence} after {ss.Sequence}");
            missed = (long)Math.Min(batch.Sequence - ss.Sequence - 1, long.MaxValue);
        }
        if (ss.LastSampleTime != 0 && t <= ss.LastSampleTime && ss.BootId == batch.BootId)
            return RejectBatch(RejectReason.OutOfOrderBatch, agent, name, n, $"sample time {t} is not after the previous batch's {ss.LastSampleTime}");

        // Batch accepted as a whole: record sequence and clock offset before the samples.
        if (missed > 0) Metrics.MissedBatches(missed);
        ss.HasSession = true;
        ss.Session = batch.Session;
        ss.Sequence = batch.Sequence;
        ss.LastSampleTime = t;
        ss.BootId = batch.BootId;
        var observed = receiveUnixNanos - t;
        // Min-tracking: network and queue delay only ever add, so the lowest offset seen is the best estimate; it
        // follows a downward step at once and an upward one (clock stepped back) at 1/16 per batch.
        if (!ss.HasOffset || observed < ss.Offset) ss.Offset = observed;
        else ss.Offset += (observed - ss.Offset) / 16;
        ss.HasOffset = true;
        var corrected = t + ss.Offset;

        var stamp = ++_batchStamp;
        var accepted = 0;
        List<Rejection>? rejections = null;
        for (var si = 0; si < n; si++)
        {
            ref var s = ref _samples[si];
            if (Sample(ref s, sw, t, corrected, batch.BootId, stamp, out var reason, out var detail))
            {
                accepted++;
            }
            else
            {
                var r = new Rejection(reason, agent, name, (int)Math.Min(s.Port, int.MaxValue), 1, detail!, WholeBatch: false);
                (rejections ??= []).Add(r);
                Metrics.Rejected(r);
            }
        }
        Metrics.Accepted(agent, accepted);
        return new IngestResult(accepted, n - accepted, (IReadOnlyList<Rejection>?)rejections ?? NoRejections);
    }

    /// <summary>Estimated offset of a switch's clock: control plane time minus switch time (including the least network delay seen), or null before its first batch.</summary>
    public long? ClockOffsetNanos(int switchId) => _switches[switchId].HasOffset ? _switches[switchId].Offset : null;

    /// <summary>The current view of one port, or null when the port is unknown or has never been accepted.</summary>
    public PortView? GetPort(int switchId, int port)
    {
        var i = Layout.PortIndex(switchId, (uint)port);
        if (i < 0 || _ports[i].SwitchTime == 0) return null;
        ref readonly var p = ref _ports[i];
        var line = Layout.LineBytesPerSecond(i);
        var prios = new List<PriorityView>();
        for (var k = 0; k < Priorities; k++)
        {
            ref readonly var q = ref _prio[i * Priorities + k];
            if (q.Time == 0) continue;
            prios.Add(new PriorityView(k, q.TxRate / line, q.RxRate / line, q.TxPauseRate, q.RxPauseRate, q.QueueBytes, q.HasRates));
        }
        return new PortView(
            Layout.LinkOf(i), p.HasRates,
            p.Rates[Ctr.TxBytes] / line, p.Rates[Ctr.RxBytes] / line,
            p.Rates[Ctr.TxPackets], p.Rates[Ctr.RxPackets], p.Rates[Ctr.TxDrops] + p.Rates[Ctr.RxDrops], p.Rates[Ctr.Ecn],
            p.Rates[Ctr.FecCorrected], p.Rates[Ctr.FecUncorrected], p.Rates[Ctr.SymbolErrors], p.Rates[Ctr.LinkDowns],
            (PortOperState)p.OperState, p.SeenTime,
            p.HasOptics ? p.PreFecBer : null, p.HasOptics ? p.TemperatureC : null, p.HasOptics ? p.RxPowerMinDbm : null,
            prios);
    }

    /// <summary>The raw points kept for a port, oldest first (at most <see cref="TelemetryOptions.RawHistoryDepth"/>).</summary>
    public IReadOnlyList<RawPoint> RecentPoints(int switchId, int port)
    {
        var i = Layout.PortIndex(switchId, (uint)port);
        if (i < 0) return [];
        ref readonly var p = ref _ports[i];
        var result = new RawPoint[p.RawCount];
        var start = (p.RawHead - p.RawCount + _depth) % _depth;
        for (var k = 0; k < p.RawCount; k++) result[k] = _raw[i * _depth + (start + k) % _depth];
        return result;
    }

    private IngestResult RejectBatch(RejectReason reason, string agent, string sw, int samples, string detail)
    {
        var r = new Rejection(reason, agent, sw, 0, samples, detail, WholeBatch: true);
        Metrics.Rejected(r);
        return new IngestResult(0, samples, [r]);
    }

    private bool Sample(ref PortSampleData s, int sw, long t, long corrected, ulong bootId, int stamp, out RejectReason reason, out string? detail)
    {
        detail = null;
        reason = default;
        var idx = Layout.PortIndex(sw, s.Port);
        if (idx < 0 || Layout.LinkOf(idx) < 0)
            return Fail(RejectReason.UnknownPort, idx < 0 ? $"port {s.Port} is outside 1..{Layout.Topology.Switches[sw].Radix}" : $"port {s.Port} is not cabled in the inventory", out reason, out detail);
        ref var ps = ref _ports[idx];
        if (ps.BatchStamp == stamp) return Fail(RejectReason.DuplicatePort, $"port {s.Port} appears twice in the batch", out reason, out detail);
        ps.BatchStamp = stamp;
        if ((uint)s.OperState > (uint)PortOperState.Testing) return Fail(RejectReason.OutOfRange, $"oper_state {s.OperState} is not a known state", out reason, out detail);

        // At most 9 entries are kept: a 9th entry is necessarily a duplicate or above 7, so it is caught here.
        var prioCount = Math.Min(s.PriorityCount, TelemetryWire.MaxPriorityEntries);
        var mask = 0;
        for (var qi = 0; qi < prioCount; qi++)
        {
            ref readonly var q = ref s.Priority[qi];
            if (q.Priority >= Priorities) return Fail(RejectReason.OutOfRange, $"priority {q.Priority} is above 7", out reason, out detail);
            if ((mask & (1 << (int)q.Priority)) != 0) return Fail(RejectReason.DuplicatePriority, $"priority {q.Priority} appears twice", out reason, out detail);
            mask |= 1 << (int)q.Priority;
            if (q.QueueBytes > (ulong)_o.MaxQueueBytes) return Fail(RejectReason.OutOfRange, $"priorities[{q.Priority}].queue_bytes {q.QueueBytes} is above {_o.MaxQueueBytes}", out reason, out detail);
        }
        float ber = 0, temp = 0, rxMin = 0;
        if (s.HasOptics && !CheckOptics(ref s, out reason, out detail, out ber, out temp, out rxMin)) return false;

        // Counters: decide baseline, wrap, reset or impossible before touching state.
        ref readonly var cur = ref s.Counters;
        var rebase = ps.SwitchTime == 0 || ps.BootId != bootId || ps.Epoch != s.Epoch;
        if (rebase && ps.SwitchTime != 0) Metrics.CounterReset();
        long dtN = 0;
        if (!rebase)
        {
            dtN = t - ps.SwitchTime;
            if (dtN <= 0) return Fail(RejectReason.OutOfOrderBatch, $"sample time {t} is not after the port's previous {ps.SwitchTime}", out reason, out detail);
            if (dtN > _maxRateInterval)
            {
                rebase = true;
                Metrics.Rebaseline();
            }
        }
        var dt = dtN * 1e-9;
        var line = Layout.LineBytesPerSecond(idx);
        var lineBytes = line * dt * (1 + _o.LineRateTolerance);
        PortCounters delta = default;
        var wraps = 0;
        if (!rebase)
        {
            var packetBound = lineBytes / MinPacketBytes;
            var codewordBound = lineBytes * 8 / CodewordBits;
            var symbolBound = lineBytes * 8 / 10;
            var flapBound = 10 + 1000 * dt;
            for (var k = 0; k < Ctr.Count; k++)
            {
                var bound = k switch
                {
                    Ctr.TxBytes or Ctr.RxBytes => lineBytes,
                    Ctr.FecCorrected or Ctr.FecUncorrected => codewordBound,
                    Ctr.SymbolErrors => symbolBound,
                    Ctr.LinkDowns => flapBound,
                    _ => packetBound,
                };
                var step = CounterMath.Delta(ps.Counters[k], cur[k], bound, out var d);
                if (step == CounterStep.Reset)
                {
                    rebase = true;
                    Metrics.CounterReset();
                    break;
                }
                if (step == CounterStep.Wrapped) wraps++;
                if (d > bound) return RateReject(ref ps, in cur, t, bootId, s.Epoch, $"{CounterName(k)} rose by {d} in {dt * 1e3:F1} ms, above the {line * 8 / 1e9:F0} Gb/s line rate allows", out reason, out detail);
                delta[k] = d;
            }
        }
        if (!rebase)
        {
            for (var qi = 0; qi < prioCount; qi++)
            {
                ref readonly var q = ref s.Priority[qi];
                ref readonly var pr = ref _prio[idx * Priorities + (int)q.Priority];
                if (pr.Time == 0) continue;
                var pb = line * ((t - pr.Time) * 1e-9) * (1 + _o.LineRateTolerance);
                if (q.TxBytes >= pr.TxBytes && q.TxBytes - pr.TxBytes > pb || q.RxBytes >= pr.RxBytes && q.RxBytes - pr.RxBytes > pb)
                    return RateReject(ref ps, in cur, t, bootId, s.Epoch, $"priorities[{q.Priority}] bytes rose faster than the line rate allows", out reason, out detail);
            }
        }
        if (!rebase) for (var w = 0; w < wraps; w++) Metrics.CounterWrap();

        // Commit.
        ps.RateRejects = 0;
        float txUtil = float.NaN, rxUtil = float.NaN, fecRate = float.NaN, dropRate = float.NaN;
        if (rebase)
        {
            ps.BootId = bootId;
            ps.Epoch = s.Epoch;
        }
        else
        {
            var w = Weight(dtN);
            var inv = 1 / dt;
            for (var k = 0; k < Ctr.Count; k++)
            {
                var rate = (float)(delta[k] * inv);
                ps.Rates[k] = ps.HasRates ? ps.Rates[k] + (rate - ps.Rates[k]) * w : rate;
            }
            ps.HasRates = true;
            txUtil = (float)(delta[Ctr.TxBytes] * inv / line);
            rxUtil = (float)(delta[Ctr.RxBytes] * inv / line);
            fecRate = (float)(delta[Ctr.FecUncorrected] * inv);
            dropRate = (float)((delta[Ctr.TxDrops] + delta[Ctr.RxDrops]) * inv);
        }
        ps.Counters = cur;
        ps.SwitchTime = t;
        ps.SeenTime = corrected;
        ps.OperState = (byte)s.OperState;
        if (s.HasOptics)
        {
            ps.HasOptics = true;
            ps.PreFecBer = ber;
            ps.TemperatureC = temp;
            ps.RxPowerMinDbm = rxMin;
        }
        for (var qi = 0; qi < prioCount; qi++) CommitPriority(idx, in s.Priority[qi], t, rebase, line);
        ps.PriorityMask |= (byte)mask;
        PublishLoad(idx, ref ps);

        var point = new RawPoint(corrected, txUtil, rxUtil, fecRate, dropRate,
            s.HasOptics ? ber : float.NaN, s.HasOptics ? temp : float.NaN, s.HasOptics ? rxMin : float.NaN);
        _raw[idx * _depth + ps.RawHead] = point;
        if (++ps.RawHead == _depth) ps.RawHead = 0;
        if (ps.RawCount < _depth) ps.RawCount++;
        Downsampler.Add(idx, point);
        return true;
    }

    /// <summary>Copies what snapshots read into the compact arrays.</summary>
    private void PublishLoad(int idx, ref PortState ps)
    {
        byte bytesMask = 0;
        float pause = 0;
        for (int m = ps.PriorityMask, k = 0; m != 0; m >>= 1, k++)
        {
            if ((m & 1) == 0) continue;
            ref readonly var q = ref _prio[idx * Priorities + k];
            ref var pl = ref _prioLoads[idx * Priorities + k];
            pl.QueueBytes = (uint)q.QueueBytes;
            if (!q.HasRates) continue;
            pause += q.TxPauseRate + q.RxPauseRate;
            pl.Pause = q.TxPauseRate + q.RxPauseRate;
            pl.TxRate = q.TxRate;
            pl.RxRate = q.RxRate;
            if (q.CountsBytes) bytesMask |= (byte)(1 << k);
        }
        _loads[idx] = new PortLoad
        {
            SeenTime = ps.SeenTime,
            TxRate = ps.Rates[Ctr.TxBytes],
            RxRate = ps.Rates[Ctr.RxBytes],
            FecUncorrected = ps.Rates[Ctr.FecUncorrected],
            Drops = ps.Rates[Ctr.TxDrops] + ps.Rates[Ctr.RxDrops],
            Ecn = ps.Rates[Ctr.Ecn],
            Pause = pause,
            PreFecBer = ps.PreFecBer,
            OperState = ps.OperState,
            PriorityMask = bytesMask,
            HasRates = ps.HasRates,
            HasOptics = ps.HasOptics,
        };
    }

    private void CommitPriority(int idx, in PriorityData q, long t, bool portRebased, float line)
    {
        ref var pr = ref _prio[idx * Priorities + (int)q.Priority];
        pr.QueueBytes = (long)q.QueueBytes;
        pr.CountsBytes = q.TxBytes != 0 || q.RxBytes != 0;
        if (!portRebased && pr.Time != 0 && t > pr.Time)
        {
            var dt = (t - pr.Time) * 1e-9;
            var pb = line * dt * (1 + _o.LineRateTolerance);
            var pauseBound = pb / MinPacketBytes; // pause frames are packets too
            // A per-priority counter that went down without a port reset restarts that priority only.
            if (CounterMath.Delta(pr.TxBytes, q.TxBytes, pb, out var tx) != CounterStep.Reset
                && CounterMath.Delta(pr.RxBytes, q.RxBytes, pb, out var rx) != CounterStep.Reset
                && CounterMath.Delta(pr.TxPause, q.TxPause, pauseBound, out var tp) != CounterStep.Reset
                && CounterMath.Delta(pr.RxPause, q.RxPause, pauseBound, out var rp) != CounterStep.Reset
                && tp <= pauseBound && rp <= pauseBound)
            {
                var w = Weight(t - pr.Time);
                Smooth(ref pr.TxRate, (float)(tx / dt), w, pr.HasRates);
                Smooth(ref pr.RxRate, (float)(rx / dt), w, pr.HasRates);
                Smooth(ref pr.TxPauseRate, (float)(tp / dt), w, pr.HasRates);
                Smooth(ref pr.RxPauseRate, (float)(rp / dt), w, pr.HasRates);
                pr.HasRates = true;
            }
        }
        pr.TxBytes = q.TxBytes;
        pr.RxBytes = q.RxBytes;
        pr.TxPause = q.TxPause;
        pr.RxPause = q.RxPause;
        pr.Time = t;
    }

    private bool RateReject(ref PortState ps, in PortCounters cur, long t, ulong bootId, uint epoch, string text, out RejectReason reason, out string? detail)
    {
        if (++ps.RateRejects >= _o.RebaselineAfterRateRejects)
        {
            // The counter really moved (agent bug, unflagged clear): learn the new baseline, still publish nothing from it.
            ps.Counters = cur;
            ps.SwitchTime = t;
            ps.BootId = bootId;
            ps.Epoch = epoch;
            ps.RateRejects = 0;
            Metrics.Rebaseline();
        }
        return Fail(RejectReason.RateAboveLineSpeed, text, out reason, out detail);
    }

    private static bool CheckOptics(ref PortSampleData o, out RejectReason reason, out string? detail, out float ber, out float temp, out float rxMin)
    {
        ber = temp = rxMin = 0;
        if (!Check("optics.temperature_c", o.TemperatureC, -40, 125, out reason, out detail)) return false;
        if (!Check("optics.supply_voltage_v", o.SupplyVoltageV, 2.5, 4.0, out reason, out detail)) return false;
        if (!Check("optics.pre_fec_ber", o.PreFecBer, 0, 1, out reason, out detail)) return false;
        var lanes = o.BiasCount;
        if (lanes is < 1 or > TelemetryWire.MaxLanes || o.TxCount != lanes || o.RxCount != lanes)
            return Fail(RejectReason.MissingField, $"optics lanes: bias_current_ma {o.BiasCount}, tx_power_dbm {o.TxCount}, rx_power_dbm {o.RxCount} values; need 1 to 8 of each, the same number", out reason, out detail);
        var min = double.MaxValue;
        for (var i = 0; i < lanes; i++)
        {
            if (!Check("optics.bias_current_ma", o.Bias[i], 0, 200, out reason, out detail)) return false;
            if (!Check("optics.tx_power_dbm", o.Tx[i], -40, 10, out reason, out detail)) return false;
            if (!Check("optics.rx_power_dbm", o.Rx[i], -40, 10, out reason, out detail)) return false;
            min = Math.Min(min, o.Rx[i]);
        }
        ber = (float)o.PreFecBer;
        temp = (float)o.TemperatureC;
        rxMin = (float)min;
        return true;
    }

    /// <summary>EWMA weight for an interval; polls come at a steady rate, so the last interval's weight is kept.</summary>
    private float Weight(long dtN)
    {
        if (dtN != _lastWeightDt)
        {
            _lastWeightDt = dtN;
            _lastWeight = (float)CounterMath.EwmaWeight(dtN * 1e-9, _tauSeconds);
        }
        return _lastWeight;
    }

    private static void Smooth(ref float s, float r, float w, bool has) => s = has ? s + (r - s) * w : r;

    private static string CounterName(int k) => k switch
    {
        Ctr.TxBytes => "tx_bytes",
        Ctr.RxBytes => "rx_bytes",
        Ctr.TxPackets => "tx_packets",
        Ctr.RxPackets => "rx_packets",
        Ctr.TxDrops => "tx_drops",
        Ctr.RxDrops => "rx_drops",
        Ctr.Ecn => "ecn_marked_packets",
        Ctr.FecCorrected => "fec_corrected_codewords",
        Ctr.FecUncorrected => "fec_uncorrected_codewords",
        Ctr.SymbolErrors => "symbol_errors",
        _ => "link_down_count",
    };

    private static bool Check(string field, double v, double lo, double hi, out RejectReason reason, out string? detail)
    {
        if (!double.IsFinite(v)) return Fail(RejectReason.NotFinite, $"{field} is {v}", out reason, out detail);
        if (v < lo || v > hi) return Fail(RejectReason.OutOfRange, $"{field} is {v}, outside {lo}..{hi}", out reason, out detail);
        reason = default;
        detail = null;
        return true;
    }

    private static bool Fail(RejectReason r, string text, out RejectReason reason, out string? detail)
    {
        reason = r;
        detail = text;
        return false;
    }

    private struct SwitchState
    {
        public ulong Session;
        public ulong Sequence;
        public long LastSampleTime;
        public ulong BootId;
        public long Offset;
        public bool HasSession;
        public bool HasOffset;
    }
}

/// <summary>Current figures of one priority of a port; rates smoothed.</summary>
public sealed record PriorityView(int Priority, double TxUtil, double RxUtil, double TxPauseRate, double RxPauseRate, long QueueBytes, bool HasRates);

/// <summary>Current figures of one port; rates smoothed, per second; utilizations as fractions of line rate.</summary>
public sealed record PortView(
    int LinkId,
    bool HasRates,
    double TxUtil,
    double RxUtil,
    double TxPacketRate,
    double RxPacketRate,
    double DropRate,
    double EcnRate,
    double FecCorrectedRate,
    double FecUncorrectedRate,
    double SymbolErrorRate,
    double LinkDownRate,
    PortOperState OperState,
    long LastSeenUnixNanos,
    double? PreFecBer,
    double? TemperatureC,
    double? RxPowerMinDbm,
    IReadOnlyList<PriorityView> Priorities);

/// <summary>Conversions to and from unix nanoseconds, the pipeline's time unit.</summary>
public static class UnixNanos
{
    /// <summary>Unix nanoseconds of an instant.</summary>
    public static long From(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    /// <summary>The instant of unix nanoseconds (to the 100 ns tick).</summary>
    public static DateTimeOffset ToDateTimeOffset(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);

    /// <summary>Nanoseconds of a span.</summary>
    public static long FromTimeSpan(TimeSpan s) => s.Ticks * 100;

    /// <summary>Now, from a time provider.</summary>
    public static long Now(TimeProvider clock) => From(clock.GetUtcNow());
}
