using System.Runtime.CompilerServices;
using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Emulation;

/// <summary>Options of an emulation.</summary>
public sealed record EmulatorOptions
{
    /// <summary>Compute max-min fair rates by water-filling (per-class throughput). Off keeps only loads and times.</summary>
    public bool MaxMinRates { get; init; } = true;

    /// <summary>Largest number of (flow group, resource) entries water-filling may build; above it rates are skipped and the report says so.</summary>
    public long MaxMinEntryBudget { get; init; } = 8_000_000;
}

/// <summary>Figures of one traffic class in an emulation.</summary>
/// <param name="Name">Class name.</param>
/// <param name="Mode">"sprayed" or "hashed".</param>
/// <param name="Flows">Flows of the class.</param>
/// <param name="Bytes">Bytes of the class.</param>
/// <param name="ThroughputGbps">Sum of the max-min fair rates of its flows (NaN when rates were not computed).</param>
/// <param name="CompletionSeconds">Fluid completion with routing fixed: max over links of the class's bytes / capacity (the class alone).</param>
/// <param name="MaxMinCompletionSeconds">Completion if every flow kept its max-min rate (all classes sharing), NaN when not computed.</param>
public sealed record ClassFigures(string Name, string Mode, int Flows, double Bytes, double ThroughputGbps, double CompletionSeconds, double MaxMinCompletionSeconds);

/// <summary>
/// What an emulation found. Utilizations are at the ideal pace: demand offered over <see cref="IdealSeconds"/>, the time the
/// busiest NIC needs at line rate, so a fabric utilization of 1 means the fabric exactly keeps up with the NICs.
/// </summary>
public sealed record EmulationReport
{
    /// <summary>Workload name.</summary>
    public required string Workload { get; init; }
    /// <summary>Routing used, e.g. "wcmp/sprayed".</summary>
    public required string Routing { get; init; }
    /// <summary>Flows in the workload.</summary>
    public int Flows { get; init; }
    /// <summary>Bytes in the workload.</summary>
    public double TotalBytes { get; init; }
    /// <summary>Bytes that could not be delivered (dead NIC link, unreachable leaf, other plane).</summary>
    public double UndeliveredBytes { get; init; }
    /// <summary>Time the busiest NIC needs at line rate (a lower bound on completion for any routing).</summary>
    public double IdealSeconds { get; init; }
    /// <summary>Max utilization over switch-to-switch link directions.</summary>
    public double MaxFabricUtilization { get; init; }
    /// <summary>Mean utilization over usable switch-to-switch link directions.</summary>
    public double MeanFabricUtilization { get; init; }
    /// <summary>99th percentile of switch-link direction utilization.</summary>
    public double P99FabricUtilization { get; init; }
    /// <summary>The most utilized link direction, e.g. "leaf-3/33 -> spine-0/4".</summary>
    public string HottestLink { get; init; } = "";
    /// <summary>Certified lower bound on the max switch-link utilization any routing could reach for this demand.</summary>
    public double LowerBoundUtilization { get; init; }
    /// <summary>Which cut gave the bound.</summary>
    public string LowerBoundCut { get; init; } = "";
    /// <summary><see cref="MaxFabricUtilization"/> / <see cref="LowerBoundUtilization"/> (1 is optimal).</summary>
    public double RatioToBound { get; init; }
    /// <summary>Completion of the whole workload with routing fixed: max over all links (NIC links too) of bytes / capacity.</summary>
    public double CompletionSeconds { get; init; }
    /// <summary>Lower bound on completion for any routing: max(ideal NIC time, cut bound).</summary>
    public double LowerBoundCompletionSeconds { get; init; }
    /// <summary>True when max-min rates were computed.</summary>
    public bool MaxMinComputed { get; init; }
    /// <summary>Per-class figures.</summary>
    public IReadOnlyList<ClassFigures> Classes { get; init; } = [];
}

/// <summary>An emulation's report plus the per-link utilization (input to the adaptive loop).</summary>
/// <param name="Report">Figures.</param>
/// <param name="Utilization">Utilization per link direction at the ideal pace.</param>
public sealed record EmulationResult(EmulationReport Report, LinkLoads Utilization);

