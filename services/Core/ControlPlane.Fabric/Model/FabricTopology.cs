namespace ControlPlane.Fabric;

/// <summary>
/// The immutable structure of a fabric: planes, switches, hosts, links and transceivers, with ids equal
/// to array indices. Built once (by a generator or an import) and shared by every state snapshot.
/// Port lookups are precomputed so routing can walk the graph without dictionaries.
/// </summary>
public sealed class FabricTopology
{
    private readonly int[] _switchPortOffset; // CSR: ports of switch s are [_switchPortOffset[s] .. +Radix)
    private readonly int[] _switchPortLink;   // link id at (switch, port) or -1
    private readonly int[] _hostNicOffset;
    private readonly int[] _hostNicLink;
    private Dictionary<string, int>? _switchByName;
    private Dictionary<string, int>? _hostByName;

    /// <summary>Creates a topology. Ids must equal indices; ports must be in range. Use the topology validator for a full check.</summary>
    /// <exception cref="ArgumentException">When an id does not equal its index or a link end is out of range.</exception>
    public FabricTopology(
        string name,
        TopologyKind kind,
        IReadOnlyList<Plane> planes,
        IReadOnlyList<Switch> switches,
        IReadOnlyList<Host> hosts,
        IReadOnlyList<Link> links,
        IReadOnlyList<Transceiver> transceivers,
        GeneratorParameters? parameters = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
        Planes = planes;
        Switches = switches;
        Hosts = hosts;
        Links = links;
        Transceivers = transceivers;
        Parameters = parameters;

        for (var i = 0; i < switches.Count; i++)
        {
            if (switches[i].Id != i) throw new ArgumentException($"switches[{i}].Id is {switches[i].Id}; ids must equal indices", nameof(switches));
        }
        for (var i = 0; i < hosts.Count; i++)
        {
            if (hosts[i].Id != i) throw new ArgumentException($"hosts[{i}].Id is {hosts[i].Id}; ids must equal indices", nameof(hosts));
        }
        for (var i = 0; i < links.Count; i++)
        {
            if (links[i].Id != i) throw new ArgumentException($"links[{i}].Id is {links[i].Id}; ids must equal indices", nameof(links));
        }

        _switchPortOffset = new int[switches.Count + 1];
        for (var s = 0; s < switches.Count; s++) _switchPortOffset[s + 1] = _switchPortOffset[s] + Math.Max(0, switches[s].Radix);
        _switchPortLink = new int[_switchPortOffset[switches.Count]];
        Array.Fill(_switchPortLink, -1);

        _hostNicOffset = new int[hosts.Count + 1];
        for (var h = 0; h < hosts.Count; h++) _hostNicOffset[h + 1] = _hostNicOffset[h] + hosts[h].Nics.Count;
        _hostNicLink = new int[_hostNicOffset[hosts.Count]];
        Array.Fill(_hostNicLink, -1);

        foreach (var link in links)
        {
            Attach(link.A, link.Id);
            Attach(link.B, link.Id);
        }
    }

    /// <summary>Fabric name.</summary>
    public string Name { get; }

    /// <summary>Family the fabric was generated as, or <see cref="TopologyKind.Imported"/>.</summary>
    public TopologyKind Kind { get; }

    /// <summary>Generator parameters, when generated.</summary>
    public GeneratorParameters? Parameters { get; }

    /// <summary>Planes, id = index.</summary>
    public IReadOnlyList<Plane> Planes { get; }

    /// <summary>Switches, id = index.</summary>
    public IReadOnlyList<Switch> Switches { get; }

    /// <summary>Hosts, id = index.</summary>
    public IReadOnlyList<Host> Hosts { get; }

    /// <summary>Links, id = index.</summary>
    public IReadOnlyList<Link> Links { get; }

    /// <summary>Transceivers, id = index.</summary>
    public IReadOnlyList<Transceiver> Transceivers { get; }

    /// <summary>Endpoints: NICs over all hosts.</summary>
    public int EndpointCount => _hostNicLink.Length;

    /// <summary>Ports in use or not over all switches.</summary>
    public int SwitchPortCount => _switchPortLink.Length;

    /// <summary>The link on a switch port, or -1 when the port is free or out of range.</summary>
    public int LinkAtSwitchPort(int switchId, int port)
    {
        if ((uint)switchId >= (uint)Switches.Count) return -1;
        if (port < 1 || port > Switches[switchId].Radix) return -1;
        return _switchPortLink[_switchPortOffset[switchId] + port - 1];
    }

    /// <summary>The link on a host NIC, or -1.</summary>
    public int LinkAtHostNic(int hostId, int nic)
    {
        if ((uint)hostId >= (uint)Hosts.Count) return -1;
        if ((uint)nic >= (uint)Hosts[hostId].Nics.Count) return -1;
        return _hostNicLink[_hostNicOffset[hostId] + nic];
    }

    /// <summary>Link ids on every port of a switch, -1 for a free port; index i is port i+1.</summary>
    public ReadOnlySpan<int> SwitchPortLinks(int switchId) =>
        _switchPortLink.AsSpan(_switchPortOffset[switchId], _switchPortOffset[switchId + 1] - _switchPortOffset[switchId]);

    /// <summary>The end of <paramref name="linkId"/> that is not on switch <paramref name="switchId"/>.</summary>
    public LinkEnd Opposite(int linkId, int switchId)
    {
        var l = Links[linkId];
        return !l.A.IsHost && l.A.Device == switchId ? l.B : l.A;
    }

    /// <summary>Switch id by name, or -1.</summary>
    public int FindSwitch(string name)
    {
        _switchByName ??= BuildIndex(Switches.Select(s => s.Name));
        return _switchByName.TryGetValue(name, out var id) ? id : -1;
    }

    /// <summary>Host id by name, or -1.</summary>
    public int FindHost(string name)
    {
        _hostByName ??= BuildIndex(Hosts.Select(h => h.Name));
        return _hostByName.TryGetValue(name, out var id) ? id : -1;
    }

    /// <summary>Display name of a link end, e.g. "p0-leaf-3/12" or "node-0001/mlx5_2".</summary>
    public string Describe(LinkEnd end) =>
        end.IsHost
            ? ((uint)end.Device < (uint)Hosts.Count ? $"{Hosts[end.Device].Name}/mlx5_{end.Port}" : $"host#{end.Device}/mlx5_{end.Port}")
            : ((uint)end.Device < (uint)Switches.Count ? $"{Switches[end.Device].Name}/{end.Port}" : $"switch#{end.Device}/{end.Port}");

    /// <summary>Number of links between two switches (either direction).</summary>
    public int SwitchLinkCount => Links.Count(l => l.IsSwitchLink);

    private void Attach(LinkEnd end, int linkId)
    {
        // Out-of-range or doubly used ports are left for the validator to report; the index keeps the first link.
        if (end.IsHost)
        {
            if ((uint)end.Device >= (uint)Hosts.Count || (uint)end.Port >= (uint)Hosts[end.Device].Nics.Count) return;
            ref var slot = ref _hostNicLink[_hostNicOffset[end.Device] + end.Port];
            if (slot < 0) slot = linkId;
        }
        else
        {
            if ((uint)end.Device >= (uint)Switches.Count || end.Port < 1 || end.Port > Switches[end.Device].Radix) return;
            ref var slot = ref _switchPortLink[_switchPortOffset[end.Device] + end.Port - 1];
            if (slot < 0) slot = linkId;
        }
    }

    private static Dictionary<string, int> BuildIndex(IEnumerable<string> names)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        var i = 0;
        foreach (var n in names) d.TryAdd(n, i++);
        return d;
    }
}
