using System.Globalization;

namespace ControlPlane.Agent.Emulated;

/// <summary>
/// Live figures of the emulated fabric, a DI singleton: the all-in-one host prints <see cref="Summary"/> and
/// GET /api/v1/emulation/status returns <see cref="Snapshot"/>. Written by the emulation, read from anywhere.
/// </summary>
public sealed class EmulatedFabricStatus
{
    private readonly object _gate = new();
    private StatusSnapshot _s = new() { State = "starting" };

    /// <summary>The current figures.</summary>
    public StatusSnapshot Snapshot
    {
        get
        {
            lock (_gate) return _s;
        }
    }

    internal void Update(Func<StatusSnapshot, StatusSnapshot> change)
    {
        lock (_gate) _s = change(_s);
    }

    /// <summary>One line for a console.</summary>
    public string Summary()
    {
        var s = Snapshot;
        if (s.Agents == 0) return $"emulation {s.Fabric}: {s.State}";
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv,
            $"emulation {s.Fabric}: {s.Agents} agents ({s.AgentsDown} down), tables v{s.MinVersion}..v{s.MaxVersion}, acks {s.AcksSent}, rejects {s.Rejects}, " +
            $"period {s.Period}: max util {s.MaxUtilization:F3} (bound {s.LowerBound:F3}, x{s.RatioToBound:F2}), undelivered {s.UndeliveredBytes:G3} B, " +
            $"faults {s.ActiveFaults}, fwd problems {s.ForwardingProblems}");
    }
}

/// <summary>The emulated fabric's figures at one moment.</summary>
public sealed record StatusSnapshot
{
    /// <summary>"starting", "waiting for fabric ...", "running".</summary>
    public required string State { get; init; }

    /// <summary>Fabric emulated.</summary>
    public string Fabric { get; init; } = "";

    /// <summary>Workload name.</summary>
    public string Workload { get; init; } = "";

    /// <summary>Agents (one per switch).</summary>
    public int Agents { get; init; }

    /// <summary>Agents of crashed switches.</summary>
    public int AgentsDown { get; init; }

    /// <summary>Lowest installed table version over running agents.</summary>
    public ulong MinVersion { get; init; }

    /// <summary>Highest installed table version.</summary>
    public ulong MaxVersion { get; init; }

    /// <summary>Acks with applied = true, over all agents.</summary>
    public long AcksSent { get; init; }

    /// <summary>Acks with applied = false.</summary>
    public long Rejects { get; init; }

    /// <summary>Updates dropped (unknown switch, switch down).</summary>
    public long UpdatesDropped { get; init; }

    /// <summary>Periods run.</summary>
    public long Period { get; init; }

    /// <summary>Max switch-link utilization of the last period (at the workload's ideal pace).</summary>
    public double MaxUtilization { get; init; }

    /// <summary>The emulator's certified lower bound on that utilization for any routing.</summary>
    public double LowerBound { get; init; }

    /// <summary>Max utilization / bound (1 is optimal).</summary>
    public double RatioToBound { get; init; }

    /// <summary>Bytes of the workload the installed tables could not deliver.</summary>
    public double UndeliveredBytes { get; init; }

    /// <summary>Most utilized link direction.</summary>
    public string HottestLink { get; init; } = "";

    /// <summary>
    /// CPU time of the last emulation (building the installed view and running the emulator), ms. A period re-emulates only
    /// when a table was installed or the physical state changed since the last one; otherwise the loads carry over.
    /// </summary>
    public double LastPeriodMs { get; init; }

    /// <summary>Emulator runs so far (at most one per period).</summary>
    public long Emulations { get; init; }

    /// <summary>Telemetry batches sent in the last period.</summary>
    public int BatchesLastPeriod { get; init; }

    /// <summary>Telemetry batches sent in total.</summary>
    public long BatchesSent { get; init; }

    /// <summary>Faults in effect (links down, switches crashed).</summary>
    public int ActiveFaults { get; init; }

    /// <summary>Fault injections refused (bad input).</summary>
    public long FaultsRejected { get; init; }

    /// <summary>Loops and blackholes found by the install-time forwarding check (when enabled).</summary>
    public long ForwardingProblems { get; init; }

    /// <summary>Forwarding checks run.</summary>
    public long ForwardingChecks { get; init; }

    /// <summary>The last problem found, for the log.</summary>
    public string? LastForwardingProblem { get; init; }
}
