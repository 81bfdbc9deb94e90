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
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        var unchanged = new List<string>();
        foreach (var (name, t) in newTables)
        {
            // Equal digests mean equal contents (SHA-256 of the canonical encoding), and tables carry theirs once computed.
            if (oldTables.TryGetValue(name, out var o) && o.Digest.SequenceEqual(t.Digest)) unchanged.Add(name);
            else changed.Add(name);
        }

        // Steps: (switch, false) = MAKE, (switch, true) = BREAK.
        var steps = new Dictionary<(string, bool), RolloutStep>();
        foreach (var s in changed)
        {
            var n = newTables[s];
            var o = oldTables.GetValueOrDefault(s);
            var dropped = o is null ? [] : o.Routes.Keys.Where(k => !n.Routes.ContainsKey(k)).ToList();
            if (dropped.Count == 0)
            {
                steps[(s, false)] = new RolloutStep(s, n, true);
                continue;
            }
            var make = MakeTable(o!, n, dropped);
            if (!make.SameContents(o!))
            {
                steps[(s, false)] = new RolloutStep(s, make, false);
                steps[(s, true)] = new RolloutStep(s, n.WithVersion(n.Version + 1), true);
            }
            else
            {
                steps[(s, true)] = new RolloutStep(s, n, true);
            }
        }

        // Routes share groups, so neighbor sets are computed once per (table, group).
        var hopCache = new Dictionary<(SwitchTable, int), HashSet<string>>(new TableGroupComparer());
        HashSet<string> Hops(SwitchTable? t, RouteKey k)
        {
            if (t is null || !t.Routes.TryGetValue(k, out var r) || r.GroupId == SwitchTable.LocalGroup) return [];
            if (!hopCache.TryGetValue((t, r.GroupId), out var h))
                hopCache[(t, r.GroupId)] = h = t.PortsOf(k).Select(p => neighbor(t.SwitchName, p)).OfType<string>().ToHashSet(StringComparer.Ordinal);
            return h;
        }

        var after = steps.Keys.ToDictionary(k => k, _ => new HashSet<(string, bool)>());
        var indegree = steps.Keys.ToDictionary(k => k, _ => 0);
        void Edge((string, bool) first, (string, bool) then)
        {
            if (first == then || !steps.ContainsKey(first) || !steps.ContainsKey(then)) return;
            if (after[first].Add(then)) indegree[then]++;
        }
        foreach (var s in changed) Edge((s, false), (s, true));

        // Only keys that change somewhere create dependencies, and only at the switches that send to where they change:
        // index both instead of scanning every key at every switch.
        var upstream = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var s in changed)
        {
            foreach (var g in newTables[s].Groups.Values)
            {
                foreach (var m in g.Members)
                {
                    if (neighbor(s, m.Port) is not { } c) continue;
                    if (!upstream.TryGetValue(c, out var u)) upstream[c] = u = new HashSet<string>(StringComparer.Ordinal);
                    u.Add(s);
                }
            }
        }
        // Keys that change at each changed switch: one merge of the old and new routes (both sorted by key) instead of a
        // tree lookup per key; group member sets are compared once per (old group, new group) pair.
        var changesAt = new Dictionary<RouteKey, List<string>>();
        void At(RouteKey k, string x)
        {
            if (!changesAt.TryGetValue(k, out var l)) changesAt[k] = l = [];
            l.Add(x);
        }
        foreach (var x in changed)
        {
            var n = newTables[x];
            var o = oldTables.GetValueOrDefault(x);
            if (o is null)
            {
                foreach (var k in n.Routes.Keys) At(k, x);
                continue;
            }
            var differ = new Dictionary<(int, int), bool>();
            using var eo = o.Routes.GetEnumerator();
            using var en = n.Routes.GetEnumerator();
            bool ho = eo.MoveNext(), hn = en.MoveNext();
            while (ho || hn)
            {
                var cmp = !ho ? 1 : !hn ? -1 : eo.Current.Key.CompareTo(en.Current.Key);
                if (cmp < 0)
                {
                    At(eo.Current.Key, x); // dropped
                    ho = eo.MoveNext();
                }
                else if (cmp > 0)
                {
                    At(en.Current.Key, x); // added
                    hn = en.MoveNext();
                }
                else
                {
                    var (ro, rn) = (eo.Current.Value, en.Current.Value);
                    bool differs;
                    if (ro.Mode != rn.Mode || (ro.GroupId == SwitchTable.LocalGroup) != (rn.GroupId == SwitchTable.LocalGroup)) differs = true;
                    else if (rn.GroupId == SwitchTable.LocalGroup) differs = false;
                    else if (!differ.TryGetValue((ro.GroupId, rn.GroupId), out differs))
                        differ[(ro.GroupId, rn.GroupId)] = differs = !o.Groups[ro.GroupId].SameMembers(n.Groups[rn.GroupId]);
                    if (differs) At(en.Current.Key, x);
                    ho = eo.MoveNext();
                    hn = en.MoveNext();
                }
            }
        }
        foreach (var (k, at) in changesAt)
        {
            foreach (var c in at)
            {
                // make before use: whoever will send k to c waits for c's make step
                if (upstream.TryGetValue(c, out var ups))
                {
                    foreach (var s in ups)
                    {
                        if (Hops(newTables[s], k).Contains(c)) Edge((c, false), (s, false));
                    }
                }
                // break after last use: c drops k only after everyone that sent k to c has changed k
                if (!newTables[c].Routes.ContainsKey(k) && oldTables.TryGetValue(c, out var oc) && oc.Routes.ContainsKey(k))
                {
                    foreach (var (x, xt) in oldTables)
                    {
                        if (x == c || !Hops(xt, k).Contains(c)) continue;
                        var xDrops = newTables.TryGetValue(x, out var xn) && !xn.Routes.ContainsKey(k);
                        Edge((x, xDrops), (c, true));
                    }
                }
            }
        }

        var waves = new List<RolloutWave>();
        var ready = steps.Keys.Where(k => indegree[k] == 0).ToList();
        while (ready.Count > 0)
        {
            ready.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
            waves.Add(new RolloutWave(waves.Count, [.. ready.Select(k => steps[k])]));
            var next = new List<(string, bool)>();
            foreach (var s in ready)
            {
                foreach (var t in after[s])
                {
                    if (--indegree[t] == 0) next.Add(t);
                }
            }
            ready = next;
        }
        var cyclic = steps.Keys.Where(k => indegree[k] > 0).OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2).ToList();
        if (cyclic.Count > 0) waves.Add(new RolloutWave(waves.Count, [.. cyclic.Select(k => steps[k])]));
        unchanged.Sort(StringComparer.Ordinal);
        return new RolloutPlan([.. waves], [.. unchanged], [.. cyclic.Select(k => k.Item1).Distinct()]);
    }

    private sealed class TableGroupComparer : IEqualityComparer<(SwitchTable, int)>
    {
        public bool Equals((SwitchTable, int) x, (SwitchTable, int) y) => ReferenceEquals(x.Item1, y.Item1) && x.Item2 == y.Item2;

        public int GetHashCode((SwitchTable, int) obj) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), obj.Item2);
    }

    // The new table plus the old routes it drops; old groups those need are kept, renumbered when a new group took the id.
    private static SwitchTable MakeTable(SwitchTable old, SwitchTable @new, IReadOnlyList<RouteKey> dropped)
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
        return (name, port) =>
        {
            var id = topology.FindSwitch(name);
            if (id < 0) return null;
            var link = topology.LinkAtSwitchPort(id, port);
            if (link < 0) return null;
            var end = topology.Opposite(link, id);
            return end.IsHost ? null : topology.Switches[end.Device].Name;
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
