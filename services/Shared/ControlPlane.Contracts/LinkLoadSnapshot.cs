namespace ControlPlane.Contracts;

/// <summary>
/// Link loads of one plane for one period, published by telemetry ingest for the routing engine and fault
/// detection. A delta (<see cref="IsFull"/> false) carries only the links that changed beyond the ingest's
/// thresholds since they were last published; a full snapshot carries every link of the plane. A consumer
/// that starts late, or sees a gap in <see cref="Sequence"/>, waits for the next full snapshot.
/// </summary>
public sealed record LinkLoadSnapshot
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>Plane id.</summary>
    public required int Plane { get; init; }

    /// <summary>Per plane, +1 for every snapshot (full or delta) published.</summary>
    public required long Sequence { get; init; }

    /// <summary>True when every link of the plane is listed.</summary>
    public required bool IsFull { get; init; }

    /// <summary>End of the period the snapshot describes, on the control plane's clock.</summary>
    public required DateTimeOffset PeriodEnd { get; init; }

    /// <summary>Largest age, at <see cref="PeriodEnd"/>, of the newest sample of any fresh port of the plane, in milliseconds.</summary>
    public required double MaxLagMs { get; init; }

    /// <summary>Loads of the links listed.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(LinkLoadsJsonConverter))]
    public required IReadOnlyList<LinkLoad> Loads { get; init; }
}

/// <summary>Smoothed load and error figures of one link. Rates are per second; utilizations are fractions of line rate.</summary>
public sealed record LinkLoad
{
    /// <summary>Link id in the fabric topology.</summary>
    public required int LinkId { get; init; }

    /// <summary>Utilization from end A to end B, 0..1.</summary>
    public required double UtilAtoB { get; init; }

    /// <summary>Utilization from end B to end A, 0..1.</summary>
    public required double UtilBtoA { get; init; }

    /// <summary>FEC-uncorrectable codewords per second, worst receiving end.</summary>
    public required double ErrorRate { get; init; }

    /// <summary>Pre-FEC bit error ratio, worst end, latest reading; 0 when no optics reading.</summary>
    public required double PreFecBer { get; init; }

    /// <summary>Dropped packets per second, both ends, both directions.</summary>
    public required double DropRate { get; init; }

    /// <summary>ECN-marked packets per second, both ends.</summary>
    public required double EcnRate { get; init; }

    /// <summary>PFC pause frames per second, both ends, all priorities, sent and received.</summary>
    public required double PauseRate { get; init; }

    /// <summary>True when every reporting end says the port is operationally up.</summary>
    public required bool Up { get; init; }

    /// <summary>False when no end has reported recently: the figures are the last known and should not be trusted.</summary>
    public required bool Fresh { get; init; }

    /// <summary>Per-priority loads, for priorities whose byte counters an end reports; empty otherwise.</summary>
    public IReadOnlyList<PriorityLoad> Priorities { get; init; } = [];
}

/// <summary>Load of one priority (traffic class) on a link.</summary>
public sealed record PriorityLoad
{
    /// <summary>Priority 0..7.</summary>
    public required int Priority { get; init; }

    /// <summary>Utilization of the priority from A to B, 0..1 of the link's line rate.</summary>
    public required double UtilAtoB { get; init; }

    /// <summary>Utilization of the priority from B to A.</summary>
    public required double UtilBtoA { get; init; }

    /// <summary>PFC pause frames per second for this priority, both ends.</summary>
    public required double PauseRate { get; init; }

    /// <summary>Largest egress queue occupancy of the two ends, bytes, latest.</summary>
    public required long QueueBytes { get; init; }
}
