using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// Parameters of the congestion loop. Every step compares each link direction's measured utilization u with the
/// mean utilization ref of its peers, the alternatives it competes with: for an upward direction (lower end to upper
/// end) the other upward links of the same lower switch; for a downward direction the other links into the same lower
/// switch. A leaf whose every downlink is hot (a hot destination) thus changes nothing: no routing can relieve it and moves the direction's
/// multiplier m (the factor WCMP weights are scaled by) as follows.
/// <list type="bullet">
/// <item>Hysteresis: a direction becomes hot when u/ref exceeds 1 + <see cref="DeadBand"/> + <see cref="HysteresisBand"/>
/// and stays hot until u/ref falls below 1 + <see cref="DeadBand"/>, so a link near the threshold does not flap.</item>
/// <item>Hot: m moves a fraction <see cref="Gain"/> of the way to m * ref/u, the value that would equalize it if load
/// followed weight linearly (damping: a gain below 1 never overshoots the fixed point).</item>
/// <item>Cool (u/ref below 1 - <see cref="DeadBand"/>): m recovers the same way toward min(1, m * ref/u).</item>
/// <item>Inside the dead band nothing changes: small noise never moves a table.</item>
/// <item>Each step m changes by at most <see cref="MaxMultiplierChange"/> (relative) and stays in
/// [<see cref="MinMultiplier"/>, 1]; after routing, <see cref="AdaptiveController.LimitChange"/> moves at most
/// <see cref="MaxBucketChangePerStep"/> buckets per group.</item>
/// </list>
/// </summary>
public sealed record AdaptivePolicy
{
    /// <summary>Fraction of the correction applied per step, in (0, 1]. Default 0.5.</summary>
    public double Gain { get; init; } = 0.5;

    /// <summary>Relative deviation from the peer mean that is ignored. Default 0.02.</summary>
    public double DeadBand { get; init; } = 0.02;

    /// <summary>Extra relative deviation needed to become hot (enter) beyond the dead band (leave). Default 0.03.</summary>
    public double HysteresisBand { get; init; } = 0.03;

    /// <summary>Lowest multiplier; a link never loses all its weight through congestion. Default 0.1.</summary>
    public double MinMultiplier { get; init; } = 0.1;

    /// <summary>Largest relative change of a multiplier per step. Default 0.3.</summary>
    public double MaxMultiplierChange { get; init; } = 0.3;

    /// <summary>Largest number of buckets moved between members of one group per step (safety moves are not limited). Default 8.</summary>
    public int MaxBucketChangePerStep { get; init; } = 8;

    /// <summary>Every problem, each naming its field.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (!(Gain > 0 && Gain <= 1)) e.Add(new("gain", $"must be in (0, 1], got {Gain}"));
        if (!(DeadBand >= 0 && DeadBand < 1)) e.Add(new("deadBand", $"must be in [0, 1), got {DeadBand}"));
        if (!(HysteresisBand >= 0 && HysteresisBand < 1)) e.Add(new("hysteresisBand", $"must be in [0, 1), got {HysteresisBand}"));
        if (!(MinMultiplier > 0 && MinMultiplier <= 1)) e.Add(new("minMultiplier", $"must be in (0, 1], got {MinMultiplier}"));
        if (!(MaxMultiplierChange > 0 && MaxMultiplierChange <= 1)) e.Add(new("maxMultiplierChange", $"must be in (0, 1], got {MaxMultiplierChange}"));
        if (MaxBucketChangePerStep < 1) e.Add(new("maxBucketChangePerStep", $"must be at least 1, got {MaxBucketChangePerStep}"));
        return e;
    }
}

/// <summary>State of the congestion loop: multipliers per link direction and the hot flags (hysteresis memory).</summary>
/// <param name="Weigher">Multipliers to route with (<see cref="RoutingOptions.Adaptive"/>).</param>
/// <param name="HotAToB">Hot flag per link, A to B.</param>
/// <param name="HotBToA">Hot flag per link, B to A.</param>
/// <param name="Step">Steps taken.</param>
/// <param name="HotDirections">Link directions currently hot.</param>
/// <param name="MaxMultiplierMove">Largest absolute multiplier change in the last step (0 when converged).</param>
public sealed record AdaptiveState(MultiplierWeigher Weigher, bool[] HotAToB, bool[] HotBToA, int Step, int HotDirections, double MaxMultiplierMove)
{
    /// <summary>The start state: every multiplier 1, nothing hot.</summary>
    public static AdaptiveState Initial(int linkCount)
    {
        var ones = new double[linkCount];
        Array.Fill(ones, 1.0);
        return new AdaptiveState(new MultiplierWeigher(ones, ones), new bool[linkCount], new bool[linkCount], 0, 0, 0);
    }
}

