using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// Computes weighted next-hop groups per switch, per destination leaf, per traffic class. Pure: the result
/// depends only on the snapshot, the policy, the loads and the options.
/// </summary>
/// <remarks>
/// Algorithm, per plane and per destination leaf d (planes are routed independently):
/// <list type="number">
/// <item>Down phase: walking up from d, every switch that reaches d using only links to lower tiers routes down
/// (valley-free), its members being those lower neighbours.</item>
/// <item>Up phase: from the top tier down, every other switch routes up to the higher-tier neighbours that have a
/// route. Paths are therefore strictly up then strictly down: no loop, and no valley (credit-loop safe).</item>
/// <item>Fallback: a switch still without a route but connected to d in the live graph (e.g. a spine that lost its
/// link to d in a two-tier tree) forwards along a BFS shortest-path DAG toward the routed set. Routed switches
/// never forward to a fallback switch, so distances strictly decrease: still no loop, and no blackhole.</item>
/// <item>Weights (WCMP): eff(d) = infinity; for a routed switch x, eff(x) = sum over members n of
/// f(x,n) * min(cap(x,n), eff(n) / fanIn(n)), where fanIn(n) counts n's live neighbours that are not its next hops
/// (those that may send through n) and f is the link weigher's factor. The member weight is that term: the fair
/// share of end-to-end capacity the member can carry, which is exact for a uniform all-to-all on a symmetric tree
/// and steers away from spines that lost links. ECMP uses weight 1 on the same members.</item>
/// </list>
/// </remarks>
public static class RoutingEngine
{
    /// <summary>Computes every plane's tables.</summary>
    /// <exception cref="FabricInputException">When the policy, options or loads are invalid.</exception>
    public static RoutingResult Compute(FabricSnapshot snapshot, TrafficPolicy policy, LinkLoads? loads = null, RoutingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new RoutingOptions();
        Check(snapshot, policy, loads, options);
        var graph = RoutingGraph.For(snapshot.Topology);
        var (layers, classLayer) = Layers(policy, loads, options);
        var ctx = new Workspace(graph, snapshot, loads, options, layers);
        var planes = new PlaneTables[graph.PlaneCount];
        for (var p = 0; p < planes.Length; p++) planes[p] = ctx.ComputePlane(p, p > 0 ? planes[p - 1] : null);
        ctx.Release();
        var version = options.Version ?? snapshot.Version;
        var health = new PlaneHealth[graph.PlaneCount];
        for (var p = 0; p < health.Length; p++) health[p] = PlaneHealth.Compute(graph, snapshot, p, planes[p]);
        var switchVersions = new long[graph.SwitchCount];
        Array.Fill(switchVersions, version);
        return new RoutingResult(graph, snapshot, policy, loads, options, version, layers, classLayer, planes, health, switchVersions);
    }

    /// <summary>
    /// Recomputes after link or switch changes: finds which elements changed between the previous snapshot and
    /// <paramref name="next"/>, recomputes only the planes they belong to (planes are independent), reuses every
    /// other plane as is, and returns the per-switch differences. The result equals a full <see cref="Compute"/> on
    /// <paramref name="next"/> with the same policy, loads and options.
    /// </summary>
    /// <param name="previous">Tables of the previous snapshot.</param>
    /// <param name="next">The new snapshot; must share the previous topology.</param>
    /// <param name="loads">New loads, or null to keep the previous ones.</param>
    /// <param name="options">New options, or null to keep the previous ones (the version is always previous + 1).</param>
    /// <exception cref="FabricInputException">When <paramref name="next"/> has another topology.</exception>
    public static (RoutingResult Result, IReadOnlyList<SwitchTableDelta> Deltas) Update(RoutingResult previous, FabricSnapshot next, LinkLoads? loads = null, RoutingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(next);
        if (!ReferenceEquals(previous.Snapshot.Topology, next.Topology)) throw new FabricInputException("next", "an incremental update needs the same topology; compute afresh");
        var graph = previous.Graph;
        var version = previous.Version + 1;
        var sameInputs = loads is null && options is null;
        loads ??= previous.Loads;
        options = (options ?? previous.Options) with { Version = version };
        Check(next, previous.Policy, loads, options);
        var (layers, classLayer) = Layers(previous.Policy, loads, options);

        var dirty = new bool[graph.PlaneCount];
        if (!sameInputs) Array.Fill(dirty, true);
        else
        {
            var prev = previous.Snapshot;
            // Snapshots made with With share unchanged state objects (and whole arrays when nothing of that kind
            // changed), so a reference check skips most elements before looking at their status.
            var prevLinks = AsArray(prev.LinkStates);
            var nextLinks = AsArray(next.LinkStates);
            if (!ReferenceEquals(prevLinks, nextLinks))
            {
                var links = next.Topology.Links;
                var linkCount = links.Count;
                for (var l = 0; l < linkCount; l++)
                {
                    var a = prevLinks[l];
                    var b = nextLinks[l];
                    if (ReferenceEquals(a, b) || a.CarriesTraffic == b.CarriesTraffic) continue;
                    dirty[Math.Clamp(links[l].Plane, 0, graph.PlaneCount - 1)] = true;
                }
            }
            var prevSwitches = AsArray(prev.SwitchStates);
            var nextSwitches = AsArray(next.SwitchStates);
            if (!ReferenceEquals(prevSwitches, nextSwitches))
                for (var s = 0; s < graph.SwitchCount; s++)
                {
                    var a = prevSwitches[s];
                    var b = nextSwitches[s];
                    if (!ReferenceEquals(a, b) && a.CarriesTraffic != b.CarriesTraffic) dirty[graph.PlaneOf[s]] = true;
                }
        }

        var planes = (PlaneTables[])previous.Planes.Clone();
        var health = (PlaneHealth[])previous.Health.Clone();
        var switchVersions = (long[])previous.SwitchVersions.Clone();
        var deltas = new List<SwitchTableDelta>();
        Workspace? ctx = null;
        for (var p = 0; p < planes.Length; p++)
        {
            if (!dirty[p]) continue;
            ctx ??= new Workspace(graph, next, loads, options, layers, dirty);
            planes[p] = ctx.ComputePlane(p, previous.Planes[p]);
            health[p] = PlaneHealth.Compute(graph, next, p, planes[p]);
            Diff(graph, previous.Policy, classLayer, previous.Planes[p], previous.ClassLayer, planes[p], version, deltas, switchVersions);
        }
        ctx?.Release();
        var result = new RoutingResult(graph, next, previous.Policy, loads, options, version, layers, classLayer, planes, health, switchVersions);
        return (result, deltas);
    }

