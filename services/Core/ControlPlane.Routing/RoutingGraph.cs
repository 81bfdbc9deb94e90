using System.Runtime.CompilerServices;
using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// The switch graph of a topology as flat int arrays (CSR), built once per topology and cached.
/// Each switch's neighbour entries are sorted: lower tier first, then same tier, then higher tier, then by port,
/// so the up/down passes scan contiguous ranges.
/// </summary>
internal sealed class RoutingGraph
{
    private static readonly ConditionalWeakTable<FabricTopology, RoutingGraph> Cache = new();

    public static RoutingGraph For(FabricTopology topology) => Cache.GetValue(topology, t => new RoutingGraph(t));

    public readonly FabricTopology Topology;
    public readonly int SwitchCount;
    public readonly int[] Tier;
    public readonly int MaxTier;
    public readonly int[] PlaneOf;
    public readonly int PlaneCount;
    public readonly int[] AdjStart;
    public readonly int[] UpStart;
    public readonly int[] DownEnd;
    public readonly int[] Nbr;
    public readonly int[] LinkOf;
    public readonly int[] PortOf;
    public readonly double[] Cap;
    public readonly bool[] AToB;
    public readonly int[] Rev;                  // per entry: the entry of the same link at the other switch
    public readonly int[][] PlaneSwitches;      // per plane, higher tiers first
    public readonly int[][] PlaneDests;         // destination switches (leaves) per plane
    public readonly int[] DestIndex;            // per switch: index in its plane's destinations, or -1
    public readonly int[] LocalIndex;           // per switch: index in PlaneSwitches[plane]
    public readonly int[] HostLinkStart;        // per switch CSR over host links
    public readonly int[] HostLinks;

    private Scratch? _spare;

    /// <summary>
    /// Per-entry scratch arrays of a route computation (each is fully written for the planes computed before it is
    /// read), kept between computations: they are large-object-heap sized, and an incremental update would otherwise
    /// allocate more scratch than it computes. Thread-safe: a concurrent computation that finds none takes new ones.
    /// </summary>
    public Scratch RentScratch() => Interlocked.Exchange(ref _spare, null) ?? new Scratch(Nbr.Length);

    /// <summary>Gives scratch arrays back for the next computation.</summary>
    public void ReturnScratch(Scratch scratch) => Volatile.Write(ref _spare, scratch);

    /// <summary>Scratch arrays sized to the adjacency entries.</summary>
    public sealed class Scratch(int entries)
    {
        private readonly int _size = Math.Max(16, entries);
        private readonly List<double[]> _doubles = [];
        private readonly List<int[]> _ints = [];
        private readonly List<long[]> _longs = [];
        public bool[] Usable { get; } = new bool[Math.Max(16, entries)];
        public double[] CapEff { get; } = new double[Math.Max(16, entries)];
        public int[] MemberBuf { get; } = new int[Math.Max(16, entries)];
        public double[] Doubles(int i) => Get(_doubles, i);
        public int[] Ints(int i) => Get(_ints, i);
        public long[] Longs(int i) => Get(_longs, i);

        private T[] Get<T>(List<T[]> list, int i)
        {
            while (list.Count <= i) list.Add(new T[_size]);
            return list[i];
        }
    }

