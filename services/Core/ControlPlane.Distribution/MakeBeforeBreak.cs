using System.Collections.Immutable;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution;

/// <summary>The switch behind a port of a switch, or null when the port faces a host or nothing.</summary>
/// <param name="switchName">Switch.</param>
/// <param name="port">Port, 1-based.</param>
public delegate string? NeighborOf(string switchName, int port);

/// <summary>One push of a rollout: a switch and the table it must install.</summary>
/// <param name="SwitchName">Switch.</param>
/// <param name="Table">Table to install (an intermediate "make" table or the final one).</param>
/// <param name="IsFinal">True when <paramref name="Table"/> has the new table's contents.</param>
public sealed record RolloutStep(string SwitchName, SwitchTable Table, bool IsFinal);

/// <summary>One wave of a rollout: steps that may be pushed together once every earlier wave is acknowledged.</summary>
/// <param name="Index">0-based position.</param>
/// <param name="Steps">Steps, by switch name; one switch appears at most once per wave.</param>
public sealed record RolloutWave(int Index, ImmutableArray<RolloutStep> Steps)
{
    /// <summary>Switch names of the wave.</summary>
    public IEnumerable<string> Switches => Steps.Select(s => s.SwitchName);
}

/// <summary>A make-before-break order of table pushes across switches.</summary>
/// <param name="Waves">Waves in order.</param>
/// <param name="Unchanged">Switches whose tables do not change (nothing to push).</param>
/// <param name="Unordered">Switches caught in a dependency cycle; they are in the last wave and the order cannot guarantee safety for them.</param>
public sealed record RolloutPlan(ImmutableArray<RolloutWave> Waves, ImmutableArray<string> Unchanged, ImmutableArray<string> Unordered)
{
    /// <summary>
    /// Steps that may be pushed now: the steps of the first wave with a step not yet acknowledged (earlier waves are
    /// done), or empty when the rollout is complete.
    /// </summary>
    /// <param name="isAcknowledged">True when a switch acknowledged the given step's table version.</param>
    public IReadOnlyList<RolloutStep> Releasable(Func<RolloutStep, bool> isAcknowledged)
    {
        foreach (var w in Waves)
        {
            if (!w.Steps.All(isAcknowledged)) return w.Steps;
        }
        return [];
    }

    /// <summary>The final table of each changed switch (its version is the new table's, or one more when the switch goes in two steps).</summary>
    public IReadOnlyDictionary<string, SwitchTable> FinalTables() =>
        Waves.SelectMany(w => w.Steps).Where(s => s.IsFinal).ToDictionary(s => s.SwitchName, s => s.Table, StringComparer.Ordinal);
}

