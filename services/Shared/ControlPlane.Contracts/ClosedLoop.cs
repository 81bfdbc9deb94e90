namespace ControlPlane.Contracts;

// The closed loop: switch agents <-> route distribution <-> routing. Bodies that an agent in any language must
// produce or read are protobuf bytes of proto/fabric/v1/routes.proto; the records here are only the bus envelopes.

/// <summary>
/// Event from a switch agent after it (re)connects: <see cref="Payload"/> is a <c>fabric.v1.AgentHello</c> (switch,
/// agent id, credential, version held, read-back digest). Distribution answers by sending the agent's switch a
/// <see cref="RouteUpdateOrdered"/> (a delta from what it holds, or the full table) to <see cref="ReplyQueue"/>.
/// </summary>
public sealed record AgentHelloSent
{
    /// <summary>Fabric the switch belongs to.</summary>
    public required string Fabric { get; init; }

    /// <summary>The protobuf encoding of a <c>fabric.v1.AgentHello</c>.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>Name of the queue the agent (or the agent host serving it) receives updates on, e.g. "agents-rack12".</summary>
    public required string ReplyQueue { get; init; }

    /// <summary>When the agent sent it, on the agent's clock.</summary>
    public DateTimeOffset SentAt { get; init; }
}

/// <summary>
/// Event from a switch agent: <see cref="Payload"/> is a <c>fabric.v1.RouteAck</c> (version applied or refused with a
/// reason, installed digest, credential).
/// </summary>
public sealed record RouteAckSent
{
    /// <summary>Fabric the switch belongs to.</summary>
    public required string Fabric { get; init; }

    /// <summary>The protobuf encoding of a <c>fabric.v1.RouteAck</c>.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>When the agent sent it, on the agent's clock.</summary>
    public DateTimeOffset SentAt { get; init; }
}

/// <summary>
/// Command from route distribution to one switch's agent, sent to the queue the agent named in its hello:
/// <see cref="Payload"/> is a <c>fabric.v1.RouteUpdate</c> (a full table or a delta, with the priority flag).
/// </summary>
public sealed record RouteUpdateOrdered
{
    /// <summary>Fabric the switch belongs to.</summary>
    public required string Fabric { get; init; }

    /// <summary>Switch the update is for (an agent host serving many switches dispatches on it).</summary>
    public required string SwitchName { get; init; }

    /// <summary>The protobuf encoding of a <c>fabric.v1.RouteUpdate</c>.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>When distribution sent it.</summary>
    public required DateTimeOffset SentAt { get; init; }
}

/// <summary>
/// Several <see cref="RouteUpdateOrdered"/> for switches whose agents share one reply queue (an agent host serving many
/// switches), sent as one message: the bus's cost is per message, and a failure's rollout sends a wave of updates at
/// once. Each update is handled exactly as if it had come alone.
/// </summary>
public sealed record RouteUpdatesOrdered
{
    /// <summary>Fabric the switches belong to.</summary>
    public required string Fabric { get; init; }

    /// <summary>The updates, at most one per switch.</summary>
    public required IReadOnlyList<RouteUpdateOrdered> Updates { get; init; }
}

/// <summary>
/// Several <see cref="RouteAckSent"/> from agents of one host, sent as one message. Each ack keeps its own payload and
/// credential and is authenticated alone: a batch proves nothing about its members.
/// </summary>
public sealed record RouteAcksSent
{
    /// <summary>Fabric the switches belong to.</summary>
    public required string Fabric { get; init; }

    /// <summary>The acks.</summary>
    public required IReadOnlyList<RouteAckSent> Acks { get; init; }
}

/// <summary>
/// Event from a switch agent: a port went up or down. <see cref="Payload"/> is a <c>fabric.v1.PortStateEvent</c>
/// (switch, port, up, time, reason, agent id, credential). Routing reacts at once (priority lane).
/// </summary>
public sealed record PortStateReported
{
    /// <summary>Fabric the switch belongs to.</summary>
    public required string Fabric { get; init; }

    /// <summary>The protobuf encoding of a <c>fabric.v1.PortStateEvent</c>.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>
    /// Correlation id of whatever caused it when known (a chaos or fault-injection id); carried through
    /// <see cref="RoutesComputed"/> to <see cref="RoutesConverged"/> so convergence can be measured end to end.
    /// </summary>
    public string? TriggerId { get; init; }
}

