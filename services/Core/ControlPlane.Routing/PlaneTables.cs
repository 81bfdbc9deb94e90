namespace ControlPlane.Routing;

/// <summary>How a switch forwards toward one destination.</summary>
public enum RouteKind
{
    /// <summary>No live path: the destination is unreachable from this switch.</summary>
    NoRoute = -1,
    /// <summary>The switch is the destination leaf: it delivers to its host ports.</summary>
    Local = -2,
    /// <summary>Forward over the members of a next-hop group.</summary>
    Forward = 0,
}

/// <summary>Routing layers: one per distinct weighting in use; classes point at a layer.</summary>
internal readonly record struct LayerKey(PathWeighting Kind, int Pinned, ILinkWeigher? Weigher);

/// <summary>
/// The tables of one plane: for each layer, a group index per (switch, destination leaf), and the shared
/// deduplicated group pool. Immutable once built; an incremental update replaces whole planes.
/// </summary>
internal sealed class PlaneTables
{
    public PlaneTables(int plane, int[] switches, int[] dests, int[][] entries, GroupPool groups, byte[] fallbackUsed)
    {
        Plane = plane;
        Switches = switches;
        Dests = dests;
        Entries = entries;
        Groups = groups;
        FallbackUsed = fallbackUsed;
    }

    public int Plane { get; }
    public int[] Switches { get; }
    public int[] Dests { get; }
    /// <summary>Per layer: [localSwitch * Dests.Length + destIndex] = group id, or (int)RouteKind for none/local.</summary>
    public int[][] Entries { get; }
    public GroupPool Groups { get; }
    /// <summary>Per destination: 1 when some switch needed the valley (non up/down) fallback.</summary>
    public byte[] FallbackUsed { get; }

    public long ApproximateBytes => Groups.ApproximateBytes + Entries.Sum(e => (long)e.Length * 4) + Switches.Length * 4L + Dests.Length * 5L;
}