/// <summary>
/// Orders table pushes across switches so that every intermediate state forwards without holes.
/// <para>
/// Each changed switch s gets up to two steps. Its MAKE step installs every new or changed route of the new table and
/// keeps the old routes the new table drops (an intermediate table, old groups renumbered if their ids are taken). Its
/// BREAK step removes the dropped routes. A switch that only adds or changes routes has one step (the new table, final
/// at once); a switch that only drops routes has only the break step; a switch that does both goes in two steps, and
/// its final table carries the new table's version + 1 (the make step has the new table's version).
/// </para>
/// <para>
/// Rule, per route key k (destination, class), with oldHops(x,k) / newHops(x,k) the neighbor switches x sends k to in
/// its old / new table:
/// </para>
/// <list type="number">
/// <item><b>Make before use</b>: MAKE(s) waits for MAKE(n) of every n in newHops(s,k) whose route for k changes. A
/// switch that GAINS a next hop is told to use it only after that next hop installed its route for k, so from any
/// switch that runs its new route for k, traffic follows new routes only.</item>
/// <item><b>Break after last use</b>: BREAK(y), which drops k at y, waits for the step that changes k at every x with y
/// in oldHops(x,k) (MAKE(x), or BREAK(x) when x drops k too). A switch that LOSES a route is changed only once
/// nobody sends that traffic to it any more. BREAK(s) also waits for MAKE(s).</item>
/// </list>
/// <para>
/// Waves are the layers of this dependency graph (Kahn's order): a wave holds steps whose dependencies are all in
/// earlier waves, so any subset of the current wave may be acknowledged, in any order. Old and new tables are assumed
/// hole- and loop-free on their own. MAKE steps depend only on MAKE steps and BREAK steps never have successors other
/// than BREAK steps of downstream switches in the old routes, so a cycle needs new routes for different keys pointing
/// at each other's changing switches; steps caught in one go into a last wave and are reported in
/// <see cref="RolloutPlan.Unordered"/>.
/// </para>
/// </summary>
public static class MakeBeforeBreak
{
    /// <summary>Orders the pushes that turn <paramref name="oldTables"/> into <paramref name="newTables"/>.</summary>
    /// <param name="oldTables">Installed tables by switch name (a switch missing here holds nothing).</param>
    /// <param name="newTables">Desired tables by switch name.</param>
    /// <param name="neighbor">Port-to-neighbor map of the fabric.</param>
    public static RolloutPlan Order(IReadOnlyDictionary<string, SwitchTable> oldTables, IReadOnlyDictionary<string, SwitchTable> newTables, NeighborOf neighbor)
    {
        ArgumentNullException.ThrowIfNull(oldTables);
        ArgumentNullException.ThrowIfNull(newTables);
        ArgumentNullException.ThrowIfNull(neighbor);
        var changed = new List<string>();
        var unchanged = new List<string>();
        foreach (var (name, t) in newTables)
        {
            // Equal digests mean equal contents (SHA-256 of the canonical encoding), and tables carry theirs once computed.
            if (oldTables.TryGetValue(name, out var o) && o.Digest.SequenceEqual(t.Digest)) unchanged.Add(name);
            else changed.Add(name);
        }
        changed.Sort(StringComparer.Ordinal);

        // Switch names become small ints for the duration of the call: hop sets are int arrays and neighbors are resolved
        // once per (switch, port), so the graph below is built without hashing strings or calling the delegate per route.
        var g = new Graph(neighbor);

        var newOf = new SwitchTable[changed.Count];
        for (var i = 0; i < changed.Count; i++) newOf[i] = newTables[changed[i]];

        // The changed switches that send to each switch in their new tables (any member, weighted or not).
        var upstream = new Dictionary<int, List<int>>(changed.Count * 2);
        for (var i = 0; i < changed.Count; i++)
        {
            var sid = g.Id(changed[i]);
            foreach (var grp in newOf[i].Groups.Values)
            {
                foreach (var m in grp.Members)
                {
                    var c = g.Neighbor(sid, changed[i], m.Port);
                    if (c < 0) continue;
                    if (!upstream.TryGetValue(c, out var u)) upstream[c] = u = new List<int>(16);
                    if (u.Count == 0 || u[^1] != i) u.Add(i);
                }
            }
        }

        // One merge of the old and new routes of each changed switch c (both sorted by key) gives the keys it drops (its
        // BREAK step) and the keys that change there. Make before use: a changed s that sends a key changing at c to c
        // (in its new table) waits for c's make step; the pairs are found during the merge (each pair at its first such
        // key), and become edges once the steps are known. Group member sets are compared once per (old group, new group).
        var makePairs = new List<(int C, int S)>();
        var waiting = new List<int>();
        var drops = new List<RouteKey>?[changed.Count];
        var differ = new Dictionary<long, bool>(256);
        for (var i = 0; i < changed.Count; i++)
        {
            var x = changed[i];
            var n = newOf[i];
            var o = oldTables.GetValueOrDefault(x);
            var cid = g.Id(x);
            waiting.Clear();
            if (upstream.TryGetValue(cid, out var ups))
            {
                foreach (var si in ups)
                {
                    if (si != i) waiting.Add(si);
                }
            }
            void Changes(RouteKey k)
            {
                for (var j = waiting.Count - 1; j >= 0; j--)
                {
                    if (!g.Hops(newOf[waiting[j]], k).AsSpan().Contains(cid)) continue;
                    makePairs.Add((i, waiting[j]));
                    waiting[j] = waiting[^1];
                    waiting.RemoveAt(waiting.Count - 1);
                }
            }
            if (o is null)
            {
                for (var j = 0; j < n.Routes.Count && waiting.Count > 0; j++) Changes(n.Routes.KeyAt(j));
                continue;
            }
            differ.Clear();
            // Neighboring keys (classes of one destination) mostly share their groups: the last pair is checked first.
            var (lastO, lastN, lastDiffers) = (-1, -1, false);
            var (ro, rn) = (o.Routes, n.Routes);
            int a = 0, b = 0;
            while (a < ro.Count || b < rn.Count)
            {
                var cmp = a == ro.Count ? 1 : b == rn.Count ? -1 : ro.KeyAt(a).CompareTo(rn.KeyAt(b));
                if (cmp < 0)
                {
                    if (waiting.Count > 0) Changes(ro.KeyAt(a)); // dropped
                    (drops[i] ??= []).Add(ro.KeyAt(a));
                    a++;
                }
                else if (cmp > 0)
                {
                    if (waiting.Count > 0) Changes(rn.KeyAt(b)); // added
                    b++;
                }
                else
                {
                    // Whether the route changes matters only while some upstream switch is still waiting for a pair.
                    if (waiting.Count > 0)
                    {
                        var (eo, en) = (ro.ValueAt(a), rn.ValueAt(b));
                        bool differs;
                        if (eo.Mode != en.Mode || (eo.GroupId == SwitchTable.LocalGroup) != (en.GroupId == SwitchTable.LocalGroup)) differs = true;
                        else if (en.GroupId == SwitchTable.LocalGroup) differs = false;
                        else if (eo.GroupId == lastO && en.GroupId == lastN) differs = lastDiffers;
                        else
                        {
                            if (!differ.TryGetValue(((long)eo.GroupId << 32) | (uint)en.GroupId, out differs))
                                differ[((long)eo.GroupId << 32) | (uint)en.GroupId] = differs = !o.Groups[eo.GroupId].SameMembers(n.Groups[en.GroupId]);
                            (lastO, lastN, lastDiffers) = (eo.GroupId, en.GroupId, differs);
                        }
                        if (differs) Changes(rn.KeyAt(b));
                    }
                    a++;
                    b++;
                }
            }
        }

        // Steps: (switch, false) = MAKE, (switch, true) = BREAK; per changed switch, its index in the step list or -1.
        var steps = new List<RolloutStep>();
        var makeOf = new int[changed.Count];
        var breakOf = new int[changed.Count];
        for (var i = 0; i < changed.Count; i++)
        {
            var s = changed[i];
            var n = newOf[i];
            makeOf[i] = breakOf[i] = -1;
            if (drops[i] is not { } dropped)
            {
                makeOf[i] = steps.Count;
                steps.Add(new RolloutStep(s, n, true));
                continue;
            }
            var o = oldTables[s];
            var make = MakeTable(o, n, dropped);
            var keepsOld = make.SameContents(o);
            if (!keepsOld)
            {
                makeOf[i] = steps.Count;
                steps.Add(new RolloutStep(s, make, false));
            }
            breakOf[i] = steps.Count;
            steps.Add(new RolloutStep(s, keepsOld ? n : n.WithVersion(n.Version + 1), true));
        }

        var after = new List<int>?[steps.Count];
        var indegree = new int[steps.Count];
        var edges = new HashSet<long>(steps.Count * 8);
        void Edge(int first, int then)
        {
            if (first < 0 || then < 0 || first == then) return;
            if (!edges.Add(((long)first << 32) | (uint)then)) return;
            (after[first] ??= []).Add(then);
            indegree[then]++;
        }
        for (var i = 0; i < changed.Count; i++) Edge(makeOf[i], breakOf[i]);
        foreach (var (c, sw) in makePairs) Edge(makeOf[c], makeOf[sw]);


        // Break after last use: c drops k only after everyone that sent k to c (in its old table) has changed k. Droppers
        // are grouped by key so each old table is searched once per dropped key.
        var droppers = new Dictionary<RouteKey, List<int>>();
        for (var i = 0; i < changed.Count; i++)
        {
            if (drops[i] is not { } dropped) continue;
            foreach (var k in dropped)
            {
                if (!droppers.TryGetValue(k, out var l)) droppers[k] = l = [];
                l.Add(i);
            }
        }
        if (droppers.Count > 0)
        {
            // Only changed switches have steps to wait for, so only their old tables can add an edge.
            for (var xi = 0; xi < changed.Count; xi++)
            {
                if (!oldTables.TryGetValue(changed[xi], out var xt)) continue;
                var xn = newTables[changed[xi]];
                foreach (var (k, cs) in droppers)
                {
                    var first = xn.Routes.ContainsKey(k) ? makeOf[xi] : breakOf[xi];
                    if (first < 0) continue;
                    var hops = g.Hops(xt, k);
                    if (hops.Length == 0) continue;
                    foreach (var ci in cs)
                    {
                        if (ci != xi && hops.AsSpan().Contains(g.Id(changed[ci]))) Edge(first, breakOf[ci]);
                    }
                }
            }
        }

        // Waves: Kahn's layers, each sorted by switch name (a switch has at most one step per layer: its break waits for its make).
        var waves = new List<RolloutWave>();
        var done = 0;
        var ready = new List<int>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (indegree[i] == 0) ready.Add(i);
        }
        while (ready.Count > 0)
        {
            ready.Sort((p, q) => string.CompareOrdinal(steps[p].SwitchName, steps[q].SwitchName));
            waves.Add(new RolloutWave(waves.Count, [.. ready.Select(i => steps[i])]));
            done += ready.Count;
            var next = new List<int>();
            foreach (var s in ready)
            {
                if (after[s] is not { } outs) continue;
                foreach (var t in outs)
                {
                    if (--indegree[t] == 0) next.Add(t);
                }
            }
            ready = next;
        }
        var cyclic = new List<int>();
        if (done < steps.Count)
        {
            for (var i = 0; i < steps.Count; i++)
            {
                if (indegree[i] > 0) cyclic.Add(i);
            }
            // Step indices already run by switch name, make before break.
            waves.Add(new RolloutWave(waves.Count, [.. cyclic.Select(i => steps[i])]));
        }
        unchanged.Sort(StringComparer.Ordinal);
        return new RolloutPlan([.. waves], [.. unchanged], [.. cyclic.Select(i => steps[i].SwitchName).Distinct()]);
    }

    // Interned switch names, their neighbors by port and the neighbor sets of (table, group), for one Order call.
    private sealed class Graph(NeighborOf neighbor)
    {
        private readonly Dictionary<string, int> _ids = new(256, StringComparer.Ordinal);
        private readonly List<int[]> _ports = new(256); // per id: neighbor id by port, -1 none, -2 not asked yet
        private readonly Dictionary<(SwitchTable, int), int[]> _hops = new(1024, new TableGroupComparer());
        private readonly List<int> _scratch = [];

        public int Id(string name)
        {
            if (!_ids.TryGetValue(name, out var id))
            {
                _ids[name] = id = _ids.Count;
                _ports.Add([]);
            }
            return id;
        }

        public int Neighbor(int id, string name, int port)
        {
            var p = _ports[id];
            if (port < 0) return Resolve(name, port);
            if (port >= p.Length)
            {
                var grown = new int[Math.Max(port + 1, p.Length * 2)];
                Array.Fill(grown, -2);
                p.CopyTo(grown, 0);
                _ports[id] = p = grown;
            }
            if (p[port] == -2) p[port] = Resolve(name, port);
            return p[port];
        }

        private int Resolve(string name, int port) => neighbor(name, port) is { } n ? Id(n) : -1;

        // Neighbors the table sends k to (members with weight), empty when the route is missing or local.
        public int[] Hops(SwitchTable t, RouteKey k)
        {
            if (!t.Routes.TryGetValue(k, out var r) || r.GroupId == SwitchTable.LocalGroup) return [];
            if (_hops.TryGetValue((t, r.GroupId), out var h)) return h;
            var list = _scratch;
            list.Clear();
            var id = Id(t.SwitchName);
            if (t.Groups.TryGetValue(r.GroupId, out var grp))
            {
                foreach (var m in grp.Members)
                {
                    if (m.Weight > 0 && Neighbor(id, t.SwitchName, m.Port) is var n and >= 0) list.Add(n);
                }
            }
            return _hops[(t, r.GroupId)] = [.. list];
        }
    }

    private sealed class TableGroupComparer : IEqualityComparer<(SwitchTable, int)>
    {
        public bool Equals((SwitchTable, int) x, (SwitchTable, int) y) => ReferenceEquals(x.Item1, y.Item1) && x.Item2 == y.Item2;

        public int GetHashCode((SwitchTable, int) obj) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), obj.Item2);
    }

    // The new table plus the old routes it drops; old groups those need are kept, renumbered when a new group took the id.
    internal static SwitchTable MakeTable(SwitchTable old, SwitchTable @new, IReadOnlyList<RouteKey> dropped)
    {
        var groups = new Dictionary<int, NextHopGroup>(@new.Groups);
        var routes = new Dictionary<RouteKey, RouteEntry>(@new.Routes);
        var nextId = Math.Max(groups.Count == 0 ? 0 : groups.Keys.Max(), old.Groups.Count == 0 ? 0 : old.Groups.Keys.Max()) + 1;
        var moved = new Dictionary<int, int>();
        foreach (var k in dropped)
        {
            var r = old.Routes[k];
            if (r.GroupId != SwitchTable.LocalGroup)
            {
                if (!moved.TryGetValue(r.GroupId, out var id))
                {
                    var g = old.Groups[r.GroupId];
                    var same = groups.Values.FirstOrDefault(x => x.SameMembers(g));
                    id = same?.Id ?? (groups.ContainsKey(g.Id) ? nextId++ : g.Id);
                    if (same is null) groups[id] = g.WithId(id);
                    moved[r.GroupId] = id;
                }
                r = r with { GroupId = id };
            }
            routes[k] = r;
        }
        return new SwitchTable(@new.SwitchName, @new.Version, @new.GroupSize, groups.Values, routes);
    }

    /// <summary>The port-to-neighbor map of a fabric topology (host-facing and free ports give null).</summary>
    public static NeighborOf Neighbors(FabricTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        // Each switch's ports are resolved on first use and kept (the topology is immutable): orders and walks ask for
        // the same ports over and over.
        var rows = new string?[]?[topology.Switches.Count];
        return (name, port) =>
        {
            var id = topology.FindSwitch(name);
            if (id < 0) return null;
            var row = Volatile.Read(ref rows[id]);
            if (row is null)
            {
                row = new string?[topology.Switches[id].Radix];
                for (var p = 1; p <= row.Length; p++)
                {
                    var link = topology.LinkAtSwitchPort(id, p);
                    if (link < 0) continue;
                    var end = topology.Opposite(link, id);
                    row[p - 1] = end.IsHost ? null : topology.Switches[end.Device].Name;
                }
                Volatile.Write(ref rows[id], row);
            }
            return port >= 1 && port <= row.Length ? row[port - 1] : null;
        };
    }
}

