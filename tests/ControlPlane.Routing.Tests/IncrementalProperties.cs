using ControlPlane.Fabric;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ControlPlane.Routing.Tests;

/// <summary>The pieces the incremental update was sped up with give exactly what the straightforward versions give.</summary>
public class IncrementalProperties
{
    private static readonly TrafficPolicy AllWeightings = SafetyProperties.AllWeightings;

    /// <summary>The rounding as first written (floors, systematic sampling from the offset, leftovers, at least one bucket each).</summary>
    private static void ReferenceNormalize(ReadOnlySpan<double> raw, Span<int> result, int groupSize, double offset)
    {
        var m = raw.Length;
        if (m == 0) return;
        double sum = 0;
        for (var i = 0; i < m; i++) sum += raw[i];
        var frac = new double[m];
        var given = 0;
        for (var i = 0; i < m; i++)
        {
            var q = sum > 0 ? raw[i] * groupSize / sum : (double)groupSize / m;
            var w = (int)Math.Floor(q);
            result[i] = w;
            frac[i] = q - w;
            given += w;
        }
        var acc = offset - Math.Floor(offset);
        for (var i = 0; i < m && given < groupSize; i++)
        {
            acc += frac[i];
            if (acc < 1 - 1e-9) continue;
            acc -= 1;
            result[i]++;
            frac[i] = -1;
            given++;
        }
        for (; given < groupSize; given++)
        {
            var best = 0;
            for (var i = 1; i < m; i++) if (frac[i] > frac[best]) best = i;
            result[best]++;
            frac[best] = -1;
        }
        if (m > groupSize) return;
        for (var i = 0; i < m; i++)
        {
            if (result[i] > 0) continue;
            var big = 0;
            for (var j = 1; j < m; j++) if (result[j] > result[big]) big = j;
            result[big]--;
            result[i] = 1;
        }
    }

    [Property(MaxTest = 2000)]
    public Property NormalizeMatchesTheReferenceRounding(int seed)
    {
        var r = new Random(seed);
        var m = r.Next(1, 70);
        var size = new[] { 1, 2, 16, 64, 128 }[r.Next(5)];
        // Equal weights, a few distinct levels, or arbitrary ones (with zeros now and then).
        var style = r.Next(3);
        var levels = new[] { 12.5, 6.25, 400, 1e-6 };
        var raw = new double[m];
        for (var i = 0; i < m; i++)
            raw[i] = style switch { 0 => 6.451612903225806, 1 => levels[r.Next(levels.Length)], _ => r.Next(8) == 0 ? 0 : r.NextDouble() * 100 };
        var offset = r.NextDouble() * 50;
        var a = new int[m];
        var b = new int[m];
        BucketWeights.Normalize(raw, a, size, offset);
        ReferenceNormalize(raw, b, size, offset);
        return a.AsSpan().SequenceEqual(b).Label($"m {m} size {size}: [{string.Join(",", a)}] vs reference [{string.Join(",", b)}]");
    }

    [Fact]
    public void GroupPoolKeysAGroupByItsKeptMembersOnly()
    {
        var pool = new GroupPool();
        var a = pool.Intern(3, [1, 2, 3, 4], [0, 5, 0, 3]);
        var b = pool.Intern(3, [2, 4], [5, 3]);
        var c = pool.Intern(3, [2, 4, 6], [5, 3, 0]);
        Assert.Equal(a, b);
        Assert.Equal(a, c);
        Assert.NotEqual(a, pool.Intern(4, [2, 4], [5, 3]));   // another switch
        Assert.NotEqual(a, pool.Intern(3, [2, 4], [3, 5]));   // other weights
        Assert.NotEqual(a, pool.Intern(3, [4, 2], [3, 5]));   // other order
        Assert.Equal(4, pool.Count);
        Assert.Equal([2, 4], pool.Ports(a).ToArray());
        Assert.Equal([5, 3], pool.Weights(a).ToArray());
        // Another pool hashes the same group alike (the update's diff relies on it).
        var other = new GroupPool();
        other.Intern(9, [1], [1]);
        var d = other.Intern(3, [7, 2, 4], [0, 5, 3]);
        Assert.Equal(pool.Hash(a), other.Hash(d));
    }