/// <summary>The damped, rate-limited congestion loop (see <see cref="AdaptivePolicy"/> for the rules).</summary>
public static class AdaptiveController
{
    /// <summary>One step: new multipliers from measured loads. Pure and deterministic.</summary>
    /// <exception cref="FabricInputException">When the policy is invalid or the loads do not cover the topology.</exception>
    public static AdaptiveState Step(AdaptiveState state, FabricSnapshot snapshot, LinkLoads loads, AdaptivePolicy policy)
    {
        var errors = policy.Validate();
        if (errors.Count > 0) throw new FabricInputException(errors);
        var topo = snapshot.Topology;
        var n = topo.Links.Count;
        if (loads.Count != n || state.HotAToB.Length != n) throw new FabricInputException("loads", $"must cover every link ({n})");

        // Peer groups: (lower switch, direction) -> mean utilization over its usable switch links.
        var sums = new Dictionary<(int, bool), (double Sum, int Count)>();
        for (var l = 0; l < n; l++)
        {
            var link = topo.Links[l];
            if (!link.IsSwitchLink || !snapshot.IsLinkUsable(l)) continue;
            foreach (var dir in (ReadOnlySpan<bool>)[true, false])
            {
                var key = (Lower(topo, link), dir == (Lower(topo, link) == link.A.Device));
                var (s, c) = sums.GetValueOrDefault(key);
                sums[key] = (s + loads.Get(l, dir), c + 1);
            }
        }
        var mA = (double[])state.Weigher.AToB.Clone();
        var mB = (double[])state.Weigher.BToA.Clone();
        var hotA = (bool[])state.HotAToB.Clone();
        var hotB = (bool[])state.HotBToA.Clone();
        var hotCount = 0;
        double maxMove = 0;
        for (var l = 0; l < n; l++)
        {
            var link = topo.Links[l];
            if (!link.IsSwitchLink) continue;
            var usable = snapshot.IsLinkUsable(l);
            foreach (var dir in (ReadOnlySpan<bool>)[true, false])
            {
                var m = dir ? mA : mB;
                var hot = dir ? hotA : hotB;
                if (!usable) { hot[l] = false; continue; } // dead links carry nothing; the router already excludes them
                var (sum, count) = sums[(Lower(topo, link), dir == (Lower(topo, link) == link.A.Device))];
                var mean = sum / count;
                if (mean <= 0) continue;
                var r = loads.Get(l, dir) / mean;
                if (!hot[l] && r > 1 + policy.DeadBand + policy.HysteresisBand) hot[l] = true;
                else if (hot[l] && r < 1 + policy.DeadBand) hot[l] = false;
                var old = m[l];
                double target;
                if (hot[l]) target = old / Math.Max(r, 1e-9);
                else if (r < 1 - policy.DeadBand) target = Math.Min(1, old / Math.Max(r, 1e-9));
                else continue;
                var next = old + policy.Gain * (target - old);
                next = Math.Clamp(next, old * (1 - policy.MaxMultiplierChange), old * (1 + policy.MaxMultiplierChange));
                next = Math.Clamp(next, policy.MinMultiplier, 1);
                m[l] = next;
                maxMove = Math.Max(maxMove, Math.Abs(next - old));
                if (hot[l]) hotCount++;
            }
        }
        return new AdaptiveState(new MultiplierWeigher(mA, mB), hotA, hotB, state.Step + 1, hotCount, maxMove);
    }

    /// <summary>The lower-tier end of a switch link (A for generated trees).</summary>
    private static int Lower(FabricTopology t, Link link) =>
        (int)t.Switches[link.A.Device].Tier <= (int)t.Switches[link.B.Device].Tier ? link.A.Device : link.B.Device;