    private RoutingGraph(FabricTopology t)
    {
        Topology = t;
        var n = t.Switches.Count;
        SwitchCount = n;
        Tier = new int[n];
        PlaneOf = new int[n];
        var planeCount = Math.Max(1, t.Planes.Count);
        for (var s = 0; s < n; s++)
        {
            Tier[s] = Math.Max(1, (int)t.Switches[s].Tier);
            PlaneOf[s] = Math.Max(0, t.Switches[s].Plane);
            planeCount = Math.Max(planeCount, PlaneOf[s] + 1);
            MaxTier = Math.Max(MaxTier, Tier[s]);
        }
        PlaneCount = planeCount;

        // Neighbour lists from each switch's ports; free ports and host ports are skipped.
        var entries = new List<(int nbr, int link, int port, double cap, bool aToB, int rank)>();
        AdjStart = new int[n + 1];
        UpStart = new int[n];
        DownEnd = new int[n];
        var hostCount = new int[n + 1];
        var hostList = new List<int>[n];
        var nbr = new List<int>();
        var lnk = new List<int>();
        var prt = new List<int>();
        var cap = new List<double>();
        var dir = new List<bool>();
        for (var s = 0; s < n; s++)
        {
            entries.Clear();
            hostList[s] = [];
            var ports = t.SwitchPortLinks(s);
            for (var i = 0; i < ports.Length; i++)
            {
                var l = ports[i];
                if (l < 0) continue;
                var link = t.Links[l];
                var other = t.Opposite(l, s);
                if (other.IsHost) { hostList[s].Add(l); continue; }
                if (other.Device == s || (uint)other.Device >= (uint)n) continue;
                var rank = Math.Sign(Math.Max(1, (int)t.Switches[other.Device].Tier) - Tier[s]);
                var aToB = !link.A.IsHost && link.A.Device == s && link.A.Port == i + 1;
                entries.Add((other.Device, l, i + 1, link.SpeedGbps, aToB, rank));
            }
            entries.Sort((x, y) => x.rank != y.rank ? x.rank.CompareTo(y.rank) : x.port.CompareTo(y.port));
            AdjStart[s] = nbr.Count;
            DownEnd[s] = nbr.Count;
            UpStart[s] = nbr.Count;
            foreach (var e in entries)
            {
                if (e.rank < 0) DownEnd[s] = nbr.Count + 1;
                if (e.rank <= 0) UpStart[s] = nbr.Count + 1;
                nbr.Add(e.nbr); lnk.Add(e.link); prt.Add(e.port); cap.Add(e.cap); dir.Add(e.aToB);
            }
        }
        AdjStart[n] = nbr.Count;
        Nbr = nbr.ToArray();
        LinkOf = lnk.ToArray();
        PortOf = prt.ToArray();
        Cap = cap.ToArray();
        AToB = dir.ToArray();
        Rev = new int[Nbr.Length];
        var byLink = new Dictionary<(int Link, int Sw), int>();
        for (var s = 0; s < n; s++)
            for (var e = AdjStart[s]; e < AdjStart[s + 1]; e++) byLink[(LinkOf[e], s)] = e;
        for (var s = 0; s < n; s++)
            for (var e = AdjStart[s]; e < AdjStart[s + 1]; e++) Rev[e] = byLink.TryGetValue((LinkOf[e], Nbr[e]), out var r) ? r : e;

        HostLinkStart = new int[n + 1];
        for (var s = 0; s < n; s++) HostLinkStart[s + 1] = HostLinkStart[s] + hostList[s].Count;
        HostLinks = new int[HostLinkStart[n]];
        for (var s = 0; s < n; s++) hostList[s].CopyTo(HostLinks, HostLinkStart[s]);

        var planeSw = new List<int>[planeCount];
        var planeDest = new List<int>[planeCount];
        for (var p = 0; p < planeCount; p++) { planeSw[p] = []; planeDest[p] = []; }
        DestIndex = new int[n];
        LocalIndex = new int[n];
        for (var s = 0; s < n; s++)
        {
            planeSw[PlaneOf[s]].Add(s);
            if (t.Switches[s].Tier == SwitchTier.Leaf || HostLinkStart[s + 1] > HostLinkStart[s])
            {
                DestIndex[s] = planeDest[PlaneOf[s]].Count;
                planeDest[PlaneOf[s]].Add(s);
            }
            else DestIndex[s] = -1;
        }
        PlaneSwitches = new int[planeCount][];
        PlaneDests = new int[planeCount][];
        for (var p = 0; p < planeCount; p++)
        {
            var tier = Tier;
            planeSw[p].Sort((a, b) => tier[a] != tier[b] ? tier[b].CompareTo(tier[a]) : a.CompareTo(b));
            PlaneSwitches[p] = planeSw[p].ToArray();
            for (var i = 0; i < PlaneSwitches[p].Length; i++) LocalIndex[PlaneSwitches[p][i]] = i;
            PlaneDests[p] = planeDest[p].ToArray();
        }
    }
}
