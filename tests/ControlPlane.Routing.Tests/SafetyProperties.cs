using ControlPlane.Fabric;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ControlPlane.Routing.Tests;

public class SafetyProperties
{
    /// <summary>One class per path weighting, so every property covers them all.</summary>
    internal static readonly TrafficPolicy AllWeightings = new()
    {
        Classes =
        [
            new("ecmp", ForwardingMode.Hashed, PathWeighting.Ecmp),
            new("wcmp", ForwardingMode.Sprayed, PathWeighting.Wcmp),
            new("tp", ForwardingMode.Hashed, PathWeighting.Pinned, 2),
            new("kv", ForwardingMode.Sprayed, PathWeighting.Residual),
            new("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive),
        ],
    };

    /// <summary>Every invariant of the issue, checked on one result. Returns the first violation or null.</summary>
    internal static string? Violation(RoutingResult res)
    {
        var snap = res.Snapshot;
        var t = snap.Topology;
        foreach (var d in Cases.Leaves(t))
        {
            var reach = Cases.Reachable(snap, d);
            for (var c = 0; c < res.Policy.Classes.Count; c++)
            {
                var next = new Dictionary<int, List<int>>();
                foreach (var sw in t.Switches)
                {
                    var x = sw.Id;
                    var kind = res.TryGetGroup(x, d, c, out var ports, out var weights);
                    if (sw.Plane != t.Switches[d].Plane) { if (kind != RouteKind.NoRoute) return $"{sw.Name} routes to {d} of another plane"; continue; }
                    if (x == d) { if (snap.SwitchState(d).CarriesTraffic && kind != RouteKind.Local) return $"{sw.Name} is the destination but {kind}"; continue; }
                    var shouldRoute = snap.SwitchState(x).CarriesTraffic && reach.Contains(x);
                    if (shouldRoute && kind != RouteKind.Forward) return $"blackhole: {sw.Name} reaches leaf {d} but has {kind} (class {c})";
                    if (!shouldRoute && kind != RouteKind.NoRoute) return $"{sw.Name} cannot reach {d} but has {kind}";
                    if (kind != RouteKind.Forward) continue;
                    if (ports.Length == 0) return $"{sw.Name} has an empty group";
                    var sum = 0;
                    var hops = new List<int>();
                    for (var i = 0; i < ports.Length; i++)
                    {
                        if (weights[i] <= 0) return $"{sw.Name} member with weight {weights[i]}";
                        sum += weights[i];
                        var l = t.LinkAtSwitchPort(x, ports[i]);
                        if (l < 0 || !snap.IsLinkUsable(l)) return $"{sw.Name} sends into dead/drained link on port {ports[i]}";
                        var o = t.Opposite(l, x);
                        if (o.IsHost) return $"{sw.Name} sends to a host port";
                        hops.Add(o.Device);
                    }
                    if (sum != res.GroupSize) return $"{sw.Name} weights sum {sum} != {res.GroupSize}";
                    next[x] = hops;
                }
                // No loop and no dead end: every forwarding walk ends at d.
                var state = new Dictionary<int, int>();
                foreach (var start in next.Keys)
                {
                    var err = Walk(start, d, next, state);
                    if (err is not null) return $"class {c} dest {d}: {err}";
                }
            }
        }
        return null;
    }

    private static string? Walk(int x, int d, Dictionary<int, List<int>> next, Dictionary<int, int> state)
    {
        if (x == d) return null;
        if (state.TryGetValue(x, out var s)) return s == 1 ? $"loop through switch {x}" : null;
        if (!next.TryGetValue(x, out var hops)) return $"switch {x} forwards into a switch with no route";
        state[x] = 1;
        foreach (var h in hops)
        {
            var e = Walk(h, d, next, state);
            if (e is not null) return e;
        }
        state[x] = 2;
        return null;
    }

    [Property(MaxTest = 1000)]
    [Trait("Category", "Slow")]
    public Property NoLoopNoBlackholeNoDeadLinkWeightsSum(int seed)
    {
        var (t, snap) = Cases.Random(seed);
        var loads = RandomLoads(t, new Random(seed ^ 0x5bd1));
        var adaptive = new MultiplierWeigher(loads.AToB.Select(u => Math.Clamp(1 - u / 2, 0.1, 1)).ToArray(), loads.BToA.Select(u => Math.Clamp(1 - u / 2, 0.1, 1)).ToArray());
        var size = new[] { 16, 64, 128 }[Math.Abs(seed % 3)];
        var res = RoutingEngine.Compute(snap, AllWeightings, loads, new RoutingOptions { GroupSize = size, Adaptive = adaptive });
        var v = Violation(res);
        return (v is null).Label($"{t.Kind} radix {t.Parameters!.Radix}: {v}");
    }

    [Property(MaxTest = 400)]
    public Property IncrementalUpdateEqualsFullCompute(int seed)
    {
        var r = new Random(seed);
        var (t, snap) = Cases.Random(seed);
        var policy = TrafficPolicy.Default;
        var before = RoutingEngine.Compute(snap, policy);
        // One to three random link or switch changes (fail, drain or repair).
        var next = snap;
        for (var i = r.Next(1, 4); i > 0; i--)
        {
            var st = new ElementState((ElementStatus)r.Next(0, 4));
            next = r.Next(4) == 0 ? next.WithSwitch(r.Next(t.Switches.Count), st) : next.WithLink(r.Next(t.Links.Count), st);
        }
        var (inc, deltas) = RoutingEngine.Update(before, next);
        var full = RoutingEngine.Compute(next, policy, options: new RoutingOptions { Version = inc.Version });
        string? diff = null;
        var changed = new HashSet<(int, int, int)>();
        foreach (var d in deltas) foreach (var ch in d.Changes) changed.Add((d.SwitchId, ch.Destination, ch.ClassIndex));
        foreach (var sw in t.Switches)
            foreach (var d in Cases.Leaves(t))
                for (var c = 0; c < policy.Classes.Count && diff is null; c++)
                {
                    var a = inc.Lookup(sw.Id, d, c);
                    var b = full.Lookup(sw.Id, d, c);
                    if (a.Kind != b.Kind || !a.Ports.Span.SequenceEqual(b.Ports.Span) || !a.Weights.Span.SequenceEqual(b.Weights.Span)) diff = $"{sw.Name}->{d} class {c} differs";
                    var o = before.Lookup(sw.Id, d, c);
                    var moved = o.Kind != b.Kind || !o.Ports.Span.SequenceEqual(b.Ports.Span) || !o.Weights.Span.SequenceEqual(b.Weights.Span);
                    if (moved != changed.Contains((sw.Id, d, c))) diff = $"delta for {sw.Name}->{d} class {c}: changed={moved} but reported={!moved}";
                }
        return (diff is null && inc.Version == before.Version + 1).Label(diff ?? "version");
    }

    [Property(MaxTest = 150)]
    public Property EcmpAndWcmpAgreeOnHealthySymmetricFabric(int seed)
    {
        var t = Cases.RandomTopology(new Random(seed));
        var snap = FabricSnapshot.Initial(t);
        var policy = new TrafficPolicy { Classes = [new("e", ForwardingMode.Hashed, PathWeighting.Ecmp), new("w", ForwardingMode.Sprayed, PathWeighting.Wcmp)] };
        var res = RoutingEngine.Compute(snap, policy);
        foreach (var sw in t.Switches)
            foreach (var d in Cases.Leaves(t))
            {
                var a = res.Lookup(sw.Id, d, 0);
                var b = res.Lookup(sw.Id, d, 1);
                if (!a.Ports.Span.SequenceEqual(b.Ports.Span) || !a.Weights.Span.SequenceEqual(b.Weights.Span))
                    return false.Label($"{sw.Name}->{d}: ecmp [{string.Join(",", a.Weights.ToArray())}] wcmp [{string.Join(",", b.Weights.ToArray())}]");
            }
        return true.ToProperty();
    }

    [Property(MaxTest = 300)]
    public Property MembersAreFirstHopsOfShortestValleyFreePaths(int seed)
    {
        var (t, snap) = Cases.Random(seed);
        var res = RoutingEngine.Compute(snap, TrafficPolicy.Single("w", ForwardingMode.Sprayed, PathWeighting.Wcmp));
        foreach (var d in Cases.Leaves(t))
            foreach (var sw in t.Switches)
            {
                if (sw.Id == d || sw.Plane != t.Switches[d].Plane || !snap.SwitchState(sw.Id).CarriesTraffic) continue;
                var expected = BruteForce.FirstHops(snap, sw.Id, d);
                if (expected.Count == 0) continue; // no valley-free path: the fallback applies (checked by the safety property)
                var got = res.Lookup(sw.Id, d, 0);
                var ports = got.Ports.ToArray().Select(p => t.Opposite(t.LinkAtSwitchPort(sw.Id, p), sw.Id).Device).ToHashSet();
                if (!ports.SetEquals(expected)) return false.Label($"{sw.Name}->{t.Switches[d].Name}: got {{{string.Join(",", ports)}}} expected {{{string.Join(",", expected)}}}");
            }
        return true.ToProperty();
    }

    internal static LinkLoads RandomLoads(FabricTopology t, Random r)
    {
        var a = new double[t.Links.Count];
        var b = new double[t.Links.Count];
        for (var i = 0; i < a.Length; i++) { a[i] = r.NextDouble() * 1.2; b[i] = r.NextDouble() * 1.2; }
        return new LinkLoads(a, b);
    }
}

/// <summary>Reference: enumerate every valley-free (up*, down*) simple path and keep the first hops of the shortest.</summary>
internal static class BruteForce
{
    public static HashSet<int> FirstHops(FabricSnapshot snap, int x, int d)
    {
        var best = int.MaxValue;
        var hops = new HashSet<int>();
        var t = snap.Topology;
        var path = new HashSet<int> { x };
        void Go(int at, bool goingDown, int len, int first)
        {
            if (len >= best && at != d) return;
            if (at == d)
            {
                if (len < best) { best = len; hops.Clear(); }
                if (len == best) hops.Add(first);
                return;
            }
            foreach (var l in t.SwitchPortLinks(at))
            {
                if (l < 0 || !snap.IsLinkUsable(l)) continue;
                var o = t.Opposite(l, at);
                if (o.IsHost || path.Contains(o.Device)) continue;
                var up = (int)t.Switches[o.Device].Tier > (int)t.Switches[at].Tier;
                var down = (int)t.Switches[o.Device].Tier < (int)t.Switches[at].Tier;
                if (!up && !down) continue;
                if (up && goingDown) continue;
                path.Add(o.Device);
                Go(o.Device, down, len + 1, first < 0 ? o.Device : first);
                path.Remove(o.Device);
            }
        }
        Go(x, false, 0, -1);
        return hops;
    }
}

/// <summary>The reuse of the previous destination's groups is an optimization only: tables are identical without it.</summary>
[Collection("reuse-switch")]
public class ReuseProperties
{
    [Property(MaxTest = 300)]
    public Property ReuseGivesTheSameTablesAsAFullPassPerDestination(int seed)
    {
        var (t, snap) = seed % 3 == 0 ? (Cases.RandomTopology(new Random(seed)), (FabricSnapshot?)null) : Cases.Random(seed);
        snap ??= FabricSnapshot.Initial(t);
        var policy = TrafficPolicy.Default;
        var fast = RoutingEngine.Compute(snap, policy);
        RoutingResult slow;
        lock (typeof(RoutingEngine))
        {
            RoutingEngine.DisableReuse = true;
            try { slow = RoutingEngine.Compute(snap, policy); }
            finally { RoutingEngine.DisableReuse = false; }
        }
        foreach (var sw in t.Switches)
            foreach (var d in Cases.Leaves(t))
                for (var c = 0; c < policy.Classes.Count; c++)
                {
                    var a = fast.Lookup(sw.Id, d, c);
                    var b = slow.Lookup(sw.Id, d, c);
                    if (a.Kind != b.Kind || !a.Ports.Span.SequenceEqual(b.Ports.Span) || !a.Weights.Span.SequenceEqual(b.Weights.Span))
                        return false.Label($"{t.Kind}: {sw.Name}->{t.Switches[d].Name} class {c}");
                }
        return true.ToProperty();
    }
}
