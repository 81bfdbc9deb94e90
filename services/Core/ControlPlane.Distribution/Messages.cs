namespace ControlPlane.Distribution;

/// <summary>Lane an update travels in. Priority (failure-driven) updates are never queued behind congestion ones.</summary>
public enum Lane
{
    /// <summary>Failure-driven: a link or switch went down, a drain. Sent first, never rate-limited.</summary>
    Priority,

    /// <summary>Congestion-driven (adaptive weights): rate-limited per switch.</summary>
    Congestion,
}

/// <summary>What the control plane sends to one agent: a full table or a delta, never both.</summary>
/// <param name="Table">Full table, when sending one.</param>
/// <param name="Delta">Delta, when sending one.</param>
/// <param name="Priority">True when it travels in the priority lane.</param>
public sealed record TableUpdate(SwitchTable? Table, TableDelta? Delta, bool Priority)
{
    /// <summary>A full table.</summary>
    public static TableUpdate Full(SwitchTable table, bool priority = false) => new(table, null, priority);

    /// <summary>A delta.</summary>
    public static TableUpdate Diff(TableDelta delta, bool priority = false) => new(null, delta, priority);

    /// <summary>Switch the update is for.</summary>
    public string SwitchName => Table?.SwitchName ?? Delta?.SwitchName ?? "";

    /// <summary>Version the update brings the agent to.</summary>
    public ulong Version => Table?.Version ?? Delta?.Version ?? 0;
}

/// <summary>An agent's answer to an update (mirrors fabric.v1 RouteAck).</summary>
/// <param name="SwitchName">Switch.</param>
/// <param name="Version">Version applied, or the version refused.</param>
/// <param name="Applied">True when applied.</param>
/// <param name="RejectReason">Why not, when refused.</param>
/// <param name="InstalledDigest">Digest the data plane reads back after the attempt.</param>
public sealed record AgentAck(string SwitchName, ulong Version, bool Applied, string? RejectReason, byte[] InstalledDigest);

/// <summary>An agent's hello after (re)connecting (mirrors fabric.v1 AgentHello, without the credential).</summary>
/// <param name="SwitchName">Switch.</param>
/// <param name="Version">Version it holds, 0 when none.</param>
/// <param name="InstalledDigest">Digest its data plane reads back.</param>
public sealed record AgentHelloInfo(string SwitchName, ulong Version, byte[] InstalledDigest);
