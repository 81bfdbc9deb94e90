using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Distribution;

/// <summary>
/// The tables switches actually hold, seen as <see cref="IForwardingTables"/> so the flow-level emulator carries traffic on
/// what is installed (versions that lag, refused updates, lost data planes) rather than on what the engine computed.
/// Destination names map to leaf ids through the topology and class names to the policy's class indices; routes naming
/// an unknown switch, a switch of another plane or an unknown class are ignored. A member whose link is physically
/// dead is skipped and the group's remaining weights are rescaled to the group size, as an ASIC's fast failover does;
/// a group left with no live member forwards nothing (no route). Immutable once built.
/// </summary>
public sealed class InstalledTables : IForwardingTables
{
    private readonly int[] _local;      // switch id -> index inside its plane
    private readonly int[] _planeOf;
    private readonly int[] _planeSize;
    private readonly int[][] _entries;  // per switch: [destLocal * classes + class] -> group index or a negative RouteKind
    private readonly int[] _groupStart;
    private readonly int[] _groupLength;
    private readonly int[] _ports;
    private readonly int[] _weights;
    private readonly ForwardingMode[] _modes;
    private readonly int _classes;

    private InstalledTables(FabricSnapshot snapshot, TrafficPolicy policy, int groupSize, int[] local, int[] planeOf, int[] planeSize, int[][] entries,
        List<int> groupStart, List<int> groupLength, List<int> ports, List<int> weights, ForwardingMode[] modes)
    {
        Snapshot = snapshot;
        Policy = policy;
        GroupSize = groupSize;
        _local = local;
        _planeOf = planeOf;
        _planeSize = planeSize;
        _entries = entries;
        _groupStart = [.. groupStart];
        _groupLength = [.. groupLength];
        _ports = [.. ports];
        _weights = [.. weights];
        _modes = modes;
        _classes = policy.Classes.Count;
    }

    /// <inheritdoc/>
    public FabricSnapshot Snapshot { get; }

    /// <inheritdoc/>
    public TrafficPolicy Policy { get; }

    /// <inheritdoc/>
    public int GroupSize { get; }

    /// <summary>Groups with at least one live member, over all switches.</summary>
    public int GroupCount => _groupStart.Length;

    /// <summary>Members skipped because their link is physically dead.</summary>
    public int DeadMembers { get; private init; }

    /// <summary>Routes ignored (unknown destination or class, destination in another plane).</summary>
    public int IgnoredRoutes { get; private init; }

