using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// Forwarding state of a whole fabric as the flow-level emulator reads it: per (switch, destination leaf, class) a
/// weighted next-hop group. <see cref="RoutingResult"/> is the engine's view; an adapter over the tables the switches'
/// data planes actually hold is another, so the emulated fabric carries traffic on what is installed, not on what was
/// computed.
/// </summary>
public interface IForwardingTables
{
    /// <summary>Physical and operational state the traffic meets (link usability, NIC links).</summary>
    FabricSnapshot Snapshot { get; }

    /// <summary>Traffic classes; a workload's class index refers to this list.</summary>
    TrafficPolicy Policy { get; }

    /// <summary>Buckets per group: hashed flows pick a member by bucket in [0, GroupSize).</summary>
    int GroupSize { get; }

    /// <summary>Forwarding mode of a class.</summary>
    ForwardingMode Mode(int classIndex);

    /// <summary>A key identifying the group a switch uses (equal keys = identical group at that switch), or a negative <see cref="RouteKind"/>.</summary>
    int GroupKey(int switchId, int destinationLeaf, int classIndex);

    /// <summary>The member ports (1-based) and weights a switch uses toward a destination leaf for a class.</summary>
    RouteKind TryGetGroup(int switchId, int destinationLeaf, int classIndex, out ReadOnlySpan<int> ports, out ReadOnlySpan<int> weights);
}
