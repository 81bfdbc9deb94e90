namespace ControlPlane.Distribution;

/// <summary>
/// Builds a <see cref="SwitchTable"/> route by route, sharing one group per distinct (members, weights) set as ASICs
/// share ECMP groups, and keeping the group ids of the previous version for unchanged sets. Stable ids matter: if a
/// set got a new id, every route using it would change and deltas would approach full-table size.
/// </summary>
public sealed class SwitchTableBuilder
{
    private readonly string _switchName;
    private readonly ulong _version;
    private readonly int _groupSize;
    private readonly Dictionary<string, int> _previousIds = new(StringComparer.Ordinal);
    private readonly HashSet<int> _reserved = [];
    private readonly Dictionary<string, NextHopGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<RouteKey, RouteEntry> _routes = [];
    private int _nextId = 1;

    /// <summary>Starts a table; <paramref name="previous"/> is the version the ids should stay stable against.</summary>
    public SwitchTableBuilder(string switchName, ulong version, int groupSize, SwitchTable? previous = null)
    {
        _switchName = switchName;
        _version = version;
        _groupSize = groupSize;
        if (previous is null) return;
        foreach (var g in previous.Groups.Values)
        {
            _previousIds[Key(g.Members)] = g.Id;
            _reserved.Add(g.Id);
        }
    }

    /// <summary>Adds a route over weighted ports (ports and weights pair up by index).</summary>
    /// <exception cref="ArgumentException">Ports and weights differ in length, or the key was added before.</exception>
    public SwitchTableBuilder Route(string destination, string trafficClass, ReadOnlySpan<int> ports, ReadOnlySpan<int> weights, SpreadMode mode)
    {
        if (ports.Length != weights.Length) throw new ArgumentException($"ports ({ports.Length}) and weights ({weights.Length}) must pair up", nameof(weights));
        var members = new GroupMember[ports.Length];
        for (var i = 0; i < ports.Length; i++) members[i] = new GroupMember(ports[i], weights[i]);
        Array.Sort(members, (a, b) => a.Port != b.Port ? a.Port.CompareTo(b.Port) : a.Weight.CompareTo(b.Weight));
        var key = Key(members);
        if (!_groups.TryGetValue(key, out var g))
        {
            if (!_previousIds.TryGetValue(key, out var id))
            {
                while (_reserved.Contains(_nextId)) _nextId++;
                id = _nextId++;
            }
            _groups[key] = g = new NextHopGroup(id, members);
        }
        return Add(new RouteKey(destination, trafficClass), new RouteEntry(g.Id, mode));
    }

    /// <summary>Adds a route delivered locally (the destination is this switch).</summary>
    public SwitchTableBuilder Local(string destination, string trafficClass, SpreadMode mode = SpreadMode.Hash) =>
        Add(new RouteKey(destination, trafficClass), new RouteEntry(SwitchTable.LocalGroup, mode));

    /// <summary>The table.</summary>
    public SwitchTable Build() => new(_switchName, _version, _groupSize, _groups.Values, _routes);

    private SwitchTableBuilder Add(RouteKey key, RouteEntry entry)
    {
        if (!_routes.TryAdd(key, entry)) throw new ArgumentException($"route {key} added twice", nameof(key));
        return this;
    }

    private static string Key(IEnumerable<GroupMember> members) => string.Join(",", members.Select(m => $"{m.Port}:{m.Weight}"));
}