/// <summary>
/// Flow-level fabric emulator. Sprayed classes are aggregated by (source leaf, destination leaf, class) and split by group
/// weights hop by hop; hashed classes are walked flow by flow with a deterministic per-switch hash choosing one member by
/// bucket (collisions included, as real ECMP). Rates are max-min fair (water-filling) over switch-link directions and
/// per-leaf pooled NIC capacity. Pure: no clock, no I/O.
/// </summary>
public static class Emulator
{
    private static readonly ConditionalWeakTable<FabricTopology, PortMap> Maps = new();

    internal static PortMap MapFor(FabricTopology t) => Maps.GetValue(t, topo =>
    {
        var off = new int[topo.Switches.Count + 1];
        for (var s = 0; s < topo.Switches.Count; s++) off[s + 1] = off[s] + topo.Switches[s].Radix;
        var ld = new int[off[^1]];
        var nx = new int[off[^1]];
        Array.Fill(ld, -1);
        Array.Fill(nx, -1);
        for (var s = 0; s < topo.Switches.Count; s++)
        {
            var ports = topo.SwitchPortLinks(s);
            for (var i = 0; i < ports.Length; i++)
            {
                var l = ports[i];
                if (l < 0) continue;
                var link = topo.Links[l];
                var aToB = !link.A.IsHost && link.A.Device == s && link.A.Port == i + 1;
                ld[off[s] + i] = 2 * l + (aToB ? 0 : 1);
                var o = topo.Opposite(l, s);
                nx[off[s] + i] = o.IsHost ? -1 : o.Device;
            }
        }
        return new PortMap { Offset = off, LinkDir = ld, Next = nx };
    });