    [Fact]
    public void GroupPoolGrowsWithoutLosingGroups()
    {
        var pool = new GroupPool(1, 1);
        var ids = new List<int>();
        for (var i = 0; i < 5000; i++) ids.Add(pool.Intern(i % 7, [i, i + 1, i + 2], [1, 2, 3 + i % 5]));
        Assert.Equal(5000, pool.Count);
        for (var i = 0; i < 5000; i++)
        {
            Assert.Equal(ids[i], pool.Intern(i % 7, [i, i + 1, i + 2], [1, 2, 3 + i % 5]));
            Assert.Equal(i % 7, pool.Owner(ids[i]));
        }
        Assert.Equal(5000, pool.Count);
    }

    /// <summary>
    /// A chain of updates with every weighting, loads and adaptive multipliers (some steps with new loads, which
    /// recompute every plane) ends with the tables a full computation gives, and each step's deltas name exactly the
    /// routes that moved.
    /// </summary>
    [Property(MaxTest = 120)]
    public Property ChainedUpdatesWithEveryWeightingEqualFullCompute(int seed)
    {
        var r = new Random(seed);
        var (t, snap) = Cases.Random(seed);
        var loads = SafetyProperties.RandomLoads(t, r);
        var adaptive = new MultiplierWeigher(loads.AToB.Select(u => Math.Clamp(1 - u / 2, 0.1, 1)).ToArray(), loads.BToA.Select(u => Math.Clamp(1 - u / 2, 0.1, 1)).ToArray());
        var options = new RoutingOptions { Adaptive = adaptive, GroupSize = new[] { 16, 64, 128 }[r.Next(3)] };
        var current = RoutingEngine.Compute(snap, AllWeightings, loads, options);
        for (var step = 0; step < 3; step++)
        {
            var next = current.Snapshot;
            for (var i = r.Next(1, 3); i > 0; i--)
            {
                var st = new ElementState((ElementStatus)r.Next(0, 4));
                next = r.Next(4) == 0 ? next.WithSwitch(r.Next(t.Switches.Count), st) : next.WithLink(r.Next(t.Links.Count), st);
            }
            LinkLoads? newLoads = r.Next(3) == 0 ? SafetyProperties.RandomLoads(t, r) : null;
            var (inc, deltas) = RoutingEngine.Update(current, next, newLoads);
            var full = RoutingEngine.Compute(next, AllWeightings, newLoads ?? loads, options with { Version = inc.Version });
            var reported = new HashSet<(int, int, int)>();
            foreach (var d in deltas) foreach (var ch in d.Changes) reported.Add((d.SwitchId, ch.Destination, ch.ClassIndex));
            foreach (var sw in t.Switches)
                foreach (var d in Cases.Leaves(t))
                    for (var c = 0; c < AllWeightings.Classes.Count; c++)
                    {
                        var a = inc.Lookup(sw.Id, d, c);
                        var b = full.Lookup(sw.Id, d, c);
                        if (a.Kind != b.Kind || !a.Ports.Span.SequenceEqual(b.Ports.Span) || !a.Weights.Span.SequenceEqual(b.Weights.Span))
                            return false.Label($"step {step}: {sw.Name}->{d} class {c} differs from a full computation");
                        var o = current.Lookup(sw.Id, d, c);
                        var moved = o.Kind != b.Kind || !o.Ports.Span.SequenceEqual(b.Ports.Span) || !o.Weights.Span.SequenceEqual(b.Weights.Span);
                        if (moved != reported.Contains((sw.Id, d, c))) return false.Label($"step {step}: delta for {sw.Name}->{d} class {c}: moved={moved}");
                    }
            loads = newLoads ?? loads;
            current = inc;
        }
        return true.ToProperty();
    }
}
