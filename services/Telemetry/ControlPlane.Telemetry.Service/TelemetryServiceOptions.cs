namespace ControlPlane.Telemetry.Service;

/// <summary>Length of one partition of the series table.</summary>
public enum PartitionInterval
{
    /// <summary>One partition per hour (default; tens of thousands of ports write ~4M rows an hour).</summary>
    Hour = 0,
    /// <summary>One partition per day.</summary>
    Day = 1,
}

/// <summary>Telemetry ingest service options (section "Telemetry"); the pipeline's own figures are under "Telemetry:Pipeline".</summary>
public sealed class TelemetryServiceOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Telemetry";

    /// <summary>Section of the pipeline options (<see cref="TelemetryOptions"/>).</summary>
    public const string PipelineSection = "Telemetry:Pipeline";

    /// <summary>Logical name of the series store's connection string (ConnectionStrings:telemetry).</summary>
    public const string ConnectionName = "telemetry";

    /// <summary>Header naming the sending agent on HTTP ingest.</summary>
    public const string AgentHeader = "X-Agent-Id";

    /// <summary>Fabrics to serve, one worker each; empty means every fabric in the inventory store.</summary>
    public List<string> Fabrics { get; set; } = [];

    /// <summary>How long downsampled rows are kept (default 7 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>PostgreSQL partition length (Hour or Day).</summary>
    public PartitionInterval Partition { get; set; } = PartitionInterval.Hour;

    /// <summary>Partitions created ahead of the current one (default 2).</summary>
    public int PartitionsAhead { get; set; } = 2;

    /// <summary>How often retention runs (default 10 minutes, on the host's TimeProvider).</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an HTTP ingest waits for the worker's verdict before answering 202 "queued" (default 2 s).</summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait between attempts to load the topology when the inventory store is not reachable (default 5 s).</summary>
    public TimeSpan TopologyRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Rows written per COPY / transaction (default 50,000).</summary>
    public int WriteBatchRows { get; set; } = 50_000;

    /// <summary>Longest span a query may cover (default 7 days).</summary>
    public TimeSpan MaxQuerySpan { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Problems()
    {
        if (Retention < TimeSpan.FromMinutes(1)) yield return $"Telemetry:Retention must be at least 1 minute, got {Retention}";
        if (!Enum.IsDefined(Partition)) yield return $"Telemetry:Partition must be Hour or Day, got {Partition}";
        if (PartitionsAhead is < 0 or > 48) yield return $"Telemetry:PartitionsAhead must be between 0 and 48, got {PartitionsAhead}";
        if (RetentionCheckInterval <= TimeSpan.Zero) yield return $"Telemetry:RetentionCheckInterval must be positive, got {RetentionCheckInterval}";
        if (ReplyTimeout < TimeSpan.Zero || ReplyTimeout > TimeSpan.FromMinutes(1)) yield return $"Telemetry:ReplyTimeout must be between 0 and 1 minute, got {ReplyTimeout}";
        if (TopologyRetryInterval <= TimeSpan.Zero) yield return $"Telemetry:TopologyRetryInterval must be positive, got {TopologyRetryInterval}";
        if (WriteBatchRows < 1) yield return $"Telemetry:WriteBatchRows must be at least 1, got {WriteBatchRows}";
        if (MaxQuerySpan <= TimeSpan.Zero) yield return $"Telemetry:MaxQuerySpan must be positive, got {MaxQuerySpan}";
        foreach (var f in Fabrics)
            if (string.IsNullOrWhiteSpace(f)) yield return "Telemetry:Fabrics must not contain an empty name";
    }
}
