using ControlPlane.Distribution;

namespace ControlPlane.Distribution.Service;

/// <summary>A rollout in progress.</summary>
/// <param name="RoutingVersion">Routing version it installs (the newest of its sources).</param>
/// <param name="Lane">Lane.</param>
/// <param name="Wave">Current wave, 0-based.</param>
/// <param name="Waves">Waves in all.</param>
/// <param name="Switches">Switches it changes.</param>
/// <param name="ReceivedAt">When its (earliest) RoutesComputed was received.</param>
public sealed record RolloutView(long RoutingVersion, Lane Lane, int Wave, int Waves, int Switches, DateTimeOffset ReceivedAt);

/// <summary>One finished rollout.</summary>
/// <param name="RoutingVersion">Routing version.</param>
/// <param name="Lane">Lane.</param>
/// <param name="Switches">Switches changed.</param>
/// <param name="Waves">Waves.</param>
/// <param name="Duration">From RoutesComputed received to the last ack.</param>
/// <param name="SinceTrigger">From the trigger (port event) to the last ack, when known.</param>
/// <param name="Lagging">Switches that had not acknowledged when it stopped waiting.</param>
/// <param name="At">When it finished.</param>
public sealed record ConvergenceRecord(long RoutingVersion, Lane Lane, int Switches, int Waves, TimeSpan Duration, TimeSpan? SinceTrigger, int Lagging, DateTimeOffset At);

/// <summary>One line per fabric, cheap to read from any thread (the all-in-one host's live summary).</summary>
/// <param name="Fabric">Fabric.</param>
/// <param name="Switches">Switches of the fabric.</param>
/// <param name="InSync">Switches whose agent acknowledged the desired table (or that have none).</param>
/// <param name="Lagging">Switches that did not.</param>
/// <param name="Rollout">Rollout in progress, if any.</param>
/// <param name="PendingCongestionSwitches">Congestion changes waiting behind a priority rollout.</param>
/// <param name="LastConvergenceMs">Duration of the last rollout.</param>
/// <param name="RejectedCredentials">Hellos and acks refused for a bad credential.</param>
/// <param name="AgentRejections">Updates agents refused (e.g. table full).</param>
/// <param name="Malformed">Messages that could not be decoded.</param>
/// <param name="Sessions">Agents that said hello.</param>
/// <param name="At">When computed.</param>
public sealed record DistributionSummary(string Fabric, int Switches, int InSync, int Lagging, RolloutView? Rollout, int PendingCongestionSwitches,
    double? LastConvergenceMs, long RejectedCredentials, long AgentRejections, long Malformed, int Sessions, DateTimeOffset At)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Fabric}: {InSync}/{Switches} in sync" + (Lagging > 0 ? $", {Lagging} lagging" : "") +
        (Rollout is { } r ? $", rollout v{r.RoutingVersion} wave {r.Wave + 1}/{r.Waves}" : "") +
        (LastConvergenceMs is { } ms ? $", last {ms:F0} ms" : "");
}

/// <summary>A switch whose agent has not acknowledged its desired table.</summary>
/// <param name="Switch">Switch.</param>
/// <param name="DesiredVersion">Desired version.</param>
/// <param name="AckedVersion">Acknowledged version.</param>
/// <param name="Since">Since when it lags.</param>
/// <param name="ForMs">For how long, in milliseconds.</param>
/// <param name="Session">True when its agent said hello.</param>
/// <param name="Blocked">Why it is blocked (its agent refused the full table), if it is.</param>
/// <param name="InFlightVersion">Version sent and not acknowledged.</param>
/// <param name="Attempt">Attempts for it.</param>
public sealed record LaggingSwitch(string Switch, ulong DesiredVersion, ulong AckedVersion, DateTimeOffset Since, double ForMs, bool Session, string? Blocked, ulong? InFlightVersion, int Attempt);

/// <summary>A table refused before sending (it would not fit even coarsened).</summary>
/// <param name="Switch">Switch.</param>
/// <param name="Reason">Why.</param>
public sealed record RefusedTable(string Switch, string Reason);

/// <summary>The last refusal an agent reported.</summary>
/// <param name="Switch">Switch.</param>
/// <param name="Reason">The agent's reason.</param>
public sealed record AgentRejection(string Switch, string Reason);

/// <summary>A fabric's distribution status.</summary>
/// <param name="Summary">Counts.</param>
/// <param name="Lagging">Lagging switches, longest first.</param>
/// <param name="Convergence">Last rollouts, oldest first.</param>
/// <param name="Sends">Updates sent.</param>
/// <param name="SendsWithoutSession">Updates not sent because the switch's agent has not said hello.</param>
/// <param name="Refused">Tables refused before sending.</param>
/// <param name="Rejections">Last refusal per switch reported by agents.</param>
public sealed record FabricStatusView(DistributionSummary Summary, IReadOnlyList<LaggingSwitch> Lagging, IReadOnlyList<ConvergenceRecord> Convergence,
    long Sends, long SendsWithoutSession, IReadOnlyList<RefusedTable> Refused, IReadOnlyList<AgentRejection> Rejections);

/// <summary>One switch's distribution state.</summary>
/// <param name="Fabric">Fabric.</param>
/// <param name="Switch">Switch.</param>
/// <param name="DesiredVersion">Desired version (0 when none).</param>
/// <param name="DesiredDigest">Short digest of the desired table.</param>
/// <param name="AckedVersion">Acknowledged version.</param>
/// <param name="AckedDigest">Short digest the agent read back.</param>
/// <param name="InSync">Desired acknowledged.</param>
/// <param name="LaggingSince">Since when it lags.</param>
/// <param name="InFlightVersion">Version sent, not acknowledged.</param>
/// <param name="Attempt">Attempts for it.</param>
/// <param name="Lane">Lane of the pending update.</param>
/// <param name="Blocked">Why it is blocked, if it is.</param>
/// <param name="LastRejectReason">The agent's last refusal.</param>
/// <param name="RefusedBeforeSend">Why the last table was refused before sending, if it was.</param>
/// <param name="Session">Agent session.</param>
/// <param name="Groups">Groups in the desired table.</param>
/// <param name="Routes">Routes in the desired table.</param>
public sealed record SwitchView(string Fabric, string Switch, ulong DesiredVersion, string? DesiredDigest, ulong AckedVersion, string? AckedDigest, bool InSync,
    DateTimeOffset? LaggingSince, ulong? InFlightVersion, int Attempt, Lane Lane, string? Blocked, string? LastRejectReason, string? RefusedBeforeSend,
    AgentSession? Session, int? Groups, int? Routes);
