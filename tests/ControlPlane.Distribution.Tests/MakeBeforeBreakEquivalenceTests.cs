using ControlPlane.Distribution;
using ControlPlane.Fabric;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

/// <summary>
/// The make-before-break order as first written (a graph keyed by switch names, every old table scanned per dropped key),
/// kept as the reference the faster <see cref="MakeBeforeBreak.Order"/> must match step for step.
/// </summary>
internal static class MakeBeforeBreakReference
{
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
            var make = MakeBeforeBreak.MakeTable(o!, n, dropped); // the make table itself is not what changed: shared
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

}

public sealed class MakeBeforeBreakEquivalenceTests
{
    private static void AssertSamePlan(RolloutPlan expected, RolloutPlan actual)
    {
        Assert.Equal(expected.Unchanged.ToArray(), actual.Unchanged.ToArray());
        Assert.Equal(expected.Unordered.ToArray(), actual.Unordered.ToArray());
        Assert.Equal(expected.Waves.Length, actual.Waves.Length);
        for (var w = 0; w < expected.Waves.Length; w++)
        {
            Assert.Equal(expected.Waves[w].Index, actual.Waves[w].Index);
            var (e, a) = (expected.Waves[w].Steps, actual.Waves[w].Steps);
            Assert.Equal(e.Select(s => (s.SwitchName, s.IsFinal, s.Table.Version)), a.Select(s => (s.SwitchName, s.IsFinal, s.Table.Version)));
            for (var i = 0; i < e.Length; i++) Assert.True(e[i].Table.Equals(a[i].Table), $"wave {w}, {e[i].SwitchName}: {e[i].Table} vs {a[i].Table}");
        }
    }

    [Property(MaxTest = 40)]
    public void Order_equals_the_reference_on_tree_drains_and_restores(int seed)
    {
        var rng = new Random(seed);
        var t = TreeTables.Ft2(rng.Next(2) == 0 ? 4 : 6);
        var nb = MakeBeforeBreak.Neighbors(t);
        var links = TreeTables.SwitchLinks(t).Select(l => l.Id).ToList();
        HashSet<int> Some() => [.. Enumerable.Range(0, rng.Next(0, 3)).Select(_ => links[rng.Next(links.Count)])];
        var a = TreeTables.Compute(t, Some(), 1);
        var b = TreeTables.Compute(t, Some(), 2);
        // Partial targets too: only some switches change, as in a rollout of a routing delta.
        var partial = b.Where(_ => rng.Next(3) > 0).ToDictionary();
        AssertSamePlan(MakeBeforeBreakReference.Order(a, b, nb), MakeBeforeBreak.Order(a, b, nb));
        AssertSamePlan(MakeBeforeBreakReference.Order(b, a, nb), MakeBeforeBreak.Order(b, a, nb));
        AssertSamePlan(MakeBeforeBreakReference.Order(a, partial, nb), MakeBeforeBreak.Order(a, partial, nb));
    }

    [Property(MaxTest = 150)]
    public void Order_equals_the_reference_on_random_tables(int seed)
    {
        // Arbitrary tables over a real neighbor map: dependency cycles, local routes, switches with no old table,
        // ports with no switch behind them, groups renumbered by make tables.
        var rng = new Random(seed);
        var t = TreeTables.Ft2(4);
        var nb = MakeBeforeBreak.Neighbors(t);
        var oldT = new Dictionary<string, SwitchTable>();
        var newT = new Dictionary<string, SwitchTable>();
        foreach (var s in t.Switches)
        {
            var radix = s.Radix + 1; // one port past the last: no neighbor there
            var o = Tables.Random(rng, s.Name, 1, radix, 8);
            if (rng.Next(5) > 0) oldT[s.Name] = o;
            if (rng.Next(4) == 0) continue;
            newT[s.Name] = rng.Next(4) switch
            {
                0 => o.WithVersion(2),
                1 => Tables.Random(rng, s.Name, 2, radix, 8),
                _ => Tables.Mutate(o, rng, 2, radix),
            };
        }
        AssertSamePlan(MakeBeforeBreakReference.Order(oldT, newT, nb), MakeBeforeBreak.Order(oldT, newT, nb));
    }
}