/// <summary>What a walk of the installed tables found.</summary>
public enum ForwardingProblemKind
{
    /// <summary>A switch on the way has no route for the key.</summary>
    Hole,

    /// <summary>The walk came back to a switch it already passed.</summary>
    Loop,

    /// <summary>A route points to a port with no switch behind it (and the switch is not the destination).</summary>
    DeadEnd,

    /// <summary>A switch delivers locally but is not the destination.</summary>
    WrongDelivery,
}

/// <summary>A forwarding problem with the path that shows it.</summary>
/// <param name="Kind">Kind.</param>
/// <param name="Key">Route key.</param>
/// <param name="Path">Switches from the source to where it went wrong.</param>
public sealed record ForwardingProblem(ForwardingProblemKind Kind, RouteKey Key, ImmutableArray<string> Path)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind} for {Key}: {string.Join(" -> ", Path)}";
}

/// <summary>Follows installed tables hop by hop over every member of every group (all paths), to check a fabric state.</summary>
public static class ForwardingCheck
{
    /// <summary>
    /// First problem on any path from <paramref name="source"/> for <paramref name="key"/>, or null when every path
    /// reaches the switch named <see cref="RouteKey.Destination"/> and delivers there.
    /// </summary>
    public static ForwardingProblem? Walk(IReadOnlyDictionary<string, SwitchTable> installed, NeighborOf neighbor, string source, RouteKey key) =>
        Walk(installed, neighbor, source, key, null);

