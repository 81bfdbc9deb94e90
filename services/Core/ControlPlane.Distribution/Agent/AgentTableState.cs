using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Agent;

/// <summary>Outcome of <see cref="IDataPlane.Install"/>.</summary>
/// <param name="Installed">True when the whole table is now in the data plane.</param>
/// <param name="Reason">Why not, e.g. "table full: 4097 groups > 4096"; the previous table stays installed.</param>
public sealed record InstallResult(bool Installed, string? Reason)
{
    /// <summary>Success.</summary>
    public static readonly InstallResult Ok = new(true, null);

    /// <summary>A refusal.</summary>
    public static InstallResult Refused(string reason) => new(false, reason);
}

/// <summary>
/// The forwarding hardware (or its emulation) behind an agent. Install is atomic: the whole table or nothing (real
/// ASICs get there with make-before-break group programming and a table swap).
/// </summary>
public interface IDataPlane
{
    /// <summary>Ports of the switch.</summary>
    int Radix { get; }

    /// <summary>Installs a whole table, replacing the current one, or refuses and keeps the current one.</summary>
    InstallResult Install(SwitchTable table);

    /// <summary>Digest of what is installed, read back from the data plane (see <see cref="TableDigest"/>).</summary>
    byte[] ReadBack();
}

/// <summary>
/// A data plane in memory with a capacity: the reference used by the emulated fabric and tests. It keeps its own
/// copy of groups and routes (as hardware would: immutable maps, so a copy is a reference) and computes the read-back
/// digest from that copy, once per change of the copy.
/// </summary>
public sealed class InMemoryDataPlane : IDataPlane
{
    private readonly object _gate = new();
    private SortedMap<int, NextHopGroup> _groups = SortedMap<int, NextHopGroup>.Empty;
    private SortedMap<RouteKey, RouteEntry> _routes = SortedMap<RouteKey, RouteEntry>.Empty;
    private byte[]? _readBack;
    private SwitchTable? _installed;

    /// <summary>Creates an empty data plane.</summary>
    public InMemoryDataPlane(int radix, SwitchCapacity capacity)
    {
        if (radix < 1) throw new FabricInputException("radix", $"must be at least 1, got {radix}");
        Radix = radix;
        Capacity = capacity ?? throw new ArgumentNullException(nameof(capacity));
    }

    /// <inheritdoc/>
    public int Radix { get; }

    /// <summary>What it can hold.</summary>
    public SwitchCapacity Capacity { get; }

    /// <summary>Installs done so far.</summary>
    public int InstallCount { get; private set; }

    /// <summary>Groups installed.</summary>
    public int GroupCount
    {
        get
        {
            lock (_gate) return _groups.Count;
        }
    }

    /// <summary>Next-hop ports and weights installed for a route key, or null when there is no route (0 members means local).</summary>
    public IReadOnlyList<GroupMember>? Lookup(RouteKey key)
    {
        lock (_gate)
        {
            if (!_routes.TryGetValue(key, out var r)) return null;
            return r.GroupId == SwitchTable.LocalGroup ? [] : _groups[r.GroupId].Members;
        }
    }

    /// <inheritdoc/>
    public InstallResult Install(SwitchTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var full = Capacity.Check(table);
        if (full.Count > 0) return InstallResult.Refused(string.Join("; ", full.Select(e => e.Reason)));
        var bad = table.Validate(Radix);
        if (bad.Count > 0) return InstallResult.Refused("invalid table: " + string.Join("; ", bad.Take(5)));
        lock (_gate)
        {
            _groups = table.Groups;
            _routes = table.Routes;
            _readBack = null;
            _installed = table;
            InstallCount++;
        }
        return InstallResult.Ok;
    }

    /// <inheritdoc/>
    public byte[] ReadBack()
    {
        lock (_gate) return (byte[])(_readBack ??= TableDigest.Compute(_groups.Values.AsSpan(), _routes.Keys.AsSpan(), _routes.Values.AsSpan())).Clone();
    }

    /// <summary>
    /// What the data plane holds as a table (what traffic meets), or null when nothing was installed. After a corruption it
    /// is rebuilt from the data plane's own copy, so it shows the drift.
    /// </summary>
    public SwitchTable? Installed
    {
        get
        {
            lock (_gate) return _installed;
        }
    }

    /// <summary>Removes a route behind the agent's back, as a misbehaving ASIC or an operator would: drift for tests and chaos.</summary>
    public bool CorruptRemoveRoute(RouteKey key)
    {
        lock (_gate)
        {
            // Copy on write: readers of Installed keep a consistent table.
            if (!_routes.ContainsKey(key)) return false;
            _routes = SortedMerge.Apply(_routes, [key], []);
            _readBack = null;
            if (_installed is { } t) _installed = new SwitchTable(t.SwitchName, t.Version, t.GroupSize, _groups.Values, _routes);
            return true;
        }
    }
}

/// <summary>
/// The agent side of distribution for one switch: applies updates whole or not at all into an <see cref="IDataPlane"/>,
/// keeps the last good table, and answers each update with an ack carrying the read-back digest. Not thread-safe: the
/// agent's update loop owns it.
/// </summary>
public sealed class AgentTableState
{
    private readonly IDataPlane _dataPlane;

    /// <summary>Creates the state of an agent that holds nothing yet (version 0).</summary>
    public AgentTableState(string switchName, int groupSize, IDataPlane dataPlane)
    {
        if (string.IsNullOrWhiteSpace(switchName)) throw new FabricInputException("switchName", "must not be empty");
        _dataPlane = dataPlane ?? throw new ArgumentNullException(nameof(dataPlane));
        Current = SwitchTable.Empty(switchName, groupSize);
    }

    /// <summary>Switch.</summary>
    public string SwitchName => Current.SwitchName;

    /// <summary>Last table applied successfully (version 0 and empty before the first).</summary>
    public SwitchTable Current { get; private set; }

    /// <summary>The hello to send after (re)connecting: version held and the digest read back from the data plane.</summary>
    public AgentHelloInfo Hello() => new(SwitchName, Current.Version, _dataPlane.ReadBack());

    /// <summary>Applies an update whole or not at all and returns the ack to send.</summary>
    public AgentAck Apply(TableUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.SwitchName != SwitchName) return Reject(update.Version, $"update for switch '{update.SwitchName}', this agent serves '{SwitchName}'");
        SwitchTable target;
        if (update.Table is { } full)
        {
            target = full;
        }
        else if (update.Delta is { } delta)
        {
            if (delta.Version == Current.Version && delta.Digest.AsSpan().SequenceEqual(Current.Digest))
                return Accept(); // duplicate delivery of what is installed
            var r = delta.ApplyTo(Current);
            if (!r.Applied) return Reject(delta.Version, r.Reason!);
            target = r.Table!;
        }
        else
        {
            return Reject(0, "update carries neither a table nor a delta");
        }
        if (target.Version < Current.Version) return Reject(target.Version, $"version v{target.Version} is older than the installed v{Current.Version}");
        var problems = target.Validate(_dataPlane.Radix);
        if (problems.Count > 0) return Reject(target.Version, "invalid table: " + string.Join("; ", problems.Take(5)));
        var installed = _dataPlane.Install(target);
        if (!installed.Installed) return Reject(target.Version, installed.Reason ?? "data plane refused the table");
        Current = target;
        return Accept();
    }

    private AgentAck Accept() => new(SwitchName, Current.Version, true, null, _dataPlane.ReadBack());

    private AgentAck Reject(ulong version, string reason) => new(SwitchName, version, false, reason, _dataPlane.ReadBack());
}
