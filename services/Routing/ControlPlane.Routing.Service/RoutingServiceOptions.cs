using ControlPlane.Distribution;
using ControlPlane.Routing;

namespace ControlPlane.Routing.Service;

/// <summary>Routing service options (section "Routing").</summary>
public sealed class RoutingServiceOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Routing";

    /// <summary>Buckets per next-hop group (the switch ASIC's group size). Default 64.</summary>
    public int GroupSize { get; set; } = 64;

    /// <summary>Congestion-driven recomputes happen at most this often per fabric, in milliseconds. Default 2000.</summary>
    public int AdaptivePeriodMs { get; set; } = 2000;

    /// <summary>
    /// After tables are published, link loads of periods ending within this many milliseconds are not acted on: they were
    /// measured (partly) under the older tables: install, one emulation or counter period, and the telemetry EWMA (about
    /// three time constants) must pass first. Default 1500 (3 x the telemetry's 500 ms time constant).
    /// </summary>
    public int AdaptiveSettleMs { get; set; } = 1500;

    /// <summary>When false, link-load snapshots are recorded but never move a table. Default true.</summary>
    public bool Adaptive { get; set; } = true;

    /// <summary>
    /// Send a switch's table as a delta from the one last sent (about 20 times smaller after a failure) instead of whole;
    /// complete publications are always whole. Off: every message carries full tables, for a consumer that cannot apply deltas.
    /// </summary>
    public bool PublishDeltas { get; set; } = true;

    /// <summary>Parameters of the congestion loop (defaults from <see cref="ControlPlane.Routing.AdaptivePolicy"/>).</summary>
    public AdaptivePolicyOptions AdaptivePolicy { get; set; } = new();

    /// <summary>Fabrics to route; empty means every fabric in the store (including ones created later).</summary>
    public List<string> Fabrics { get; set; } = [];

    /// <summary>How long to wait between attempts to read the store when it is unreachable or a load failed, in milliseconds. Default 2000.</summary>
    public int StoreRetryMs { get; set; } = 2000;

    /// <summary>How often the store is listed for fabrics that appeared without a TopologyChanged, in milliseconds (0: never). Default 30000.</summary>
    public int RescanMs { get; set; } = 30_000;

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Problems()
    {
        if (GroupSize is < 1 or > 4096) yield return $"{Section}:GroupSize must be between 1 and 4096 buckets, got {GroupSize}";
        if (AdaptivePeriodMs is < 10 or > 3_600_000) yield return $"{Section}:AdaptivePeriodMs must be between 10 and 3600000, got {AdaptivePeriodMs}";
        if (AdaptiveSettleMs is < 0 or > 3_600_000) yield return $"{Section}:AdaptiveSettleMs must be between 0 and 3600000, got {AdaptiveSettleMs}";
        if (StoreRetryMs is < 10 or > 600_000) yield return $"{Section}:StoreRetryMs must be between 10 and 600000, got {StoreRetryMs}";
        if (RescanMs is < 0 or > 86_400_000) yield return $"{Section}:RescanMs must be between 0 (never) and 86400000, got {RescanMs}";
        if (AdaptivePolicy is null) yield return $"{Section}:AdaptivePolicy must not be null";
        else
            foreach (var e in AdaptivePolicy.ToPolicy().Validate())
                yield return $"{Section}:AdaptivePolicy:{char.ToUpperInvariant(e.Field[0])}{e.Field[1..]} {e.Reason}";
        foreach (var f in Fabrics)
            if (string.IsNullOrWhiteSpace(f)) yield return $"{Section}:Fabrics must not contain an empty name";
    }
}

/// <summary>The congestion loop's parameters as configuration (see <see cref="ControlPlane.Routing.AdaptivePolicy"/>).</summary>
public sealed class AdaptivePolicyOptions
{
    private static readonly AdaptivePolicy Defaults = new();

    /// <summary>Fraction of the correction applied per step, in (0, 1].</summary>
    public double Gain { get; set; } = Defaults.Gain;

    /// <summary>Relative deviation from the peer mean that is ignored.</summary>
    public double DeadBand { get; set; } = Defaults.DeadBand;

    /// <summary>Extra deviation needed to become hot beyond the dead band.</summary>
    public double HysteresisBand { get; set; } = Defaults.HysteresisBand;

    /// <summary>Lowest multiplier.</summary>
    public double MinMultiplier { get; set; } = Defaults.MinMultiplier;

    /// <summary>Largest relative multiplier change per step.</summary>
    public double MaxMultiplierChange { get; set; } = Defaults.MaxMultiplierChange;

    /// <summary>Largest number of buckets moved per group per step.</summary>
    public int MaxBucketChangePerStep { get; set; } = Defaults.MaxBucketChangePerStep;

    /// <summary>The core policy.</summary>
    public AdaptivePolicy ToPolicy() => new()
    {
        Gain = Gain,
        DeadBand = DeadBand,
        HysteresisBand = HysteresisBand,
        MinMultiplier = MinMultiplier,
        MaxMultiplierChange = MaxMultiplierChange,
        MaxBucketChangePerStep = MaxBucketChangePerStep,
    };
}