    /// <summary>Runs the workload over the tables.</summary>
    /// <exception cref="FabricInputException">When a flow names a link that is not a host link or a class the policy lacks.</exception>
    public static EmulationResult Run(IForwardingTables routes, Workload workload, EmulatorOptions? options = null)
    {
        options ??= new EmulatorOptions();
        var snap = routes.Snapshot;
        var t = snap.Topology;
        var map = MapFor(t);
        var L = t.Links.Count;
        var classes = routes.Policy.Classes.Count;
        var load = new double[2 * L];
        var classLoad = new double[classes][];
        for (var c = 0; c < classes; c++) classLoad[c] = new double[2 * L];
        var G = routes.GroupSize;
        double undelivered = 0, total = 0;
        var nicOut = new Dictionary<int, double>();
        var nicIn = new Dictionary<int, double>();
        var sprayAgg = new Dictionary<(int Src, int Dst, int Cls), (double Bytes, int Flows)>();
        var pathGroups = new Dictionary<PathKey, (double Bytes, int Flows, int[] Dirs)>();
        var localGroups = new Dictionary<(int, int, int), (double, int)>();
        var flowsPerClass = new int[classes];
        var bytesPerClass = new double[classes];
        var pathBuf = new List<int>(16);

        foreach (var f in workload.Flows)
        {
            if ((uint)f.ClassIndex >= (uint)classes) throw new FabricInputException("flows.classIndex", $"class {f.ClassIndex} is not in the policy ({classes} classes)");
            var (srcLeaf, srcDir) = HostEnd(t, f.SrcLink, "flows.srcLink", outbound: true);
            var (dstLeaf, dstDir) = HostEnd(t, f.DstLink, "flows.dstLink", outbound: false);
            total += f.Bytes;
            flowsPerClass[f.ClassIndex]++;
            bytesPerClass[f.ClassIndex] += f.Bytes;
            if (!snap.IsLinkUsable(f.SrcLink) || !snap.IsLinkUsable(f.DstLink) || t.Switches[srcLeaf].Plane != t.Switches[dstLeaf].Plane) { undelivered += f.Bytes; continue; }
            if (srcLeaf != dstLeaf && routes.GroupKey(srcLeaf, dstLeaf, f.ClassIndex) < 0) { undelivered += f.Bytes; continue; }
            load[srcDir] += f.Bytes; classLoad[f.ClassIndex][srcDir] += f.Bytes;
            load[dstDir] += f.Bytes; classLoad[f.ClassIndex][dstDir] += f.Bytes;
            nicOut[f.SrcLink] = nicOut.GetValueOrDefault(f.SrcLink) + f.Bytes;
            nicIn[f.DstLink] = nicIn.GetValueOrDefault(f.DstLink) + f.Bytes;
            if (srcLeaf == dstLeaf)
            {
                var k = (srcLeaf, dstLeaf, f.ClassIndex);
                var (b, n) = localGroups.GetValueOrDefault(k);
                localGroups[k] = (b + f.Bytes, n + 1);
                continue;
            }
            if (routes.Mode(f.ClassIndex) == ForwardingMode.Sprayed)
            {
                var k = (srcLeaf, dstLeaf, f.ClassIndex);
                var (b, n) = sprayAgg.GetValueOrDefault(k);
                sprayAgg[k] = (b + f.Bytes, n + 1);
                continue;
            }
            // Hashed: one member per hop chosen by the flow hash, as an ECMP ASIC does.
            pathBuf.Clear();
            var key = Mix((ulong)f.SrcLink * 0x9E3779B97F4A7C15UL ^ (ulong)f.DstLink * 0xC2B2AE3D27D4EB4FUL ^ (ulong)f.FlowId * 0x165667B19E3779F9UL ^ (ulong)f.ClassIndex);
            var x = srcLeaf;
            var ok = true;
            for (var hop = 0; x != dstLeaf; hop++)
            {
                if (hop > 64 || routes.TryGetGroup(x, dstLeaf, f.ClassIndex, out var ports, out var weights) != RouteKind.Forward) { ok = false; break; }
                var bucket = (int)(Mix(key ^ (ulong)x * 0xD6E8FEB86659FD93UL) % (ulong)G);
                var m = 0;
                for (var acc = weights[0]; acc <= bucket && m + 1 < weights.Length; acc += weights[++m]) { }
                var idx = map.Offset[x] + ports[m] - 1;
                pathBuf.Add(map.LinkDir[idx]);
                x = map.Next[idx];
            }
            if (!ok) { undelivered += f.Bytes; load[srcDir] -= f.Bytes; load[dstDir] -= f.Bytes; classLoad[f.ClassIndex][srcDir] -= f.Bytes; classLoad[f.ClassIndex][dstDir] -= f.Bytes; continue; }
            foreach (var ld in pathBuf) { load[ld] += f.Bytes; classLoad[f.ClassIndex][ld] += f.Bytes; }
            var pk = new PathKey(srcLeaf, dstLeaf, f.ClassIndex, PathHash(pathBuf));
            if (pathGroups.TryGetValue(pk, out var pg)) pathGroups[pk] = (pg.Bytes + f.Bytes, pg.Flows + 1, pg.Dirs);
            else pathGroups[pk] = (f.Bytes, 1, pathBuf.ToArray());
        }

        // Sprayed aggregates: per (destination, class), push all sources' bytes through the weighted DAG at once.
        var spreader = new Spreader(routes, map);
        foreach (var grp in sprayAgg.GroupBy(kv => (kv.Key.Dst, kv.Key.Cls)))
        {
            var (dst, cls) = grp.Key;
            spreader.Push(dst, cls, grp.Select(kv => (kv.Key.Src, kv.Value.Bytes)), (ld, b) => { load[ld] += b; classLoad[cls][ld] += b; });
        }

        // Ideal pace: the busiest NIC at line rate.
        double ideal = 0;
        foreach (var (l, b) in nicOut) ideal = Math.Max(ideal, Seconds(b, t.Links[l].SpeedGbps));
        foreach (var (l, b) in nicIn) ideal = Math.Max(ideal, Seconds(b, t.Links[l].SpeedGbps));

        var utilA = new double[L];
        var utilB = new double[L];
        double maxU = 0, sumU = 0, completion = 0;
        var hottest = -1;
        var fabricUtils = new List<double>();
        for (var l = 0; l < L; l++)
        {
            var cap = t.Links[l].SpeedGbps;
            for (var dir = 0; dir < 2; dir++)
            {
                var sec = Seconds(load[2 * l + dir], cap);
                completion = Math.Max(completion, sec);
                var u = ideal > 0 ? sec / ideal : 0;
                if (dir == 0) utilA[l] = u; else utilB[l] = u;
                if (!t.Links[l].IsSwitchLink || !snap.IsLinkUsable(l)) continue;
                fabricUtils.Add(u);
                sumU += u;
                if (u > maxU) { maxU = u; hottest = 2 * l + dir; }
            }
        }
        fabricUtils.Sort();
        var bound = LowerBound.Compute(snap, workload, routes);
        var boundU = ideal > 0 ? bound.Seconds / ideal : 0;

        // Per-class fluid completion (class alone).
        var classCompletion = new double[classes];
        for (var c = 0; c < classes; c++)
            for (var i = 0; i < 2 * L; i++)
                if (classLoad[c][i] > 0) classCompletion[c] = Math.Max(classCompletion[c], Seconds(classLoad[c][i], t.Links[i / 2].SpeedGbps));

        var throughput = new double[classes];
        var mmCompletion = new double[classes];
        var mm = false;
        if (options.MaxMinRates)
            mm = MaxMin.Run(routes, map, spreader, sprayAgg, pathGroups, localGroups, options.MaxMinEntryBudget, throughput, mmCompletion);
        if (!mm) { Array.Fill(throughput, double.NaN); Array.Fill(mmCompletion, double.NaN); }

        var report = new EmulationReport
        {
            Workload = workload.Name,
            Routing = RoutingName(routes),
            Flows = workload.Flows.Count,
            TotalBytes = total,
            UndeliveredBytes = undelivered,
            IdealSeconds = ideal,
            MaxFabricUtilization = maxU,
            MeanFabricUtilization = fabricUtils.Count > 0 ? sumU / fabricUtils.Count : 0,
            P99FabricUtilization = fabricUtils.Count > 0 ? fabricUtils[(int)Math.Min(fabricUtils.Count - 1, Math.Floor(fabricUtils.Count * 0.99))] : 0,
            HottestLink = hottest < 0 ? "" : DescribeDir(t, hottest),
            LowerBoundUtilization = boundU,
            LowerBoundCut = bound.Cut,
            RatioToBound = boundU > 0 ? maxU / boundU : (maxU > 0 ? double.PositiveInfinity : 1),
            CompletionSeconds = completion,
            LowerBoundCompletionSeconds = Math.Max(ideal, bound.Seconds),
            MaxMinComputed = mm,
            Classes = Enumerable.Range(0, classes).Select(c => new ClassFigures(routes.Policy.Classes[c].Name, routes.Mode(c).ToString().ToLowerInvariant(),
                flowsPerClass[c], bytesPerClass[c], throughput[c], classCompletion[c], mmCompletion[c])).ToList(),
        };
        return new EmulationResult(report, new LinkLoads(utilA, utilB));
    }