/// <summary>
/// Event from routing: new desired tables for some switches of a fabric. Each entry of <see cref="Tables"/> is a
/// <c>fabric.v1.RouteTable</c> with version 0: distribution numbers versions per switch. Only switches whose tables
/// changed are listed, unless <see cref="Complete"/> says every switch of the fabric (or of <see cref="Plane"/>) is.
/// </summary>
public sealed record RoutesComputed
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>Version of the routing computation (monotonic per fabric while the routing service runs).</summary>
    public required long RoutingVersion { get; init; }

    /// <summary>Version of the fabric snapshot it was computed from (inventory version plus operational overlays).</summary>
    public required long TopologyVersion { get; init; }

    /// <summary>Plane the change is confined to, or null when it spans planes.</summary>
    public int? Plane { get; init; }

    /// <summary>Failure-driven (port down, drain, switch loss): distribution sends it in the priority lane.</summary>
    public required bool Priority { get; init; }

    /// <summary>True when <see cref="Tables"/> holds every switch of the fabric (or of the plane), e.g. after a start.</summary>
    public required bool Complete { get; init; }

    /// <summary>Why it was computed: "initial", "port-down", "drain", "adaptive", ...</summary>
    public required string Reason { get; init; }

    /// <summary>Correlation ids of the triggers folded into this computation (see <see cref="PortStateReported.TriggerId"/>).</summary>
    public IReadOnlyList<string> TriggerIds { get; init; } = [];

    /// <summary>When the earliest trigger happened (the port event's time), when known.</summary>
    public DateTimeOffset? TriggeredAt { get; init; }

    /// <summary>When the computation finished.</summary>
    public required DateTimeOffset ComputedAt { get; init; }

    /// <summary>Protobuf encodings of <c>fabric.v1.RouteTable</c>, one per switch, version 0.</summary>
    public required IReadOnlyList<byte[]> Tables { get; init; }

    /// <summary>
    /// Protobuf encodings of <c>fabric.v1.RouteDelta</c>, one per switch not in <see cref="Tables"/>: from the table routing
    /// last sent for that switch (<c>base_version</c> = the routing version of that message) to this message's
    /// (<c>version</c> = <see cref="RoutingVersion"/>). A receiver that does not hold that base asks for complete tables
    /// (<see cref="RoutesRequested"/>). Complete messages carry full tables only.
    /// </summary>
    public IReadOnlyList<byte[]> Deltas { get; init; } = [];
}

/// <summary>
/// Event from distribution: every switch whose table a <see cref="RoutesComputed"/> changed has acknowledged its new
/// version (or the rollout gave up on some, listed in <see cref="Lagging"/>).
/// </summary>
public sealed record RoutesConverged
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>The routing version that is now installed.</summary>
    public required long RoutingVersion { get; init; }

    /// <summary>Trigger ids carried from <see cref="RoutesComputed.TriggerIds"/>.</summary>
    public IReadOnlyList<string> TriggerIds { get; init; } = [];

    /// <summary>Switches whose tables changed (and were acknowledged).</summary>
    public required int Switches { get; init; }

    /// <summary>Make-before-break waves the rollout took.</summary>
    public required int Waves { get; init; }

    /// <summary>When the earliest trigger happened, when known.</summary>
    public DateTimeOffset? TriggeredAt { get; init; }

    /// <summary>When distribution received the tables.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>When the last switch acknowledged.</summary>
    public required DateTimeOffset ConvergedAt { get; init; }

    /// <summary>Switches that had not acknowledged when the rollout stopped waiting for them (empty when converged).</summary>
    public IReadOnlyList<string> Lagging { get; init; } = [];
}

/// <summary>What a fault injection does to the emulated fabric.</summary>
public enum FaultKind
{
    /// <summary>A link goes down (both ends see loss of signal).</summary>
    LinkDown = 0,
    /// <summary>A link comes back up.</summary>
    LinkUp = 1,
    /// <summary>A link goes down and comes back up after <see cref="FaultInjectionOrdered.DurationMs"/>.</summary>
    LinkFlap = 2,
    /// <summary>A switch crashes: its agent stops, its data plane is lost, its neighbours see their ports go down.</summary>
    SwitchCrash = 3,
    /// <summary>A crashed switch restarts: empty data plane, its agent says hello with version 0.</summary>
    SwitchRestart = 4,
}

/// <summary>Command to the emulated fabric (chaos tests, benchmarks, the console): break or repair something.</summary>
public sealed record FaultInjectionOrdered
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>What to do.</summary>
    public required FaultKind Kind { get; init; }

    /// <summary>Link id for link faults.</summary>
    public int? LinkId { get; init; }

    /// <summary>Switch name for switch faults.</summary>
    public string? SwitchName { get; init; }

    /// <summary>For a flap: how long the link stays down.</summary>
    public int DurationMs { get; init; }

    /// <summary>Correlation id carried by the resulting port events (and so to <see cref="RoutesConverged"/>).</summary>
    public required string TriggerId { get; init; }
}

/// <summary>
/// Command to routing: publish the complete current tables of a fabric again (as <see cref="RoutesComputed"/> with
/// <see cref="RoutesComputed.Complete"/> true, one message per plane, contents unchanged). A distribution service that
/// starts, or holds no desired table for some switches, asks: tables published before it was listening are not lost.
/// </summary>
public sealed record RoutesRequested
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>Why: "distribution-start", "missing-tables", ...</summary>
    public required string Reason { get; init; }

    /// <summary>When it was asked.</summary>
    public DateTimeOffset RequestedAt { get; init; }
}