    /// <summary>
    /// Limits how far the adaptive groups of <paramref name="next"/> move from <paramref name="previous"/>: per group at
    /// most <paramref name="maxBuckets"/> buckets change hands. Safety first: members that left the group (dead or
    /// no longer on a live path) are removed at once and their buckets given to the remaining members regardless of
    /// the limit; new groups and withdrawals are taken as is. Only layers with <see cref="PathWeighting.Adaptive"/>
    /// weighting are limited. Both results must be for the same topology and policy.
    /// </summary>
    /// <exception cref="FabricInputException">When the results do not share topology and policy.</exception>
    public static RoutingResult LimitChange(RoutingResult previous, RoutingResult next, int maxBuckets)
    {
        if (!ReferenceEquals(previous.Graph, next.Graph) || previous.Policy.Classes.Count != next.Policy.Classes.Count)
            throw new FabricInputException("previous", "results must share topology and policy");
        if (previous.GroupSize != next.GroupSize) throw new FabricInputException("groupSize", "results must share the group size");
        if (maxBuckets < 1) throw new FabricInputException("maxBuckets", $"must be at least 1, got {maxBuckets}");
        var limitLayers = new Dictionary<int, int>(); // next layer -> previous layer
        for (var c = 0; c < next.ClassLayer.Length; c++)
            if (next.Layers[next.ClassLayer[c]].Kind == PathWeighting.Adaptive) limitLayers.TryAdd(next.ClassLayer[c], previous.ClassLayer[c]);
        if (limitLayers.Count == 0) return next;

        var planes = new PlaneTables[next.Planes.Length];
        var G = next.GroupSize;
        for (var p = 0; p < planes.Length; p++)
        {
            var nt = next.Planes[p];
            var pt = previous.Planes[p];
            var pool = new GroupPool();
            var entries = new int[nt.Entries.Length][];
            var dc = nt.Dests.Length;
            var memo = new Dictionary<(int, int, int, int), int>();
            for (var li = 0; li < entries.Length; li++)
            {
                var src = nt.Entries[li];
                var dst = new int[src.Length];
                var hasPrev = limitLayers.TryGetValue(li, out var prevLayer);
                for (var i = 0; i < src.Length; i++)
                {
                    var b = src[i];
                    if (b < 0) { dst[i] = b; continue; }
                    var a = hasPrev ? pt.Entries[prevLayer][i] : -1;
                    var key = (li, a, b, nt.Switches[i / dc]);
                    if (memo.TryGetValue(key, out var got)) { dst[i] = got; continue; }
                    got = a < 0 ? pool.Intern(nt.Groups.Owner(b), nt.Groups.Ports(b), nt.Groups.Weights(b)) : Limited(pool, pt.Groups, a, nt.Groups, b, G, maxBuckets);
                    memo[key] = got;
                    dst[i] = got;
                }
                entries[li] = dst;
            }
            planes[p] = new PlaneTables(p, nt.Switches, nt.Dests, entries, pool, nt.FallbackUsed);
        }
        return new RoutingResult(next.Graph, next.Snapshot, next.Policy, next.Loads, next.Options, next.Version, next.Layers, next.ClassLayer, planes, next.Health, next.SwitchVersions);
    }

    private static int Limited(GroupPool outPool, GroupPool pa, int a, GroupPool pb, int b, int G, int budget)
    {
        var ports = pb.Ports(b);
        var target = pb.Weights(b);
        var m = ports.Length;
        var s = new int[m];
        var oldPorts = pa.Ports(a);
        var oldW = pa.Weights(a);
        var have = 0;
        for (var i = 0; i < m; i++)
        {
            var j = oldPorts.IndexOf(ports[i]);
            if (j >= 0) { s[i] = oldW[j]; have += s[i]; }
        }
        // Buckets of members that left are reassigned now (safety), to the members furthest below target.
        for (var left = G - have; left > 0; left--) s[ArgMaxGap(s, target, +1)]++;
        for (var k = 0; k < budget; k++)
        {
            var give = ArgMaxGap(s, target, -1);
            var take = ArgMaxGap(s, target, +1);
            if (s[give] <= target[give] || s[take] >= target[take]) break;
            s[give]--;
            s[take]++;
        }
        return outPool.Intern(pb.Owner(b), ports, s);
    }

    /// <summary>sign +1: the member most below its target; -1: the member most above.</summary>
    private static int ArgMaxGap(int[] s, ReadOnlySpan<int> target, int sign)
    {
        var best = 0;
        var bestGap = int.MinValue;
        for (var i = 0; i < s.Length; i++)
        {
            var gap = sign * (target[i] - s[i]);
            if (gap > bestGap) { bestGap = gap; best = i; }
        }
        return best;
    }
}