    // The snapshot hands out its state arrays as read-only lists; indexing the array avoids an interface call per element.
    private static ElementState[] AsArray(IReadOnlyList<ElementState> states) => states as ElementState[] ?? states.ToArray();

    private static void Diff(RoutingGraph graph, TrafficPolicy policy, int[] newClassLayer, PlaneTables oldT, int[] oldClassLayer, PlaneTables newT, long version, List<SwitchTableDelta> deltas, long[] switchVersions)
    {
        var dc = newT.Dests.Length;
        // Classes sharing a layer (in both tables) have the same entries: compare each (old layer, new layer) pair once.
        var pairOf = new int[newClassLayer.Length];
        var pairs = new List<(int Old, int New)>();
        for (var c = 0; c < newClassLayer.Length; c++)
        {
            var key = (oldClassLayer[c], newClassLayer[c]);
            var k = pairs.IndexOf(key);
            if (k < 0) { k = pairs.Count; pairs.Add(key); }
            pairOf[c] = k;
        }
        var changed = new int[pairs.Count * dc];
        var changedCount = new int[pairs.Count];
        for (var i = 0; i < newT.Switches.Length; i++)
        {
            var any = false;
            for (var k = 0; k < pairs.Count; k++)
            {
                var oldE = oldT.Entries[pairs[k].Old];
                var newE = newT.Entries[pairs[k].New];
                var n = 0;
                // Neighbouring destinations (one pod) often map to the same pair of groups: compare each pair once.
                int lastA = int.MinValue, lastB = int.MinValue;
                var lastSame = false;
                for (var d = 0; d < dc; d++)
                {
                    var a = oldE[i * dc + d];
                    var b = newE[i * dc + d];
                    if (a != lastA || b != lastB)
                    {
                        lastA = a;
                        lastB = b;
                        lastSame = SameGroup(oldT.Groups, a, newT.Groups, b);
                    }
                    if (!lastSame) changed[k * dc + n++] = d;
                }
                changedCount[k] = n;
                any |= n > 0;
            }
            if (!any) continue;
            var changes = new List<RouteChange>();
            for (var c = 0; c < newClassLayer.Length; c++)
            {
                var k = pairOf[c];
                var newE = newT.Entries[newClassLayer[c]];
                for (var j = 0; j < changedCount[k]; j++)
                {
                    var d = changed[k * dc + j];
                    var b = newE[i * dc + d];
                    changes.Add(new RouteChange(newT.Dests[d], c, b < 0 ? (RouteKind)b : RouteKind.Forward,
                        b < 0 ? [] : newT.Groups.Ports(b).ToArray(), b < 0 ? [] : newT.Groups.Weights(b).ToArray()));
                }
            }
            var s = newT.Switches[i];
            switchVersions[s] = version;
            deltas.Add(new SwitchTableDelta(s, graph.Topology.Switches[s].Name, version, changes));
        }
        _ = policy;
    }

    private static bool SameGroup(GroupPool pa, int a, GroupPool pb, int b)
    {
        if (a < 0 || b < 0) return a == b;
        // Both pools hash (owner, members) alike, so different hashes mean different groups.
        return pa.Hash(a) == pb.Hash(b) && pa.Ports(a).SequenceEqual(pb.Ports(b)) && pa.Weights(a).SequenceEqual(pb.Weights(b));
    }

    private static void Check(FabricSnapshot snapshot, TrafficPolicy policy, LinkLoads? loads, RoutingOptions options)
    {
        var errors = new List<FieldError>();
        errors.AddRange(policy.Validate().Select(e => e with { Field = "policy." + e.Field }));
        errors.AddRange(options.Validate().Select(e => e with { Field = "options." + e.Field }));
        if (loads is not null && loads.Count != snapshot.Topology.Links.Count)
            errors.Add(new("loads", $"must cover every link ({snapshot.Topology.Links.Count}), got {loads.Count}"));
        if (errors.Count > 0) throw new FabricInputException(errors);
    }

