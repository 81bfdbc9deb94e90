using ControlPlane.Fabric;
using ControlPlane.Routing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ControlPlane.Emulation.Tests;

public class EmulatorTests
{
    private static FabricTopology Ft2(int radix = 8) => FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = radix, NicsPerNode = 1, GpusPerNode = 1 });

    private static readonly TrafficPolicy Sprayed = TrafficPolicy.Single("ep", ForwardingMode.Sprayed, PathWeighting.Wcmp);

    [Fact]
    public void SprayedPermutationOnHealthyFt2MeetsTheBoundExactly()
    {
        var t = Ft2();
        var routes = RoutingEngine.Compute(FabricSnapshot.Initial(t), Sprayed);
        var w = WorkloadGenerator.Permutation(t, 0, seed: 3);
        var rep = Emulator.Run(routes, w).Report;
        Assert.Equal(0, rep.UndeliveredBytes);
        Assert.True(rep.LowerBoundUtilization > 0);
        Assert.InRange(rep.RatioToBound, 0.999, 1.001);
    }

    [Fact]
    public void HashedEcmpCollidesOnAPermutation()
    {
        var t = Ft2(16);
        var snap = FabricSnapshot.Initial(t);
        var w = WorkloadGenerator.Permutation(t, 0, seed: 5);
        var hashed = Emulator.Run(RoutingEngine.Compute(snap, Sprayed, options: new RoutingOptions { ForceWeighting = PathWeighting.Ecmp, ForceMode = ForwardingMode.Hashed }), w).Report;
        var sprayed = Emulator.Run(RoutingEngine.Compute(snap, Sprayed), w).Report;
        Assert.True(hashed.MaxFabricUtilization > 1.5 * sprayed.MaxFabricUtilization, $"hashed {hashed.MaxFabricUtilization} sprayed {sprayed.MaxFabricUtilization}");
    }

    [Fact]
    public void LoadsAreConservedAcrossEachTier()
    {
        var t = Ft2();
        var routes = RoutingEngine.Compute(FabricSnapshot.Initial(t), Sprayed);
        var w = WorkloadGenerator.AllToAll(t, 0, bytesPerPair: 1000);
        var res = Emulator.Run(routes, w);
        // Every byte between different leaves crosses exactly one up and one down link.
        double up = 0, down = 0;
        foreach (var l in t.Links.Where(l => l.IsSwitchLink)) { up += res.Utilization.AToB[l.Id]; down += res.Utilization.BToA[l.Id]; }
        Assert.Equal(up, down, 6);
        var crossLeaf = w.Flows.Count(f => t.Links[f.SrcLink].B.Device != t.Links[f.DstLink].B.Device);
        var ideal = res.Report.IdealSeconds;
        var bytes = up * ideal * 400e9 / 8;
        Assert.Equal(crossLeaf * 1000.0, bytes, 3);
    }

    [Fact]
    public void MaxMinRatesRespectCapacityAndSaturateTheBottleneck()
    {
        var t = Ft2();
        var routes = RoutingEngine.Compute(FabricSnapshot.Initial(t), Sprayed);
        var w = WorkloadGenerator.Incast(t, 0, seed: 1, senders: 8);
        var rep = Emulator.Run(routes, w).Report;
        Assert.True(rep.MaxMinComputed);
        // Eight senders into one 400G NIC: the receiver's leaf pool is 4 NICs but the ingress is one NIC link per flow;
        // the pooled model gives at most the leaf's NIC capacity.
        var cls = Assert.Single(rep.Classes);
        Assert.True(cls.ThroughputGbps > 0 && cls.ThroughputGbps <= 4 * 400 + 1e-6, $"throughput {cls.ThroughputGbps}");
    }

    [Fact]
    public void FailuresRaiseTheBoundAndWcmpTracksIt()
    {
        var t = Ft2(16);
        var r = new Random(11);
        var links = t.Links.Where(l => l.IsSwitchLink).OrderBy(_ => r.Next()).Take(10).Select(l => new KeyValuePair<int, ElementState>(l.Id, new ElementState(ElementStatus.Down)));
        var snap = FabricSnapshot.Initial(t).With(links);
        var w = WorkloadGenerator.AllToAll(t, 0);
        var healthy = Emulator.Run(RoutingEngine.Compute(FabricSnapshot.Initial(t), Sprayed), w).Report;
        var failed = Emulator.Run(RoutingEngine.Compute(snap, Sprayed), w).Report;
        Assert.True(failed.LowerBoundUtilization > healthy.LowerBoundUtilization);
        Assert.InRange(failed.RatioToBound, 1 - 1e-9, 1.10);
    }

    [Fact]
    public void WorkloadsAreSizedAndDeterministic()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = 8, Planes = 2, NicsPerNode = 2, GpusPerNode = 2 });
        var a = WorkloadGenerator.Moe(t, 0, seed: 4, expertSkew: 1.0);
        var b = WorkloadGenerator.Moe(t, 0, seed: 4, expertSkew: 1.0);
        Assert.Equal(a.Flows, b.Flows);
        Assert.Equal(t.EndpointCount * WorkloadGenerator.NodesPerToken, a.Flows.Count);
        Assert.Equal(t.EndpointCount * 128.0 * 8 * 7168, a.TotalBytes, 0);
        var combine = WorkloadGenerator.Moe(t, 0, seed: 4, combine: true);
        Assert.Equal(2 * a.TotalBytes, combine.TotalBytes, 0);
        // Same plane only: NIC i to NIC i.
        Assert.All(a.Flows, f => Assert.Equal(t.Links[f.SrcLink].Plane, t.Links[f.DstLink].Plane));
        Assert.NotEmpty(WorkloadGenerator.RingAllReduce(t, 0, 1).Flows);
        Assert.NotEmpty(WorkloadGenerator.KvCache(t, 0, 1).Flows);
        Assert.NotEmpty(WorkloadGenerator.TensorParallel(t, 0, 1).Flows);
    }

    [Fact]
    public void AdaptiveLoopConvergesWithoutOscillationUnderSkew()
    {
        var t = Ft2(16);
        var r = new Random(2);
        var links = t.Links.Where(l => l.IsSwitchLink).OrderBy(_ => r.Next()).Take(8).Select(l => new KeyValuePair<int, ElementState>(l.Id, new ElementState(ElementStatus.Down)));
        var snap = FabricSnapshot.Initial(t).With(links);
        var policy = TrafficPolicy.Single("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive);
        var w = WorkloadGenerator.Moe(t, 0, seed: 9, expertSkew: 1.2);
        var ap = new AdaptivePolicy();
        var state = AdaptiveState.Initial(t.Links.Count);
        var routes = RoutingEngine.Compute(snap, policy);
        var res = Emulator.Run(routes, w);
        var mlu = new List<double> { res.Report.MaxFabricUtilization };
        for (var i = 0; i < 12; i++)
        {
            state = AdaptiveController.Step(state, snap, res.Utilization, ap);
            var next = RoutingEngine.Compute(snap, policy, options: new RoutingOptions { Adaptive = state.Weigher, Version = routes.Version + 1 });
            var limited = AdaptiveController.LimitChange(routes, next, ap.MaxBucketChangePerStep);
            // Rate limit: no group moved more than the budget.
            foreach (var sw in t.Switches)
                foreach (var d in routes.Destinations(0))
                {
                    var a = routes.Lookup(sw.Id, d, 0);
                    var b = limited.Lookup(sw.Id, d, 0);
                    if (a.Kind != RouteKind.Forward || b.Kind != RouteKind.Forward || !a.Ports.Span.SequenceEqual(b.Ports.Span)) continue;
                    var moved = 0;
                    for (var k = 0; k < a.Weights.Length; k++) moved += Math.Abs(a.Weights.Span[k] - b.Weights.Span[k]);
                    Assert.True(moved / 2 <= ap.MaxBucketChangePerStep, $"moved {moved / 2} buckets");
                }
            routes = limited;
            res = Emulator.Run(routes, w);
            mlu.Add(res.Report.MaxFabricUtilization);
        }
        // Under expert skew the hot spot is a destination's ingress (at the bound): the loop must not make it worse.
        Assert.True(mlu[^1] <= mlu[0] * 1.03, string.Join(" ", mlu));
        // Converged: the last steps barely move (no oscillation).
        var tail = mlu.Skip(mlu.Count - 4).ToList();
        Assert.True(tail.Max() - tail.Min() < 0.02 * mlu[0], string.Join(" ", mlu));
        Assert.True(res.Report.RatioToBound >= 1 - 1e-9);
    }

    [Fact]
    public void AdaptiveSteersSprayedTrafficAwayFromLinksHotWithHashedBackground()
    {
        var t = Ft2(16);
        var snap = FabricSnapshot.Initial(t);
        var policy = new TrafficPolicy { Classes = [new("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive), new("kv", ForwardingMode.Hashed, PathWeighting.Ecmp)] };
        // KV bulk flows hashed by ECMP collide on some uplinks; WCMP for EP cannot see them, the adaptive loop can.
        var w = WorkloadGenerator.Mix("ep+kv", WorkloadGenerator.Moe(t, 0, seed: 3), WorkloadGenerator.KvCache(t, 1, seed: 3, bytes: 4 << 20));
        var ap = new AdaptivePolicy();
        var state = AdaptiveState.Initial(t.Links.Count);
        var routes = RoutingEngine.Compute(snap, policy);
        var res = Emulator.Run(routes, w, new EmulatorOptions { MaxMinRates = false });
        var mlu = new List<double> { res.Report.MaxFabricUtilization };
        for (var i = 0; i < 10; i++)
        {
            state = AdaptiveController.Step(state, snap, res.Utilization, ap);
            var next = RoutingEngine.Compute(snap, policy, options: new RoutingOptions { Adaptive = state.Weigher, Version = routes.Version + 1 });
            routes = AdaptiveController.LimitChange(routes, next, ap.MaxBucketChangePerStep);
            res = Emulator.Run(routes, w, new EmulatorOptions { MaxMinRates = false });
            mlu.Add(res.Report.MaxFabricUtilization);
        }
        Assert.True(mlu[^1] < 0.95 * mlu[0], string.Join(" ", mlu.Select(x => x.ToString("F3"))));
        Assert.True(state.MaxMultiplierMove < 0.1, $"still moving {state.MaxMultiplierMove}");
    }

    [Fact]
    public void BadFlowsNameTheField()
    {
        var t = Ft2(4);
        var routes = RoutingEngine.Compute(FabricSnapshot.Initial(t), Sprayed);
        var spineLink = t.Links.First(l => l.IsSwitchLink).Id;
        var host = t.Links.First(l => !l.IsSwitchLink).Id;
        var ex = Assert.Throws<FabricInputException>(() => Emulator.Run(routes, new Workload("x", [new FlowDemand(spineLink, host, 0, 1)])));
        Assert.Equal("flows.srcLink", ex.Errors[0].Field);
        ex = Assert.Throws<FabricInputException>(() => Emulator.Run(routes, new Workload("x", [new FlowDemand(host, host, 3, 1)])));
        Assert.Equal("flows.classIndex", ex.Errors[0].Field);
    }

    /// <summary>The bound is certified: no routing we have beats it, on random fabrics with random failures.</summary>
    [Property(MaxTest = 250)]
    public Property NoRoutingBeatsTheLowerBound(int seed)
    {
        var r = new Random(seed);
        var kind = r.Next(3) switch { 0 => TopologyKind.Ft2, 1 => TopologyKind.Ft3, _ => TopologyKind.Mpft };
        var radix = kind == TopologyKind.Ft3 ? 2 * r.Next(2, 5) : 2 * r.Next(2, 9);
        var p = new GeneratorParameters { Kind = kind, Radix = radix, NicsPerNode = kind == TopologyKind.Mpft ? 2 : 1, GpusPerNode = 1, Planes = kind == TopologyKind.Mpft ? 2 : null };
        var t = FabricGenerator.Generate(p);
        var frac = r.NextDouble() * 0.2;
        var snap = FabricSnapshot.Initial(t).With(t.Links.Where(l => l.IsSwitchLink && r.NextDouble() < frac).Select(l => new KeyValuePair<int, ElementState>(l.Id, new ElementState(ElementStatus.Down))));
        var w = r.Next(2) == 0 ? WorkloadGenerator.Moe(t, 0, seed, expertSkew: r.NextDouble()) : WorkloadGenerator.Permutation(t, 0, seed);
        foreach (var (weighting, mode) in new[] { (PathWeighting.Ecmp, ForwardingMode.Hashed), (PathWeighting.Ecmp, ForwardingMode.Sprayed), (PathWeighting.Wcmp, ForwardingMode.Sprayed) })
        {
            var rep = Emulator.Run(RoutingEngine.Compute(snap, Sprayed, options: new RoutingOptions { ForceWeighting = weighting, ForceMode = mode }), w, new EmulatorOptions { MaxMinRates = false }).Report;
            if (rep.MaxFabricUtilization < rep.LowerBoundUtilization * (1 - 1e-9))
                return false.Label($"{weighting}/{mode}: MLU {rep.MaxFabricUtilization} below bound {rep.LowerBoundUtilization} ({rep.LowerBoundCut})");
            if (rep.CompletionSeconds < rep.LowerBoundCompletionSeconds * (1 - 1e-9))
                return false.Label($"{weighting}/{mode}: completion below bound");
        }
        return true.ToProperty();
    }
}
