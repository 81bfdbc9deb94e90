using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ControlPlane.Telemetry;

/// <summary>
/// Health and metrics of the ingest: samples and batches accepted and rejected (per reason and per agent), gaps,
/// counter wraps and resets, shed batches, and the lag from sample time to snapshot. Kept as plain counters that
/// a host can read (<see cref="Read"/>) and also published on a <see cref="Meter"/> named
/// <see cref="MeterName"/> for OpenTelemetry. Thread-safe.
/// </summary>
public sealed class TelemetryMetrics : IDisposable
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "ControlPlane.Telemetry";

    /// <summary>Distinct agents tracked one by one; beyond that they are summed under <see cref="OtherAgents"/> so a flood of made-up ids cannot grow memory.</summary>
    public const int MaxTrackedAgents = 65_536;

    /// <summary>Key under which agents beyond <see cref="MaxTrackedAgents"/> are counted.</summary>
    public const string OtherAgents = "(other)";

    private static readonly int ReasonCount = Enum.GetValues<RejectReason>().Length;

    private readonly Meter _meter;
    private readonly Counter<long> _samplesAccepted;
    private readonly Counter<long> _samplesRejected;
    private readonly Counter<long> _batchesRejected;
    private readonly Histogram<double> _lag;
    private readonly Lock _lock = new();
    private readonly long[] _samplesRejectedByReason = new long[ReasonCount];
    private readonly long[] _batchesRejectedByReason = new long[ReasonCount];
    private readonly Dictionary<string, AgentCounts> _agents = new(StringComparer.Ordinal);
    private long _samplesAccepted_, _batchesAccepted, _missedBatches, _counterWraps, _counterResets, _rebaselines, _snapshots, _rowsDropped;
    private double _lastLagMs, _maxLagMs;

    /// <summary>Creates the counters and the meter.</summary>
    public TelemetryMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _samplesAccepted = _meter.CreateCounter<long>("telemetry.samples.accepted", "{sample}", "Port samples accepted");
        _samplesRejected = _meter.CreateCounter<long>("telemetry.samples.rejected", "{sample}", "Port samples rejected, by reason and agent");
        _batchesRejected = _meter.CreateCounter<long>("telemetry.batches.rejected", "{batch}", "Batches rejected whole, by reason and agent");
        _lag = _meter.CreateHistogram<double>("telemetry.snapshot.lag", "ms", "Age of the newest sample of the worst fresh port at snapshot time");
        _meter.CreateObservableCounter("telemetry.batches.missed", () => Interlocked.Read(ref _missedBatches), "{batch}", "Batches missing from sequence gaps");
        _meter.CreateObservableCounter("telemetry.counters.resets", () => Interlocked.Read(ref _counterResets), "{reset}", "Port counter resets seen");
    }

    /// <summary>Records accepted samples of one batch.</summary>
    public void Accepted(string agent, int samples)
    {
        Interlocked.Add(ref _samplesAccepted_, samples);
        Interlocked.Increment(ref _batchesAccepted);
        lock (_lock) Agent(agent).SamplesAccepted += samples;
        _samplesAccepted.Add(samples);
    }

    /// <summary>Records a refusal: a whole batch or one sample (<see cref="Rejection.WholeBatch"/>).</summary>
    public void Rejected(in Rejection r)
    {
        var tags = new TagList { { "reason", r.Reason.ToString() }, { "agent", r.Agent } };
        lock (_lock)
        {
            var a = Agent(r.Agent);
            a.SamplesRejected[(int)r.Reason] += r.Samples;
            _samplesRejectedByReason[(int)r.Reason] += r.Samples;
            if (r.WholeBatch)
            {
                a.BatchesRejected[(int)r.Reason]++;
                _batchesRejectedByReason[(int)r.Reason]++;
            }
        }
        if (r.Samples > 0) _samplesRejected.Add(r.Samples, tags);
        if (r.WholeBatch) _batchesRejected.Add(1, tags);
    }

    internal void MissedBatches(long n) => Interlocked.Add(ref _missedBatches, n);
    internal void CounterWrap() => Interlocked.Increment(ref _counterWraps);
    internal void CounterReset() => Interlocked.Increment(ref _counterResets);
    internal void Rebaseline() => Interlocked.Increment(ref _rebaselines);
    internal void RowsDropped(long n) => Interlocked.Add(ref _rowsDropped, n);

    /// <summary>Records the lag of one snapshot.</summary>
    public void SnapshotLag(double ms)
    {
        Interlocked.Increment(ref _snapshots);
        lock (_lock)
        {
            _lastLagMs = ms;
            if (ms > _maxLagMs) _maxLagMs = ms;
        }
        _lag.Record(ms);
    }

    /// <summary>A consistent copy of every figure.</summary>
    public TelemetryMetricsSnapshot Read()
    {
        lock (_lock)
        {
            return new TelemetryMetricsSnapshot(
                SamplesAccepted: Interlocked.Read(ref _samplesAccepted_),
                BatchesAccepted: Interlocked.Read(ref _batchesAccepted),
                SamplesRejected: ByReason(_samplesRejectedByReason),
                BatchesRejected: ByReason(_batchesRejectedByReason),
                Agents: _agents.ToDictionary(kv => kv.Key, kv => new AgentFigures(kv.Value.SamplesAccepted, ByReason(kv.Value.SamplesRejected), ByReason(kv.Value.BatchesRejected)), StringComparer.Ordinal),
                MissedBatches: Interlocked.Read(ref _missedBatches),
                CounterWraps: Interlocked.Read(ref _counterWraps),
                CounterResets: Interlocked.Read(ref _counterResets),
                Rebaselines: Interlocked.Read(ref _rebaselines),
                RowsDropped: Interlocked.Read(ref _rowsDropped),
                Snapshots: Interlocked.Read(ref _snapshots),
                LastLagMs: _lastLagMs,
                MaxLagMs: _maxLagMs);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();

    private AgentCounts Agent(string agent)
    {
        if (_agents.TryGetValue(agent, out var a)) return a;
        if (_agents.Count >= MaxTrackedAgents) agent = OtherAgents;
        if (!_agents.TryGetValue(agent, out a)) _agents[agent] = a = new AgentCounts();
        return a;
    }

    private static IReadOnlyDictionary<RejectReason, long> ByReason(long[] counts)
    {
        var d = new Dictionary<RejectReason, long>();
        for (var i = 0; i < counts.Length; i++) if (counts[i] != 0) d[(RejectReason)i] = counts[i];
        return d;
    }

    private sealed class AgentCounts
    {
        public long SamplesAccepted;
        public readonly long[] SamplesRejected = new long[ReasonCount];
        public readonly long[] BatchesRejected = new long[ReasonCount];
    }
}

/// <summary>Figures of one agent.</summary>
public sealed record AgentFigures(long SamplesAccepted, IReadOnlyDictionary<RejectReason, long> SamplesRejected, IReadOnlyDictionary<RejectReason, long> BatchesRejected);

/// <summary>A copy of the ingest's figures. Reason maps hold only non-zero counts.</summary>
public sealed record TelemetryMetricsSnapshot(
    long SamplesAccepted,
    long BatchesAccepted,
    IReadOnlyDictionary<RejectReason, long> SamplesRejected,
    IReadOnlyDictionary<RejectReason, long> BatchesRejected,
    IReadOnlyDictionary<string, AgentFigures> Agents,
    long MissedBatches,
    long CounterWraps,
    long CounterResets,
    long Rebaselines,
    long RowsDropped,
    long Snapshots,
    double LastLagMs,
    double MaxLagMs)
{
    /// <summary>Samples rejected for one reason (0 when none).</summary>
    public long Rejected(RejectReason reason) => SamplesRejected.TryGetValue(reason, out var n) ? n : 0;

    /// <summary>Batches rejected whole for one reason (0 when none).</summary>
    public long BatchRejected(RejectReason reason) => BatchesRejected.TryGetValue(reason, out var n) ? n : 0;
}