    private static (LayerKey[] Layers, int[] ClassLayer) Layers(TrafficPolicy policy, LinkLoads? loads, RoutingOptions options)
    {
        var keys = new List<LayerKey>();
        var classLayer = new int[policy.Classes.Count];
        ResidualWeigher? residual = null;
        for (var c = 0; c < policy.Classes.Count; c++)
        {
            var cls = policy.Classes[c];
            var w = options.ForceWeighting ?? cls.Weighting;
            var key = w switch
            {
                PathWeighting.Ecmp => new LayerKey(PathWeighting.Ecmp, 0, null),
                PathWeighting.Pinned => new LayerKey(PathWeighting.Pinned, cls.PinnedPaths, null),
                PathWeighting.Adaptive when options.Adaptive is not null => new LayerKey(PathWeighting.Adaptive, 0, options.Adaptive),
                PathWeighting.Residual when loads is not null => new LayerKey(PathWeighting.Residual, 0, residual ??= new ResidualWeigher(loads, options.ResidualFloor)),
                _ => new LayerKey(PathWeighting.Wcmp, 0, null),
            };
            var idx = keys.IndexOf(key);
            if (idx < 0) { idx = keys.Count; keys.Add(key); }
            classLayer[c] = idx;
        }
        return (keys.ToArray(), classLayer);
    }

    /// <summary>Test hook: turns off the reuse of the previous destination's groups (the result must not change).</summary>
    internal static bool DisableReuse;

    private const byte PhaseDown = 1, PhaseUp = 2, PhaseFallback = 3, PhaseLocal = 4;

    /// <summary>Scratch arrays for one computation, reused across destinations.</summary>
    private sealed class Workspace
    {
        private readonly RoutingGraph _g;
        private readonly LinkLoads? _loads;
        private readonly RoutingOptions _options;
        private readonly LayerKey[] _layers;
        private readonly bool[] _usable;     // per adjacency entry
        private readonly bool[] _switchUp;
        private readonly int[] _liveDeg;
        private readonly int[] _liveUp;
        private readonly int[] _liveDown;
        private readonly int[] _downDest;   // live destination leaves reachable downward from each switch
        private readonly int[] _stamp;
        private readonly byte[] _phase;
        private readonly int[] _fdist;
        private readonly int[] _dist;
        private readonly double[][] _eff;      // per layer
        private readonly double[][] _share;    // per layer: eff(n) / fanIn(n), set with eff so each member term is one min
        private readonly double[][] _term;     // per layer, per member slot: the member's term from the last Sum
        private readonly double[] _capEff;     // per entry: capacity, divided over the destinations below for down links
        private readonly RoutingGraph.Scratch _scratch;
        private readonly double[][] _prevEff;  // per layer, the previous destination's down region
        private readonly int[] _prevMark;
        private readonly int[] _prevDist;
        private readonly int[] _prevMc;
        private readonly int[] _prevMember;  // the first member entry in the previous destination's down region
        private readonly bool[] _upCarry;
        private readonly int[] _candCount;   // per switch: lower neighbours routing down that reached it (this destination)
        private readonly int[] _candEntry;   // per switch: the entry toward the first of them
        private int _prevDownCount;
        private int _iter;
        private int _memberTop;
        private readonly int[] _memberStart;
        private readonly int[] _memberCount;
        private int[] _memberBuf;
        private readonly List<int>[] _buckets;
        private readonly List<int> _downOrder = [];
        private readonly List<int> _upOrder = [];
        private readonly List<int> _fallback = [];
        private readonly List<int> _pending = [];
        private int _cur;
        private double[] _raw = new double[64];
        private int[] _w = new int[64];
        private int[] _ports = new int[64];
        private long[] _roundRaw = new long[64];
        private int[] _roundFloor = new int[64];
        private double[] _roundFrac = new double[64];
        private int _roundCount = -1;
        private int _roundGiven;
        private readonly int[] _memoGroup;
        private readonly int[] _memoStamp;
        private readonly int[] _memoSalt;
        private readonly int[] _memoCount;
        private int[][]? _memoEntries;   // per layer, at AdjStart[x]: the member entries of x's last group
        private long[][]? _memoRaw;      // per layer, at AdjStart[x]: the raw weights (bits) of x's last group
        private bool _memoOn;
        private readonly int[] _memoColumn;  // destination index of the memo's last use
        private int _column;                 // destination index being computed
        private bool _sameAsPrevious;        // the last Group call gave the group the memo gave for the previous destination
        private int _memoEpoch;
        private int _destSalt;
        private int _layerIndex;

