namespace ControlPlane.Fabric;

/// <summary>
/// One version of a fabric: the shared immutable <see cref="FabricTopology"/> plus the state of every link
/// and switch. Changing state makes a new snapshot with a higher version; the old one stays valid, so a
/// router can work on a snapshot while the inventory moves on.
/// </summary>
public sealed class FabricSnapshot
{
    private readonly ElementState[] _linkStates;
    private readonly ElementState[] _switchStates;

    private FabricSnapshot(FabricTopology topology, long version, ElementState[] linkStates, ElementState[] switchStates)
    {
        Topology = topology;
        Version = version;
        _linkStates = linkStates;
        _switchStates = switchStates;
    }

    /// <summary>A first snapshot with every element up.</summary>
    public static FabricSnapshot Initial(FabricTopology topology, long version = 1)
    {
        var links = new ElementState[topology.Links.Count];
        Array.Fill(links, ElementState.InitialUp);
        var switches = new ElementState[topology.Switches.Count];
        Array.Fill(switches, ElementState.InitialUp);
        return new FabricSnapshot(topology, version, links, switches);
    }

    /// <summary>A snapshot with the given states (copied).</summary>
    /// <exception cref="ArgumentException">When the arrays do not match the topology's sizes.</exception>
    public static FabricSnapshot Create(FabricTopology topology, long version, IReadOnlyList<ElementState> linkStates, IReadOnlyList<ElementState> switchStates)
    {
        if (linkStates.Count != topology.Links.Count) throw new ArgumentException($"expected {topology.Links.Count} link states, got {linkStates.Count}", nameof(linkStates));
        if (switchStates.Count != topology.Switches.Count) throw new ArgumentException($"expected {topology.Switches.Count} switch states, got {switchStates.Count}", nameof(switchStates));
        return new FabricSnapshot(topology, version, linkStates.ToArray(), switchStates.ToArray());
    }

    /// <summary>The structure.</summary>
    public FabricTopology Topology { get; }

    /// <summary>Monotonic topology version.</summary>
    public long Version { get; }

    /// <summary>State of a link.</summary>
    public ElementState LinkState(int linkId) => _linkStates[linkId];

    /// <summary>State of a switch.</summary>
    public ElementState SwitchState(int switchId) => _switchStates[switchId];

    /// <summary>Link states, index = link id.</summary>
    public IReadOnlyList<ElementState> LinkStates => _linkStates;

    /// <summary>Switch states, index = switch id.</summary>
    public IReadOnlyList<ElementState> SwitchStates => _switchStates;

    /// <summary>
    /// True when the link may carry traffic: the link is up and every switch it touches is up.
    /// A drained or maintenance switch takes all its links out of routing.
    /// </summary>
    public bool IsLinkUsable(int linkId)
    {
        if (!_linkStates[linkId].CarriesTraffic) return false;
        var l = Topology.Links[linkId];
        if (!l.A.IsHost && !_switchStates[l.A.Device].CarriesTraffic) return false;
        if (!l.B.IsHost && !_switchStates[l.B.Device].CarriesTraffic) return false;
        return true;
    }

    /// <summary>A new snapshot, version + 1, with some link and switch states replaced.</summary>
    public FabricSnapshot With(
        IEnumerable<KeyValuePair<int, ElementState>>? linkChanges = null,
        IEnumerable<KeyValuePair<int, ElementState>>? switchChanges = null)
    {
        var links = _linkStates;
        var switches = _switchStates;
        if (linkChanges is not null)
        {
            links = (ElementState[])_linkStates.Clone();
            foreach (var (id, st) in linkChanges) links[id] = st;
        }
        if (switchChanges is not null)
        {
            switches = (ElementState[])_switchStates.Clone();
            foreach (var (id, st) in switchChanges) switches[id] = st;
        }
        return new FabricSnapshot(Topology, Version + 1, links, switches);
    }

    /// <summary>A new snapshot with one link's state replaced.</summary>
    public FabricSnapshot WithLink(int linkId, ElementState state) => With(linkChanges: [new(linkId, state)]);

    /// <summary>A new snapshot with one switch's state replaced.</summary>
    public FabricSnapshot WithSwitch(int switchId, ElementState state) => With(switchChanges: [new(switchId, state)]);
}