    internal static string RoutingName(IForwardingTables tables)
    {
        // Installed tables carry no weighting: name them by mode only.
        var cls = tables.Policy.Classes;
        var parts = tables is RoutingResult r
            ? cls.Select((c, i) => $"{(r.Options.ForceWeighting ?? c.Weighting).ToString().ToLowerInvariant()}/{r.Mode(i).ToString().ToLowerInvariant()}").Distinct()
            : cls.Select((c, i) => $"installed/{tables.Mode(i).ToString().ToLowerInvariant()}").Distinct();
        return string.Join("+", parts);
    }

    internal static double Seconds(double bytes, double gbps) => gbps > 0 ? bytes * 8 / (gbps * 1e9) : (bytes > 0 ? double.PositiveInfinity : 0);

    private static string DescribeDir(FabricTopology t, int dir)
    {
        var l = t.Links[dir / 2];
        return dir % 2 == 0 ? $"{t.Describe(l.A)} -> {t.Describe(l.B)}" : $"{t.Describe(l.B)} -> {t.Describe(l.A)}";
    }

    /// <summary>The leaf of a host link and the link direction toward (outbound) or from (inbound) the leaf.</summary>
    internal static (int Leaf, int Dir) HostEnd(FabricTopology t, int link, string field, bool outbound)
    {
        if ((uint)link >= (uint)t.Links.Count) throw new FabricInputException(field, $"no link {link}");
        var l = t.Links[link];
        if (l.A.IsHost == l.B.IsHost) throw new FabricInputException(field, $"link {link} is not a host link");
        var hostIsA = l.A.IsHost;
        var leaf = hostIsA ? l.B.Device : l.A.Device;
        var aToB = outbound ? hostIsA : !hostIsA;
        return (leaf, 2 * link + (aToB ? 0 : 1));
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong PathHash(List<int> dirs)
    {
        var h = 14695981039346656037UL;
        foreach (var d in dirs) h = (h ^ (ulong)d) * 1099511628211UL;
        return h;
    }

    internal readonly record struct PathKey(int Src, int Dst, int Cls, ulong Hash);
}

/// <summary>Per switch port: the link direction leaving through it and the switch at the other end.</summary>
internal sealed class PortMap
{
    public required int[] Offset;
    public required int[] LinkDir;   // 2*link + (A->B ? 0 : 1), or -1
    public required int[] Next;      // switch at the other end, or -1
}

/// <summary>Pushes traffic toward one destination through the weighted next-hop DAG in topological order.</summary>
internal sealed class Spreader
{
    private readonly IForwardingTables _routes;
    private readonly FabricTopology _t;
    private readonly double[] _amount;
    private readonly int[] _mark;
    private readonly List<int> _order = [];
    private readonly Stack<(int Node, int Next)> _stack = new();
    private int _stamp;
    private readonly int[] _offset;
    private readonly int[] _linkDir;
    private readonly int[] _next;