    /// <summary>
    /// As <see cref="Walk(IReadOnlyDictionary{string, SwitchTable}, NeighborOf, string, RouteKey)"/>, on a fabric with
    /// failed elements: members whose port <paramref name="usable"/> says is dead are skipped, as an ASIC's fast failover
    /// does, so a table that still lists a member on a link that just failed is not reported; a group left with no
    /// usable member is a hole (traffic is lost there).
    /// </summary>
    public static ForwardingProblem? Walk(IReadOnlyDictionary<string, SwitchTable> installed, NeighborOf neighbor, string source, RouteKey key, Func<string, int, bool>? usable)
    {
        var stack = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal); // switches whose every path is fine
        ForwardingProblem? Visit(string s)
        {
            if (done.Contains(s)) return null;
            if (stack.Contains(s)) return new(ForwardingProblemKind.Loop, key, [.. stack, s]);
            stack.Add(s);
            try
            {
                if (!installed.TryGetValue(s, out var t) || !t.Routes.TryGetValue(key, out var r) ||
                    (r.GroupId != SwitchTable.LocalGroup && !t.Groups.ContainsKey(r.GroupId)))
                    return new(ForwardingProblemKind.Hole, key, [.. stack]);
                if (r.GroupId == SwitchTable.LocalGroup)
                    return s == key.Destination ? null : new(ForwardingProblemKind.WrongDelivery, key, [.. stack]);
                var live = 0;
                foreach (var port in t.PortsOf(key))
                {
                    if (usable is not null && !usable(s, port)) continue;
                    live++;
                    var n = neighbor(s, port);
                    if (n is null) return new(ForwardingProblemKind.DeadEnd, key, [.. stack]);
                    if (Visit(n) is { } p) return p;
                }
                if (live == 0) return new(ForwardingProblemKind.Hole, key, [.. stack]);
                done.Add(s);
                return null;
            }
            finally
            {
                stack.RemoveAt(stack.Count - 1);
            }
        }
        return Visit(source);
    }
}