        // planes: the planes that will be computed (null = all); only their switches are prepared.
        public Workspace(RoutingGraph g, FabricSnapshot snap, LinkLoads? loads, RoutingOptions options, LayerKey[] layers, bool[]? planes = null)
        {
            _g = g;
            _loads = loads;
            _options = options;
            _layers = layers;
            var n = g.SwitchCount;
            _scratch = g.RentScratch();
            _usable = _scratch.Usable;
            _switchUp = new bool[n];
            _liveDeg = new int[n];
            _liveUp = new int[n];
            _liveDown = new int[n];
            _downDest = new int[n];
            for (var p = 0; p < g.PlaneCount; p++)
            {
                if (planes is not null && !planes[p]) continue;
                foreach (var s in g.PlaneSwitches[p])
                {
                    _switchUp[s] = snap.SwitchState(s).CarriesTraffic;
                    for (var e = g.AdjStart[s]; e < g.AdjStart[s + 1]; e++)
                    {
                        // Per entry rather than through a per-link array sized to the whole topology: an incremental update
                        // prepares one plane, and allocating and clearing an array over every link cost more than the
                        // second usability check of each switch link.
                        _usable[e] = snap.IsLinkUsable(g.LinkOf[e]);
                        if (!_usable[e]) continue;
                        _liveDeg[s]++;
                        if (e >= g.UpStart[s]) _liveUp[s]++;
                        else if (e < g.DownEnd[s]) _liveDown[s]++;
                    }
                }
                // Destinations below each switch, bottom-up by tier over live down links (sums: tree fabrics are disjoint).
                var sw = g.PlaneSwitches[p];
                for (var i = sw.Length - 1; i >= 0; i--)
                {
                    var s = sw[i];
                    if (!_switchUp[s]) continue;
                    if (g.DestIndex[s] >= 0) _downDest[s] = 1;
                    for (var e = g.AdjStart[s]; e < g.DownEnd[s]; e++) if (_usable[e]) _downDest[s] += _downDest[g.Nbr[e]];
                }
            }
            // Per-destination capacity of a link down into n: it carries traffic for every destination below n, so a
            // spine that lost core links is not sent more than its remaining core links can carry for all its leaves.
            // (Up links carry every other destination alike, which scales all alternatives equally: no division.)
            _capEff = _scratch.CapEff;
            for (var p = 0; p < g.PlaneCount; p++)
            {
                if (planes is not null && !planes[p]) continue;
                foreach (var s in g.PlaneSwitches[p])
                {
                    for (var e = g.AdjStart[s]; e < g.DownEnd[s]; e++) _capEff[e] = g.Cap[e] / Math.Max(1, _downDest[g.Nbr[e]]);
                    for (var e = g.DownEnd[s]; e < g.AdjStart[s + 1]; e++) _capEff[e] = g.Cap[e];
                }
            }
            _stamp = new int[n];
            _phase = new byte[n];
            _fdist = new int[n];
            _dist = new int[n];
            _eff = new double[layers.Length][];
            _prevEff = new double[layers.Length][];
            _share = new double[layers.Length][];
            _term = new double[layers.Length][];
            for (var i = 0; i < layers.Length; i++)
            {
                _eff[i] = new double[n];
                _prevEff[i] = new double[n];
                _share[i] = new double[n];
                _term[i] = IsWeighted(layers[i]) ? _scratch.Doubles(i) : [];
            }
            _prevMark = new int[n];
            _prevDist = new int[n];
            _prevMc = new int[n];
            _prevMember = new int[n];
            _upCarry = new bool[n];
            _candCount = new int[n];
            _candEntry = new int[n];
            _memberStart = new int[n];
            _memberCount = new int[n];
            _memberBuf = _scratch.MemberBuf;
            _memoSalt = new int[n * layers.Length];
            _memoColumn = new int[n * layers.Length];
            _memoCount = new int[n * layers.Length];
            _memoGroup = new int[n * layers.Length];
            _memoStamp = new int[n * layers.Length];
            _buckets = new List<int>[g.MaxTier + 2];
            for (var i = 0; i < _buckets.Length; i++) _buckets[i] = [];
        }

        /// <summary>Hands the per-entry scratch arrays back to the graph for the next computation; the workspace is done.</summary>
        public void Release() => _g.ReturnScratch(_scratch);

