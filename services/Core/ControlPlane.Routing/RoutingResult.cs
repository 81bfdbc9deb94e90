using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>One next-hop group as seen from a switch: output ports with integer weights summing to the group size.</summary>
/// <param name="Kind">Forward, local delivery, or no route.</param>
/// <param name="Mode">Spraying or hashing for the class asked about.</param>
/// <param name="Ports">Output ports (1-based), empty unless <see cref="RouteKind.Forward"/>.</param>
/// <param name="Weights">Bucket weights, parallel to <paramref name="Ports"/>.</param>
public readonly record struct NextHopGroup(RouteKind Kind, ForwardingMode Mode, ReadOnlyMemory<int> Ports, ReadOnlyMemory<int> Weights);

/// <summary>One changed route of a switch.</summary>
/// <param name="Destination">Destination leaf switch id.</param>
/// <param name="ClassIndex">Traffic class index in the policy.</param>
/// <param name="Kind">New kind (NoRoute means the route is withdrawn).</param>
/// <param name="Ports">New member ports.</param>
/// <param name="Weights">New member weights.</param>
public sealed record RouteChange(int Destination, int ClassIndex, RouteKind Kind, int[] Ports, int[] Weights);

/// <summary>The routes of one switch that changed in an update, with the switch's new table version.</summary>
/// <param name="SwitchId">Switch id.</param>
/// <param name="SwitchName">Switch name.</param>
/// <param name="Version">New table version of the switch.</param>
/// <param name="Changes">Changed routes.</param>
public sealed record SwitchTableDelta(int SwitchId, string SwitchName, long Version, IReadOnlyList<RouteChange> Changes);

/// <summary>
/// Routing tables of a whole fabric, per plane, with a version and plane health. Immutable. Identical groups are
/// shared per switch (as ASICs do); each (switch, destination, class) holds a group index.
/// </summary>
public sealed class RoutingResult : IForwardingTables
{
    internal RoutingResult(RoutingGraph graph, FabricSnapshot snapshot, TrafficPolicy policy, LinkLoads? loads, RoutingOptions options, long version,
        LayerKey[] layers, int[] classLayer, PlaneTables[] planes, PlaneHealth[] health, long[] switchVersions)
    {
        Graph = graph;
        Snapshot = snapshot;
        Policy = policy;
        Loads = loads;
        Options = options;
        Version = version;
        Layers = layers;
        ClassLayer = classLayer;
        Planes = planes;
        Health = health;
        SwitchVersions = switchVersions;
    }

    internal RoutingGraph Graph { get; }
    internal LayerKey[] Layers { get; }
    internal int[] ClassLayer { get; }
    internal PlaneTables[] Planes { get; }
    internal PlaneHealth[] Health { get; }
    internal long[] SwitchVersions { get; }

    /// <summary>The snapshot the tables were computed for.</summary>
    public FabricSnapshot Snapshot { get; }

    /// <summary>The traffic policy.</summary>
    public TrafficPolicy Policy { get; }

    /// <summary>Loads used (for residual and pinned classes), or null.</summary>
    public LinkLoads? Loads { get; }

    /// <summary>Options used.</summary>
    public RoutingOptions Options { get; }

    /// <summary>Table version.</summary>
    public long Version { get; }

    /// <summary>Buckets per group.</summary>
    public int GroupSize => Options.GroupSize;

    /// <summary>Plane health summaries, index = plane id.</summary>
    public IReadOnlyList<PlaneHealth> PlaneHealth => Health;

    /// <summary>Table version of one switch: the last version in which its routes changed.</summary>
    public long SwitchVersion(int switchId) => SwitchVersions[switchId];

    /// <summary>Destination leaves of a plane (switch ids), in table order.</summary>
    public IReadOnlyList<int> Destinations(int plane) => Planes[plane].Dests;

    /// <summary>Number of planes.</summary>
    public int PlaneCount => Planes.Length;

    /// <summary>Distinct groups over all switches, planes and classes.</summary>
    public int GroupCount => Planes.Sum(p => p.Groups.Count);

    /// <summary>Routing layers (distinct weightings) actually computed.</summary>
    public int LayerCount => Layers.Length;

    /// <summary>(switch, destination) entries per layer over all planes.</summary>
    public long EntryCount => Planes.Sum(p => (long)p.Switches.Length * p.Dests.Length);

    /// <summary>Approximate bytes held by the tables (entries and groups).</summary>
    public long ApproximateBytes => Planes.Sum(p => p.ApproximateBytes);

    /// <summary>Destinations of a plane for which some switch needed the non-up/down fallback.</summary>
    public int FallbackDestinations(int plane) => Planes[plane].FallbackUsed.Count(b => b != 0);

    /// <summary>The group a switch uses toward a destination leaf for a class.</summary>
    /// <exception cref="FabricInputException">When an id is out of range.</exception>
    public NextHopGroup Lookup(int switchId, int destinationLeaf, int classIndex)
    {
        var kind = Locate(switchId, destinationLeaf, classIndex, out var t, out var g);
        var mode = Mode(classIndex);
        if (kind != RouteKind.Forward) return new NextHopGroup(kind, mode, ReadOnlyMemory<int>.Empty, ReadOnlyMemory<int>.Empty);
        return new NextHopGroup(kind, mode, t!.Groups.PortsMemory(g), t.Groups.WeightsMemory(g));
    }

    /// <summary>Like <see cref="Lookup"/> without allocation: the member ports and weights as spans.</summary>
    public RouteKind TryGetGroup(int switchId, int destinationLeaf, int classIndex, out ReadOnlySpan<int> ports, out ReadOnlySpan<int> weights)
    {
        var kind = Locate(switchId, destinationLeaf, classIndex, out var t, out var g);
        if (kind != RouteKind.Forward) { ports = default; weights = default; return kind; }
        ports = t!.Groups.Ports(g);
        weights = t.Groups.Weights(g);
        return kind;
    }

    /// <summary>
    /// A key identifying the group a switch uses (equal keys = identical group at that switch), or a negative
    /// <see cref="RouteKind"/>. Lets callers cache per-group work.
    /// </summary>
    public int GroupKey(int switchId, int destinationLeaf, int classIndex)
    {
        var kind = Locate(switchId, destinationLeaf, classIndex, out _, out var g);
        return kind == RouteKind.Forward ? g : (int)kind;
    }

    /// <summary>Forwarding mode of a class after options are applied.</summary>
    public ForwardingMode Mode(int classIndex) => Options.ForceMode ?? Policy.Classes[classIndex].Mode;

    private RouteKind Locate(int switchId, int destinationLeaf, int classIndex, out PlaneTables? t, out int group)
    {
        var g = Graph;
        if ((uint)switchId >= (uint)g.SwitchCount) throw new FabricInputException("switchId", $"no switch {switchId}");
        if ((uint)destinationLeaf >= (uint)g.SwitchCount || g.DestIndex[destinationLeaf] < 0) throw new FabricInputException("destination", $"switch {destinationLeaf} is not a destination leaf");
        if ((uint)classIndex >= (uint)ClassLayer.Length) throw new FabricInputException("classIndex", $"no class {classIndex}; the policy has {ClassLayer.Length}");
        t = null;
        group = -1;
        var plane = g.PlaneOf[switchId];
        if (g.PlaneOf[destinationLeaf] != plane) return RouteKind.NoRoute;
        t = Planes[plane];
        var v = t.Entries[ClassLayer[classIndex]][g.LocalIndex[switchId] * t.Dests.Length + g.DestIndex[destinationLeaf]];
        group = v;
        return v >= 0 ? RouteKind.Forward : (RouteKind)v;
    }
}
