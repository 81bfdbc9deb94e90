using ControlPlane.Fabric;

namespace ControlPlane.Telemetry;

/// <summary>
/// Settings of the ingest pipeline. Every figure has a default chosen for a 400G/800G fabric polled at 10 Hz;
/// <see cref="Validate"/> lists every problem, naming the field.
/// </summary>
public sealed record TelemetryOptions
{
    /// <summary>Snapshot period (default 100 ms): one <c>LinkLoadSnapshot</c> per plane per period.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Interval between full snapshots (default 5 s = every 50th period). A consumer that starts late catches up
    /// within this interval; between full snapshots only changed links are sent.
    /// </summary>
    public TimeSpan FullSnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// EWMA time constant tau (default 500 ms). Each new rate r measured over dt moves the smoothed value s by
    /// <c>s += (r - s) * (1 - exp(-dt / tau))</c>, so the weight of a sample does not depend on the poll rate:
    /// a step change is 63% through after tau and 95% after 3 tau (1.5 s). Long enough to damp the routing loop
    /// against single-poll bursts, short enough that a failure-driven shift shows within a few periods.
    /// </summary>
    public TimeSpan EwmaTimeConstant { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A link goes into a delta snapshot when either direction's utilization moved by at least this much (absolute fraction of line rate) since it was last published. Default 0.02 (2%).</summary>
    public double UtilizationChangeThreshold { get; init; } = 0.02;

    /// <summary>
    /// A link goes into a delta snapshot when an error, drop, ECN or pause rate moved by more than this fraction of its
    /// last published value (default 0.5), or went from zero to non-zero or back.
    /// </summary>
    public double RateRelativeChangeThreshold { get; init; } = 0.5;

    /// <summary>Rates below this many events per second count as zero for change detection (default 0.5/s).</summary>
    public double RateAbsoluteFloor { get; init; } = 0.5;

    /// <summary>A port with no accepted sample for this long is stale: its links are published with <c>Fresh = false</c>. Default 1 s.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sample times further than this from the receive time (after nothing but the network) are rejected as
    /// in the future or too old. Default 30 s.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest interval a rate is computed over (default 10 s). After a longer gap the new sample is taken as a fresh
    /// baseline: an average over a long outage says nothing about the current load.
    /// </summary>
    public TimeSpan MaxRateInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Slack over line rate before a rate is impossible (default 0.05: 5%, for clock jitter between counter reads).</summary>
    public double LineRateTolerance { get; init; } = 0.05;

    /// <summary>
    /// Consecutive samples of one port rejected for a rate above line speed after which the port is re-baselined
    /// (default 3): a single corrupt reading is skipped, a counter that really jumped is re-learned.
    /// </summary>
    public int RebaselineAfterRateRejects { get; init; } = 3;

    /// <summary>Largest encoded batch accepted, bytes (default 1 MiB).</summary>
    public int MaxBatchBytes { get; init; } = 1 << 20;

    /// <summary>Largest number of port samples in a batch (default 4096).</summary>
    public int MaxPortsPerBatch { get; init; } = 4096;

    /// <summary>Largest plausible egress queue occupancy, bytes (default 1 GiB; switch buffers are tens to hundreds of MB).</summary>
    public long MaxQueueBytes { get; init; } = 1L << 30;

    /// <summary>Raw-resolution points kept per port in memory (default 32 = 3.2 s at 10 Hz; 40 bytes a point).</summary>
    public int RawHistoryDepth { get; init; } = 32;

    /// <summary>Downsampling bucket (default 10 s): one min/mean/max row per port per bucket.</summary>
    public TimeSpan DownsampleBucket { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Downsampled rows held until drained (default 262,144, over 5 buckets of an MPFT); beyond it the oldest are dropped and counted.</summary>
    public int MaxPendingRows { get; init; } = 262_144;

    /// <summary>Batches the ingest queue holds (default 4096: over 5 polls of every switch of an MPFT).</summary>
    public int QueueCapacityBatches { get; init; } = 4096;

    /// <summary>Bytes the ingest queue holds (default 256 MiB).</summary>
    public long QueueCapacityBytes { get; init; } = 256L << 20;

    /// <summary>Every problem, each naming its field; empty when valid.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (Period <= TimeSpan.Zero || Period > TimeSpan.FromMinutes(1)) e.Add(new("period", $"must be between 0 and 1 minute, got {Period}"));
        if (FullSnapshotInterval < Period) e.Add(new("fullSnapshotInterval", $"must be at least the period ({Period}), got {FullSnapshotInterval}"));
        if (EwmaTimeConstant <= TimeSpan.Zero) e.Add(new("ewmaTimeConstant", $"must be positive, got {EwmaTimeConstant}"));
        if (!(UtilizationChangeThreshold >= 0 && UtilizationChangeThreshold <= 1)) e.Add(new("utilizationChangeThreshold", $"must be between 0 and 1, got {UtilizationChangeThreshold}"));
        if (!(RateRelativeChangeThreshold >= 0) || double.IsInfinity(RateRelativeChangeThreshold)) e.Add(new("rateRelativeChangeThreshold", $"must be a non-negative number, got {RateRelativeChangeThreshold}"));
        if (!(RateAbsoluteFloor >= 0) || double.IsInfinity(RateAbsoluteFloor)) e.Add(new("rateAbsoluteFloor", $"must be a non-negative number, got {RateAbsoluteFloor}"));
        if (StaleAfter <= TimeSpan.Zero) e.Add(new("staleAfter", $"must be positive, got {StaleAfter}"));
        if (MaxClockSkew <= TimeSpan.Zero) e.Add(new("maxClockSkew", $"must be positive, got {MaxClockSkew}"));
        if (MaxRateInterval <= TimeSpan.Zero) e.Add(new("maxRateInterval", $"must be positive, got {MaxRateInterval}"));
        if (!(LineRateTolerance >= 0 && LineRateTolerance <= 1)) e.Add(new("lineRateTolerance", $"must be between 0 and 1, got {LineRateTolerance}"));
        if (RebaselineAfterRateRejects is < 1 or > 100) e.Add(new("rebaselineAfterRateRejects", $"must be between 1 and 100, got {RebaselineAfterRateRejects}"));
        if (MaxBatchBytes < 64) e.Add(new("maxBatchBytes", $"must be at least 64, got {MaxBatchBytes}"));
        if (MaxPortsPerBatch < 1) e.Add(new("maxPortsPerBatch", $"must be at least 1, got {MaxPortsPerBatch}"));
        if (MaxQueueBytes < 1) e.Add(new("maxQueueBytes", $"must be positive, got {MaxQueueBytes}"));
        if (RawHistoryDepth < 1 || RawHistoryDepth > 4096) e.Add(new("rawHistoryDepth", $"must be between 1 and 4096, got {RawHistoryDepth}"));
        if (DownsampleBucket < Period) e.Add(new("downsampleBucket", $"must be at least the period ({Period}), got {DownsampleBucket}"));
        if (MaxPendingRows < 1) e.Add(new("maxPendingRows", $"must be at least 1, got {MaxPendingRows}"));
        if (QueueCapacityBatches < 1) e.Add(new("queueCapacityBatches", $"must be at least 1, got {QueueCapacityBatches}"));
        if (QueueCapacityBytes < MaxBatchBytes) e.Add(new("queueCapacityBytes", $"must hold at least one batch of maxBatchBytes ({MaxBatchBytes}), got {QueueCapacityBytes}"));
        return e;
    }

    /// <summary>Throws <see cref="FabricInputException"/> listing every problem.</summary>
    public TelemetryOptions ThrowIfInvalid()
    {
        var e = Validate();
        if (e.Count > 0) throw new FabricInputException(e);
        return this;
    }
}