        /// <param name="plane">Plane id.</param>
        /// <param name="sizeHint">Tables of a plane of similar size (the previous tables of this plane, or another plane), to size the group pool; null for none.</param>
        public PlaneTables ComputePlane(int plane, PlaneTables? sizeHint = null)
        {
            var g = _g;
            var switches = g.PlaneSwitches[plane];
            var dests = g.PlaneDests[plane];
            var dc = dests.Length;
            var entries = new int[_layers.Length][];
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = GC.AllocateUninitializedArray<int>(switches.Length * dc); // filled right below: no need to clear it first
                Array.Fill(entries[i], (int)RouteKind.NoRoute);
            }
            var pool = sizeHint is null ? new GroupPool() : new GroupPool(sizeHint.Groups.Count + sizeHint.Groups.Count / 8, sizeHint.Groups.MemberCount + sizeHint.Groups.MemberCount / 8);
            var fallbackUsed = new byte[dc];
            var reused = new bool[dc];
            var chain = false;           // the previous destination was computed and needed no fallback
            var prevSalt = int.MinValue;
            var dPrev = -1;
            _memoEpoch = plane + 1;
            var salts = new HashSet<int>();
            _memoOn = false;
            for (var di = 0; di < dc && !_memoOn; di++)
            {
                var grp = g.Topology.Switches[dests[di]].Group;
                _memoOn = !salts.Add(grp >= 0 ? grp : di);
            }
            if (_memoOn && _memoEntries is null)
            {
                _memoEntries = new int[_layers.Length][];
                _memoRaw = new long[_layers.Length][];
                for (var i = 0; i < _layers.Length; i++) { _memoEntries[i] = _scratch.Ints(i); _memoRaw[i] = _scratch.Longs(i); }
            }
            for (var di = 0; di < dc; di++)
            {
                var d = dests[di];
                if (!_switchUp[d]) { chain = false; continue; }
                var grp = g.Topology.Switches[d].Group;
                _destSalt = grp >= 0 ? grp : di;
                _column = di;
                SupportDown(d);
                for (var li = 0; li < _layers.Length; li++)
                    if (IsWeighted(_layers[li])) EffectiveDown(d, li);
                var reuse = !DisableReuse && chain && prevSalt == _destSalt && DownRegionUnchanged(d, dPrev) && RouteReused(d, dPrev);
                if (!reuse)
                {
                    SupportUp(plane);
                    for (var li = 0; li < _layers.Length; li++)
                        if (IsWeighted(_layers[li])) EffectiveUp(li);
                    foreach (var x in switches) _upCarry[x] = _stamp[x] == _cur && _phase[x] == PhaseUp;
                }
                if (_fallback.Count > 0) fallbackUsed[di] = 1;
                for (var li = 0; li < _layers.Length; li++)
                {
                    var layer = _layers[li];
                    _layerIndex = li;
                    var ent = entries[li];
                    var weighted = IsWeighted(layer);
                    ent[g.LocalIndex[d] * dc + di] = (int)RouteKind.Local;
                    foreach (var x in _downOrder)
                    {
                        if (x == d) continue;
                        // A one-member group is that member with every bucket in every layer: with the member of the
                        // previous destination it is the previous group, which the row pass copies.
                        if (reuse && _memberCount[x] == 1 && _prevMark[x] == _iter && _prevMember[x] == _memberBuf[_memberStart[x]]) continue;
                        var gid = Group(pool, x, layer, weighted);
                        // In a reused column the row pass copies the previous destination's entry into every entry left
                        // at NoRoute: a group the memo gave for the previous destination too need not be written here
                        // (a column write misses the cache on every switch of a large plane).
                        if (!(reuse && _sameAsPrevious)) ent[g.LocalIndex[x] * dc + di] = gid;
                    }
                    if (reuse)
                    {
                        // Same down region, same states: every other switch keeps the previous destination's group. The
                        // copy is done row by row at the end (a column walk touches a cache line per switch); the entries
                        // written here are never NoRoute, so the ones left at NoRoute are those to copy.
                        reused[di] = true;
                        ent[g.LocalIndex[dPrev] * dc + di] = Group(pool, dPrev, layer, weighted);
                        continue;
                    }
                    foreach (var x in _upOrder) ent[g.LocalIndex[x] * dc + di] = Group(pool, x, layer, weighted);
                    foreach (var x in _fallback) ent[g.LocalIndex[x] * dc + di] = Group(pool, x, layer, weighted: false);
                }
                // Remember the down region's states for the next destination.
                _iter++;
                foreach (var x in _downOrder)
                {
                    _prevMark[x] = _iter;
                    _prevDist[x] = _dist[x];
                    _prevMc[x] = _memberCount[x];
                    _prevMember[x] = _memberCount[x] > 0 ? _memberBuf[_memberStart[x]] : -1;
                    for (var li = 0; li < _layers.Length; li++) _prevEff[li][x] = _eff[li][x];
                }
                _prevDownCount = _downOrder.Count;
                chain = _fallback.Count == 0 && g.DownEnd[d] == g.AdjStart[d];
                prevSalt = _destSalt;
                dPrev = d;
            }
            if (Array.IndexOf(reused, true) >= 0)
                foreach (var ent in entries)
                    for (var row = 0; row < ent.Length; row += dc)
                        for (var di = 1; di < dc; di++)
                            if (reused[di] && ent[row + di] == (int)RouteKind.NoRoute) ent[row + di] = ent[row + di - 1];
            return new PlaneTables(plane, switches, dests, entries, pool, fallbackUsed);
        }

        private static bool IsWeighted(LayerKey layer) => layer.Kind is PathWeighting.Wcmp or PathWeighting.Adaptive or PathWeighting.Residual;

        /// <summary>True when the switches able to route down to d are those that could for dPrev (but d and dPrev), in the same states.</summary>
        private bool DownRegionUnchanged(int d, int dPrev)
        {
            if (_downOrder.Count != _prevDownCount || _prevMark[d] == _iter) return false;
            foreach (var x in _downOrder)
            {
                if (x == d) continue;
                if (_prevMark[x] != _iter || x == dPrev || _prevDist[x] != _dist[x] || _prevMc[x] != _memberCount[x]) return false;
                for (var li = 0; li < _layers.Length; li++)
                    if (_prevEff[li][x] != _eff[li][x]) return false;
            }
            return true;
        }