    internal Spreader(IForwardingTables routes, PortMap map)
    {
        _routes = routes;
        _t = routes.Snapshot.Topology;
        _amount = new double[_t.Switches.Count];
        _mark = new int[_t.Switches.Count];
        _offset = map.Offset;
        _linkDir = map.LinkDir;
        _next = map.Next;
    }

    /// <summary>Pushes the sources' bytes to <paramref name="dst"/>; calls <paramref name="onLink"/> per link direction with bytes.</summary>
    public void Push(int dst, int cls, IEnumerable<(int Src, double Bytes)> sources, Action<int, double> onLink)
    {
        _stamp++;
        _order.Clear();
        foreach (var (src, bytes) in sources)
        {
            Visit(src, dst, cls);
            _amount[src] += bytes;
        }
        // _order is a post-order (a switch after everything downstream); walk it backwards.
        for (var i = _order.Count - 1; i >= 0; i--)
        {
            var x = _order[i];
            var a = _amount[x];
            _amount[x] = 0;
            if (x == dst || a == 0) continue;
            if (_routes.TryGetGroup(x, dst, cls, out var ports, out var weights) != RouteKind.Forward) continue;
            double sum = 0;
            foreach (var w in weights) sum += w;
            for (var k = 0; k < ports.Length; k++)
            {
                var idx = _offset[x] + ports[k] - 1;
                var share = a * weights[k] / sum;
                onLink(_linkDir[idx], share);
                _amount[_next[idx]] += share;
            }
        }
    }

    private void Visit(int root, int dst, int cls)
    {
        if (_mark[root] == _stamp) return;
        _mark[root] = _stamp;
        _stack.Push((root, 0));
        while (_stack.Count > 0)
        {
            var (x, k) = _stack.Pop();
            if (x != dst && _routes.TryGetGroup(x, dst, cls, out var ports, out _) == RouteKind.Forward && k < ports.Length)
            {
                _stack.Push((x, k + 1));
                var n = _next[_offset[x] + ports[k] - 1];
                if (n >= 0 && _mark[n] != _stamp)
                {
                    _mark[n] = _stamp;
                    _stack.Push((n, 0));
                }
                continue;
            }
            _order.Add(x);
        }
    }
}