    /// <summary>Builds the view.</summary>
    /// <param name="snapshot">Physical state: links and switches that are down carry nothing.</param>
    /// <param name="policy">Classes the workload's class indices refer to; matched to tables by name.</param>
    /// <param name="groupSize">Buckets per group used to hash flows (the tables' group size).</param>
    /// <param name="tableOf">The table a switch's data plane holds, by switch id; null when it holds none.</param>
    /// <exception cref="FabricInputException">When the group size is below 1.</exception>
    public static InstalledTables Build(FabricSnapshot snapshot, TrafficPolicy policy, int groupSize, Func<int, SwitchTable?> tableOf)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(tableOf);
        if (groupSize < 1) throw new FabricInputException("groupSize", $"must be at least 1, got {groupSize}");
        var t = snapshot.Topology;
        var S = t.Switches.Count;
        var C = policy.Classes.Count;
        var planes = S == 0 ? 0 : t.Switches.Max(s => s.Plane) + 1;
        var planeSize = new int[planes];
        var local = new int[S];
        var planeOf = new int[S];
        for (var s = 0; s < S; s++)
        {
            planeOf[s] = t.Switches[s].Plane;
            local[s] = planeSize[planeOf[s]]++;
        }
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < C; c++) classIndex[policy.Classes[c].Name] = c;
        var modes = policy.Classes.Select(c => c.Mode).ToArray();
        var modeSeen = new bool[C];

        var entries = new int[S][];
        var groupStart = new List<int>();
        var groupLength = new List<int>();
        var ports = new List<int>();
        var weights = new List<int>();
        var dead = 0;
        var ignored = 0;
        var byId = new Dictionary<int, int>();
        var livePorts = new List<int>();
        var liveWeights = new List<int>();
        for (var s = 0; s < S; s++)
        {
            var e = entries[s] = new int[planeSize[planeOf[s]] * C];
            Array.Fill(e, (int)RouteKind.NoRoute);
            var table = tableOf(s);
            if (table is null) continue;
            byId.Clear();
            foreach (var g in table.Groups.Values)
            {
                livePorts.Clear();
                liveWeights.Clear();
                var total = 0;
                foreach (var m in g.Members)
                {
                    var link = t.LinkAtSwitchPort(s, m.Port);
                    if (link < 0 || !snapshot.IsLinkUsable(link)) { dead++; continue; }
                    livePorts.Add(m.Port);
                    liveWeights.Add(m.Weight);
                    total += m.Weight;
                }
                if (livePorts.Count == 0 || total <= 0) { byId[g.Id] = (int)RouteKind.NoRoute; continue; }
                if (livePorts.Count < g.Members.Length) Rescale(liveWeights, total, groupSize);
                byId[g.Id] = groupStart.Count;
                groupStart.Add(ports.Count);
                groupLength.Add(livePorts.Count);
                ports.AddRange(livePorts);
                weights.AddRange(liveWeights);
            }
            foreach (var (key, entry) in table.Routes)
            {
                var dest = t.FindSwitch(key.Destination);
                if (dest < 0 || planeOf[dest] != planeOf[s] || !classIndex.TryGetValue(key.TrafficClass, out var c)) { ignored++; continue; }
                if (!modeSeen[c])
                {
                    modeSeen[c] = true;
                    modes[c] = entry.Mode == SpreadMode.Spray ? ForwardingMode.Sprayed : ForwardingMode.Hashed;
                }
                e[local[dest] * C + c] = entry.GroupId == SwitchTable.LocalGroup ? (int)RouteKind.Local : byId.GetValueOrDefault(entry.GroupId, (int)RouteKind.NoRoute);
            }
        }
        return new InstalledTables(snapshot, policy, groupSize, local, planeOf, planeSize, entries, groupStart, groupLength, ports, weights, modes)
        {
            DeadMembers = dead,
            IgnoredRoutes = ignored,
        };
    }

    /// <summary>Views the tables of a name-keyed set (e.g. <see cref="RoutingExport.All"/>) on a snapshot.</summary>
    public static InstalledTables Build(FabricSnapshot snapshot, TrafficPolicy policy, int groupSize, IReadOnlyDictionary<string, SwitchTable> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var sw = snapshot.Topology.Switches;
        return Build(snapshot, policy, groupSize, s => tables.GetValueOrDefault(sw[s].Name));
    }

    /// <inheritdoc/>
    public ForwardingMode Mode(int classIndex) => _modes[classIndex];

    /// <inheritdoc/>
    public int GroupKey(int switchId, int destinationLeaf, int classIndex) => Entry(switchId, destinationLeaf, classIndex);

    /// <inheritdoc/>
    public RouteKind TryGetGroup(int switchId, int destinationLeaf, int classIndex, out ReadOnlySpan<int> ports, out ReadOnlySpan<int> weights)
    {
        var g = Entry(switchId, destinationLeaf, classIndex);
        if (g < 0) { ports = default; weights = default; return (RouteKind)g; }
        ports = _ports.AsSpan(_groupStart[g], _groupLength[g]);
        weights = _weights.AsSpan(_groupStart[g], _groupLength[g]);
        return RouteKind.Forward;
    }

    private int Entry(int switchId, int destinationLeaf, int classIndex)
    {
        if ((uint)switchId >= (uint)_entries.Length) throw new FabricInputException("switchId", $"no switch {switchId}");
        if ((uint)destinationLeaf >= (uint)_entries.Length) throw new FabricInputException("destination", $"no switch {destinationLeaf}");
        if ((uint)classIndex >= (uint)_classes) throw new FabricInputException("classIndex", $"no class {classIndex}; the policy has {_classes}");
        if (_planeOf[switchId] != _planeOf[destinationLeaf]) return (int)RouteKind.NoRoute;
        return _entries[switchId][_local[destinationLeaf] * _classes + classIndex];
    }

    /// <summary>Scales weights summing to <paramref name="total"/> to sum to <paramref name="target"/>, largest remainders first, each at least 1.</summary>
    private static void Rescale(List<int> w, int total, int target)
    {
        if (target < w.Count) return; // cannot give every member a bucket: keep the proportions as they are
        var rem = new (double Frac, int Index)[w.Count];
        var sum = 0;
        for (var i = 0; i < w.Count; i++)
        {
            var exact = (double)w[i] * target / total;
            var v = Math.Max(1, (int)Math.Floor(exact));
            rem[i] = (exact - Math.Floor(exact), i);
            w[i] = v;
            sum += v;
        }
        Array.Sort(rem, (a, b) => b.Frac.CompareTo(a.Frac));
        for (var k = 0; sum < target; k = (k + 1) % rem.Length, sum++) w[rem[k].Index]++;
        for (var k = 0; sum > target && k < 4 * rem.Length; k++)
        {
            var i = rem[rem.Length - 1 - (k % rem.Length)].Index;
            if (w[i] > 1) { w[i]--; sum--; }
        }
    }
}
