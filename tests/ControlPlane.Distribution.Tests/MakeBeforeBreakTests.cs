using ControlPlane.Distribution;
using ControlPlane.Fabric;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class MakeBeforeBreakTests
{
    private static List<ForwardingProblem> Problems(FabricTopology t, IReadOnlyDictionary<string, SwitchTable> installed, NeighborOf nb)
    {
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Name).ToList();
        var found = new List<ForwardingProblem>();
        foreach (var src in leaves)
            foreach (var dst in leaves)
                foreach (var c in TreeTables.Classes)
                    if (ForwardingCheck.Walk(installed, nb, src, new RouteKey(dst, c)) is { } p) found.Add(p);
        return found;
    }

    /// <summary>Checks every intermediate state of the rollout: after each wave, and any subset of the current wave acknowledged.</summary>
    private static void AssertSafeRollout(FabricTopology t, Dictionary<string, SwitchTable> oldT, Dictionary<string, SwitchTable> newT, Random rng)
    {
        var nb = MakeBeforeBreak.Neighbors(t);
        Assert.Empty(Problems(t, oldT, nb));
        Assert.True(Problems(t, newT, nb).Count == 0, string.Join("; ", Problems(t, newT, nb).Take(3)));
        var plan = MakeBeforeBreak.Order(oldT, newT, nb);
        Assert.Empty(plan.Unordered);
        Assert.Equal(newT.Count, plan.Waves.SelectMany(w => w.Switches).Distinct().Count() + plan.Unchanged.Length);
        var state = new Dictionary<string, SwitchTable>(oldT);
        foreach (var wave in plan.Waves)
        {
            var n = wave.Steps.Length;
            IEnumerable<int> masks = n <= 8 ? Enumerable.Range(0, 1 << n) : Enumerable.Range(0, 48).Select(_ => rng.Next());
            foreach (var mask in masks)
            {
                var partial = new Dictionary<string, SwitchTable>(state);
                for (var i = 0; i < n; i++)
                    if ((mask >> (i % 31) & 1) == 1 || (n > 8 && rng.Next(2) == 0)) partial[wave.Steps[i].SwitchName] = wave.Steps[i].Table;
                var problems = Problems(t, partial, nb);
                Assert.True(problems.Count == 0, $"wave {wave.Index}, mask {mask}: {string.Join("; ", problems.Take(3))}");
            }
            foreach (var s in wave.Steps) state[s.SwitchName] = s.Table;
        }
        Assert.All(newT, kv => Assert.True(state[kv.Key].SameContents(kv.Value)));
        Assert.All(plan.FinalTables(), kv => Assert.True(kv.Value.SameContents(newT[kv.Key])));
    }

    [Property(MaxTest = 30)]
    [Trait("Category", "Slow")]
    public void Drain_and_restore_of_random_links_are_safe_at_every_step(int seed)
    {
        var rng = new Random(seed);
        var t = TreeTables.Ft2(rng.Next(2) == 0 ? 4 : 6);
        var links = TreeTables.SwitchLinks(t).Select(l => l.Id).ToList();
        var a = new HashSet<int> { links[rng.Next(links.Count)] };
        var b = new HashSet<int> { links[rng.Next(links.Count)] };
        var up = TreeTables.Compute(t, new HashSet<int>(), 1);
        var failedA = TreeTables.Compute(t, a, 2);
        var failedB = TreeTables.Compute(t, b, 3);
        AssertSafeRollout(t, up, failedA, rng);       // drain (planned failure)
        AssertSafeRollout(t, failedA, up, rng);       // restore
        AssertSafeRollout(t, failedA, failedB, rng);  // one link back, another out
    }

    [Fact]
    public void Drain_updates_leaves_before_the_spine_that_loses_the_route()
    {
        var t = TreeTables.Ft2(4);
        var link = TreeTables.SwitchLinks(t).First();
        var spine = t.Switches[link.B.Device].Name;
        var oldT = TreeTables.Compute(t, new HashSet<int>(), 1);
        var newT = TreeTables.Compute(t, new HashSet<int> { link.Id }, 2);
        var plan = MakeBeforeBreak.Order(oldT, newT, MakeBeforeBreak.Neighbors(t));
        Assert.Equal(2, plan.Waves.Length);
        var last = Assert.Single(plan.Waves[1].Steps);
        Assert.Equal(spine, last.SwitchName);
        Assert.True(last.IsFinal);
        // The spine may renumber its groups in a make step first (TreeTables numbers groups in order), never drop the route there.
        Assert.All(plan.Waves[0].Steps.Where(x => x.SwitchName == spine), x => Assert.False(x.IsFinal));
        Assert.All(plan.Waves[0].Steps.Where(x => x.SwitchName == spine), x => Assert.Equal(oldT[spine].Routes.Keys.ToArray(), x.Table.Routes.Keys.ToArray()));

        // Negative control: the spine first (break before make) leaves a hole, and the checker sees it.
        var nb = MakeBeforeBreak.Neighbors(t);
        var wrong = new Dictionary<string, SwitchTable>(oldT) { [spine] = newT[spine] };
        var problems = Problems(t, wrong, nb);
        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.Equal(ForwardingProblemKind.Hole, p.Kind));
    }

    [Fact]
    public void Restore_updates_the_spine_that_gains_the_route_before_the_leaves_that_use_it()
    {
        var t = TreeTables.Ft2(4);
        var link = TreeTables.SwitchLinks(t).First();
        var spine = t.Switches[link.B.Device].Name;
        var oldT = TreeTables.Compute(t, new HashSet<int> { link.Id }, 1);
        var newT = TreeTables.Compute(t, new HashSet<int>(), 2);
        var plan = MakeBeforeBreak.Order(oldT, newT, MakeBeforeBreak.Neighbors(t));
        Assert.Contains(spine, plan.Waves[0].Switches);
        Assert.True(plan.Waves.Length >= 2);
        var acked = new HashSet<RolloutStep>();
        Assert.Equal(plan.Waves[0].Steps, plan.Releasable(acked.Contains));
        foreach (var s in plan.Waves[0].Steps) acked.Add(s);
        Assert.Equal(plan.Waves[1].Steps, plan.Releasable(acked.Contains));
        foreach (var s in plan.Waves.SelectMany(w => w.Steps)) acked.Add(s);
        Assert.Empty(plan.Releasable(acked.Contains));
    }

    [Fact]
    public void Spine_that_gains_one_route_and_loses_another_goes_in_two_steps()
    {
        var t = TreeTables.Ft2(4);
        var spineId = t.Switches.First(s => s.Tier != SwitchTier.Leaf).Id;
        var links = TreeTables.SwitchLinks(t).Where(l => l.B.Device == spineId).ToList();
        var oldT = TreeTables.Compute(t, new HashSet<int> { links[0].Id }, 10);
        var newT = TreeTables.Compute(t, new HashSet<int> { links[1].Id }, 20);
        var plan = MakeBeforeBreak.Order(oldT, newT, MakeBeforeBreak.Neighbors(t));
        var steps = plan.Waves.SelectMany(w => w.Steps.Select(s => (w.Index, s))).Where(x => x.s.SwitchName == t.Switches[spineId].Name).ToList();
        Assert.Equal(2, steps.Count);
        Assert.False(steps[0].s.IsFinal);
        Assert.Equal(20UL, steps[0].s.Table.Version);
        Assert.Empty(steps[0].s.Table.Validate(t.Switches[spineId].Radix));
        Assert.True(steps[1].s.IsFinal);
        Assert.Equal(21UL, steps[1].s.Table.Version);
        Assert.True(steps[0].Index < steps[1].Index);
        AssertSafeRollout(t, oldT, newT, new Random(1));
    }

    [Fact]
    public void Loop_is_detected_by_the_checker()
    {
        var t = TreeTables.Ft2(4);
        var nb = MakeBeforeBreak.Neighbors(t);
        var tables = TreeTables.Compute(t, new HashSet<int>(), 1);
        var link = TreeTables.SwitchLinks(t).First();
        var leaf = t.Switches[link.A.Device];
        var spine = t.Switches[link.B.Device];
        var other = t.Switches.First(s => s.Tier == SwitchTier.Leaf && s.Id != leaf.Id).Name;
        // The spine sends traffic for `other` back down to `leaf`, which sends it up again.
        var key = new RouteKey(other, "default");
        tables[spine.Name] = new SwitchTable(spine.Name, 2, 12, [new NextHopGroup(1, [new GroupMember(link.B.Port, 12)])],
            [new(key, new RouteEntry(1, SpreadMode.Hash))]);
        tables[leaf.Name] = new SwitchTable(leaf.Name, 2, 12, [new NextHopGroup(1, [new GroupMember(link.A.Port, 12)])],
            [new(key, new RouteEntry(1, SpreadMode.Hash))]);
        var p = ForwardingCheck.Walk(tables, nb, leaf.Name, key);
        Assert.NotNull(p);
        Assert.Equal(ForwardingProblemKind.Loop, p.Kind);
    }
}