        /// <summary>
        /// Reuse step: the previous destination becomes an ordinary up-phase switch. Valid only when no switch routes
        /// through d or dPrev (neither has lower neighbours) and dPrev has a route; otherwise a full pass runs.
        /// </summary>
        private bool RouteReused(int d, int dPrev)
        {
            var g = _g;
            if (g.DownEnd[d] != g.AdjStart[d] || g.DownEnd[dPrev] != g.AdjStart[dPrev] || !_switchUp[dPrev]) return false;
            _upOrder.Clear();
            _fallback.Clear();
            var best = int.MaxValue;
            for (var e = g.UpStart[dPrev]; e < g.AdjStart[dPrev + 1]; e++)
            {
                if (!_usable[e]) continue;
                var n = g.Nbr[e];
                if (_stamp[n] == _cur || _upCarry[n]) best = Math.Min(best, _dist[n]);
            }
            if (best == int.MaxValue) return false;
            var start = _memberTop;
            for (var e = g.UpStart[dPrev]; e < g.AdjStart[dPrev + 1]; e++)
            {
                if (!_usable[e]) continue;
                var n = g.Nbr[e];
                if ((_stamp[n] == _cur || _upCarry[n]) && _dist[n] == best) _memberBuf[_memberTop++] = e;
            }
            _dist[dPrev] = best + 1;
            _memberStart[dPrev] = start;
            _memberCount[dPrev] = _memberTop - start;
            for (var li = 0; li < _layers.Length; li++)
                if (IsWeighted(_layers[li])) SetEff(dPrev, li);
            _upCarry[dPrev] = true;
            _upCarry[d] = false;
            return true;
        }

        /// <summary>Which switches route down to d and through which neighbours (layer independent).</summary>
        private void SupportDown(int d)
        {
            var g = _g;
            _cur++;
            var cur = _cur;
            _downOrder.Clear();
            _upOrder.Clear();
            _fallback.Clear();
            foreach (var b in _buckets) b.Clear();
            var memberTop = 0;

            _stamp[d] = cur;
            _phase[d] = PhaseLocal;
            _buckets[g.Tier[d]].Add(d);
            for (var t = g.Tier[d]; t < _buckets.Length; t++)
            {
                var bucket = _buckets[t];
                for (var bi = 0; bi < bucket.Count; bi++)
                {
                    var x = bucket[bi];
                    _downOrder.Add(x);
                    // Members: the lower neighbours on shortest down paths. Every lower neighbour that routes down has
                    // been taken from an earlier bucket and counted itself here; with one such neighbour that is the
                    // member, otherwise scan.
                    _memberStart[x] = memberTop;
                    if (x == d) { _memberCount[x] = 0; _dist[x] = 0; }
                    else if (_candCount[x] == 1)
                    {
                        var c = _candEntry[x];
                        _memberBuf[memberTop++] = c;
                        _dist[x] = _dist[g.Nbr[c]] + 1;
                        _memberCount[x] = 1;
                    }
                    else
                    {
                        var best = int.MaxValue;
                        for (var e = g.AdjStart[x]; e < g.DownEnd[x]; e++)
                        {
                            if (!_usable[e]) continue;
                            var n = g.Nbr[e];
                            if (_stamp[n] != cur || _phase[n] is not (PhaseDown or PhaseLocal)) continue;
                            var dn = _dist[n];
                            if (dn < best) { best = dn; memberTop = _memberStart[x]; }
                            if (dn == best) _memberBuf[memberTop++] = e;
                        }
                        _dist[x] = best + 1;
                        _memberCount[x] = memberTop - _memberStart[x];
                    }
                    for (var e = g.UpStart[x]; e < g.AdjStart[x + 1]; e++)
                    {
                        if (!_usable[e]) continue;
                        var n = g.Nbr[e];
                        if (_stamp[n] == cur) { _candCount[n]++; continue; }
                        _stamp[n] = cur;
                        _phase[n] = PhaseDown;
                        _candCount[n] = 1;
                        _candEntry[n] = g.Rev[e];
                        _buckets[Math.Min(g.Tier[n], _buckets.Length - 1)].Add(n);
                    }
                }
            }
            _memberTop = memberTop;
        }

