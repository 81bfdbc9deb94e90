using System.Text;
using ControlPlane.Distribution;

namespace ControlPlane.Distribution.Service;

/// <summary>Route distribution service options (section "Distribution").</summary>
public sealed class DistributionServiceOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Distribution";

    /// <summary>Logical name of the store's connection string (ConnectionStrings:distribution).</summary>
    public const string ConnectionName = "distribution";

    /// <summary>Fabrics to serve; empty means every fabric in the inventory store (and any named later by a message).</summary>
    public List<string> Fabrics { get; set; } = [];

    /// <summary>How long a priority (failure-driven) wave may wait for its acks before the next wave is released anyway (default 300 ms).</summary>
    public TimeSpan PriorityWaveTimeout { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Same for congestion-driven waves (default 2 s).</summary>
    public TimeSpan CongestionWaveTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After the last wave is released, how long the rollout waits for stragglers before it reports them as lagging (default 10 s).</summary>
    public TimeSpan ConvergenceTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often to ask routing for complete tables while none have arrived since start.</summary>
    public TimeSpan RequestTablesInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often acknowledged state is written to the store (default 200 ms); the hot path never waits for it.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Convergence durations kept per fabric for the status (default 50).</summary>
    public int ConvergenceHistory { get; set; } = 50;

    /// <summary>Wait before the first retry of an unacknowledged send (default 200 ms).</summary>
    public TimeSpan InitialRetry { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap of the retry back-off (default 10 s).</summary>
    public TimeSpan MaxRetry { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retry jitter as a fraction, 0..1 (default 0.2).</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>Congestion-lane sends per switch per second (default 2).</summary>
    public int CongestionUpdatesPerSecond { get; set; } = 2;

    /// <summary>Unacknowledged delta attempts before a full table is sent instead (default 3).</summary>
    public int FullTableAfterAttempts { get; set; } = 3;

    /// <summary>The planner's options.</summary>
    public DistributionOptions ToPlannerOptions() => new()
    {
        InitialRetry = InitialRetry,
        MaxRetry = MaxRetry,
        Jitter = Jitter,
        CongestionUpdatesPerSecond = CongestionUpdatesPerSecond,
        FullTableAfterAttempts = FullTableAfterAttempts,
    };

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Problems()
    {
        if (PriorityWaveTimeout <= TimeSpan.Zero) yield return $"{Section}:PriorityWaveTimeout must be positive, got {PriorityWaveTimeout}";
        if (CongestionWaveTimeout <= TimeSpan.Zero) yield return $"{Section}:CongestionWaveTimeout must be positive, got {CongestionWaveTimeout}";
        if (RequestTablesInterval <= TimeSpan.Zero) yield return $"{Section}:RequestTablesInterval must be positive, got {RequestTablesInterval}";
        if (ConvergenceTimeout <= TimeSpan.Zero) yield return $"{Section}:ConvergenceTimeout must be positive, got {ConvergenceTimeout}";
        if (PersistInterval <= TimeSpan.Zero || PersistInterval > TimeSpan.FromMinutes(1)) yield return $"{Section}:PersistInterval must be between 0 and 1 minute, got {PersistInterval}";
        if (ConvergenceHistory is < 1 or > 10_000) yield return $"{Section}:ConvergenceHistory must be between 1 and 10000, got {ConvergenceHistory}";
        foreach (var e in ToPlannerOptions().Validate())
            yield return $"{Section}:{char.ToUpperInvariant(e.Field[0])}{e.Field[1..]} {e.Reason}";
        foreach (var f in Fabrics)
            if (string.IsNullOrWhiteSpace(f)) yield return $"{Section}:Fabrics must not contain an empty name";
    }
}