        /// <summary>Which other switches route up (or, failing that, along the fallback DAG) toward d.</summary>
        private void SupportUp(int plane)
        {
            var g = _g;
            var cur = _cur;
            var memberTop = _memberTop;
            var switches = g.PlaneSwitches[plane];
            foreach (var x in switches)
            {
                if (_stamp[x] == cur || !_switchUp[x]) continue;
                var start = memberTop;
                var best = int.MaxValue;
                for (var e = g.UpStart[x]; e < g.AdjStart[x + 1]; e++)
                {
                    if (!_usable[e]) continue;
                    var n = g.Nbr[e];
                    if (_stamp[n] != cur) continue;
                    var dn = _dist[n];
                    if (dn < best) { best = dn; memberTop = start; }
                    if (dn == best) _memberBuf[memberTop++] = e;
                }
                if (best == int.MaxValue) { _pending.Add(x); continue; }
                _dist[x] = best + 1;
                _stamp[x] = cur;
                _phase[x] = PhaseUp;
                _memberStart[x] = start;
                _memberCount[x] = memberTop - start;
                _upOrder.Add(x);
            }

            if (_pending.Count > 0)
            {
                // BFS rounds from the routed set over the live graph, only through still unrouted switches.
                for (var round = 1; ; round++)
                {
                    var assigned = 0;
                    for (var i = 0; i < _pending.Count; i++)
                    {
                        var x = _pending[i];
                        if (_stamp[x] == cur) continue;
                        var start = memberTop;
                        for (var e = g.AdjStart[x]; e < g.AdjStart[x + 1]; e++)
                        {
                            if (!_usable[e]) continue;
                            var n = g.Nbr[e];
                            if (_stamp[n] != cur) continue;
                            var dist = _phase[n] == PhaseFallback ? _fdist[n] : 0;
                            if (dist == round - 1) _memberBuf[memberTop++] = e;
                        }
                        if (memberTop == start) continue;
                        _stamp[x] = cur;
                        _phase[x] = PhaseFallback;
                        _fdist[x] = round;
                        _dist[x] = int.MaxValue / 2;
                        _memberStart[x] = start;
                        _memberCount[x] = memberTop - start;
                        _fallback.Add(x);
                        assigned++;
                    }
                    if (assigned == 0) break;
                }
                _pending.Clear();
            }
            _memberTop = memberTop;
        }

        /// <summary>eff(x) of layer li for the down-phase switches, from d upward.</summary>
        private void EffectiveDown(int d, int li)
        {
            _eff[li][d] = double.PositiveInfinity;
            _share[li][d] = double.PositiveInfinity / FanIn(d);
            foreach (var x in _downOrder) if (x != d) SetEff(x, li);
        }

        /// <summary>eff(x) of layer li for the up-phase switches, from the top down.</summary>
        private void EffectiveUp(int li)
        {
            foreach (var x in _upOrder) SetEff(x, li);
        }

        /// <summary>
        /// eff(x) = the sum of its members' terms, each min(capacity, eff(n) / fanIn(n)) times the weigher's factor.
        /// The terms are kept for <see cref="Group"/>, and x's share for the switches that route through x; x's phase
        /// and members are final here, and its members' shares were set before (lower tiers, or higher ones, first).
        /// </summary>
        private void SetEff(int x, int li)
        {
            double s = 0;
            var ms = _memberStart[x];
            var mc = _memberCount[x];
            var w = _layers[li].Weigher;
            var share = _share[li];
            var term = _term[li];
            var nbr = _g.Nbr;
            var cap = _capEff;
            var buf = _memberBuf;
            for (var i = 0; i < mc; i++)
            {
                var e = buf[ms + i];
                var t = Math.Min(cap[e], share[nbr[e]]);
                if (w is not null) t *= Math.Clamp(w.Factor(_g.LinkOf[e], _g.AToB[e]), 1e-6, 1.0);
                term[ms + i] = t;
                s += t;
            }
            _eff[li][x] = s;
            share[x] = s / FanIn(x);
        }

        /// <summary>
        /// How many neighbours share n's capacity toward d: for a switch routing down that has live upper neighbours,
        /// those upper neighbours (they bring the traffic of every other pod; the few local senders are ignored); for
        /// a top-tier switch routing down, its other lower neighbours; for a switch routing up, its lower neighbours.
        /// </summary>
        private int FanIn(int n)
        {
            int f;
            if (_phase[n] == PhaseUp) f = _liveDown[n];
            else f = _liveUp[n] > 0 ? _liveUp[n] : _liveDown[n] - _memberCount[n];
            return Math.Max(1, f);
        }

        private int Group(GroupPool pool, int x, LayerKey layer, bool weighted)
        {
            _sameAsPrevious = false;
            var g = _g;
            var m = _memberCount[x];
            var ms = _memberStart[x];
            if (_raw.Length < m)
            {
                _raw = new double[m * 2]; _w = new int[m * 2]; _ports = new int[m * 2];
            }
            var raw = _raw.AsSpan(0, m);
            var ports = _ports.AsSpan(0, m);
            var w = _w.AsSpan(0, m);
            if (layer.Kind == PathWeighting.Pinned && m > layer.Pinned)
            {
                // The K least-loaded members; ties rotate with the destination so pinned flows spread over paths.
                var rot = _destSalt % m;
                raw.Clear();
                // Without loads every member ties at load 0, so the ranks alone pick: members rot, rot+1, ... (mod m),
                // in member order with the buckets of PinnedBuckets; the pool leaves out the unpicked (zero) members anyway.
                if (_loads is null)
                {
                    var k = layer.Pinned;
                    var each = _options.GroupSize / k;
                    var extra = _options.GroupSize - each * k;
                    var n = 0;
                    // Picked indices in increasing order: the wrapped ones (below rot + k - m) first, then rot onward.
                    for (var i = 0; i < rot + k - m; i++) { ports[n] = g.PortOf[_memberBuf[ms + i]]; w[n++] = each + (extra-- > 0 ? 1 : 0); }
                    for (var i = rot; i < Math.Min(m, rot + k); i++) { ports[n] = g.PortOf[_memberBuf[ms + i]]; w[n++] = each + (extra-- > 0 ? 1 : 0); }
                    return pool.Intern(x, ports[..n], w[..n]);
                }
                else
                {
                    for (var i = 0; i < m; i++) ports[i] = g.PortOf[_memberBuf[ms + i]];
                    for (var k = 0; k < layer.Pinned; k++)
                    {
                        var best = -1;
                        var bestLoad = double.MaxValue;
                        var bestRank = int.MaxValue;
                        for (var i = 0; i < m; i++)
                        {
                            if (raw[i] != 0) continue;
                            var e = _memberBuf[ms + i];
                            var load = _loads?.Get(g.LinkOf[e], g.AToB[e]) ?? 0;
                            var rank = (i - rot + m) % m;
                            if (load < bestLoad - 1e-9 || (Math.Abs(load - bestLoad) <= 1e-9 && rank < bestRank)) { best = i; bestLoad = load; bestRank = rank; }
                        }
                        raw[best] = 1;
                    }
                }
                PinnedBuckets(raw, w, _options.GroupSize);
                return pool.Intern(x, ports, w);
            }
            Span<double> src = raw;
            if (weighted) src = _term[_layerIndex].AsSpan(ms, m);
            else raw.Fill(1);
            // Per-switch memo: consecutive destinations of one pod often give the same members and weights. The
            // offset below depends on the salt, so only a call with the same salt can hit; planes whose destinations
            // all have their own salt (two-tier trees) skip it.
            var mi = _layerIndex * _g.SwitchCount + x;
            var members = _memberBuf.AsSpan(ms, m);
            var rawBits = System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(src);
            if (_memoOn && _memoStamp[mi] == _memoEpoch && _memoSalt[mi] == _destSalt && _memoCount[mi] == m)
            {
                var at = g.AdjStart[x];
                if (m == 1 ? members[0] == _memoEntries![_layerIndex][at] && rawBits[0] == _memoRaw![_layerIndex][at]
                    : members.SequenceEqual(_memoEntries![_layerIndex].AsSpan(at, m)) && rawBits.SequenceEqual(_memoRaw![_layerIndex].AsSpan(at, m)))
                {
                    _sameAsPrevious = _memoColumn[mi] == _column - 1;
                    _memoColumn[mi] = _column;
                    return _memoGroup[mi];
                }
            }
            if (weighted) src.CopyTo(raw);
            for (var i = 0; i < m; i++) ports[i] = g.PortOf[_memberBuf[ms + i]];
            // Low-discrepancy offset per (switch, destination group): leftover buckets rotate over the members across
            // groups. Destinations of one pod share an offset so their groups stay identical (fewer distinct groups).
            var offset = _destSalt * 0.6180339887498949 + g.LocalIndex[x] * 0.7548776662466927;
            Round(raw, w, offset);
            var gid = pool.Intern(x, ports, w);
            if (!_memoOn) return gid;
            members.CopyTo(_memoEntries![_layerIndex].AsSpan(g.AdjStart[x], m));
            rawBits.CopyTo(_memoRaw![_layerIndex].AsSpan(g.AdjStart[x], m));
            _memoSalt[mi] = _destSalt;
            _memoCount[mi] = m;
            _memoGroup[mi] = gid;
            _memoStamp[mi] = _memoEpoch;
            _memoColumn[mi] = _column;
            return gid;
        }

        /// <summary>
        /// <see cref="BucketWeights.Normalize"/>, keeping the floors and fractions of the last raw weights: the switches
        /// of one tier mostly see the same raw weights toward a destination and differ only in the offset.
        /// </summary>
        private void Round(Span<double> raw, Span<int> w, double offset)
        {
            var m = raw.Length;
            if (m == 0) return;
            // One member always gets every bucket (its share rounds to the group size or one below, and the leftover goes to it).
            if (m == 1) { w[0] = _options.GroupSize; return; }
            if (_roundRaw.Length < m)
            {
                _roundRaw = new long[m * 2]; _roundFloor = new int[m * 2]; _roundFrac = new double[m * 2];
                _roundCount = -1;
            }
            var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<double, long>(raw);
            if (_roundCount != m || !bits.SequenceEqual(_roundRaw.AsSpan(0, m)))
            {
                _roundGiven = BucketWeights.Floors(raw, _roundFloor.AsSpan(0, m), _roundFrac.AsSpan(0, m), _options.GroupSize);
                bits.CopyTo(_roundRaw);
                _roundCount = m;
            }
            BucketWeights.Finish(_roundFloor.AsSpan(0, m), _roundFrac.AsSpan(0, m), _roundGiven, w, _options.GroupSize, offset);
        }

        private static void PinnedBuckets(ReadOnlySpan<double> raw, Span<int> w, int groupSize)
        {
            var k = 0;
            for (var i = 0; i < raw.Length; i++) if (raw[i] >= 1) k++;
            var each = groupSize / Math.Max(1, k);
            var extra = groupSize - each * k;
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] < 1) { w[i] = 0; continue; }
                w[i] = each + (extra-- > 0 ? 1 : 0);
            }
        }
    }
}
