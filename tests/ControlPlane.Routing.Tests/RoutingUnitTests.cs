using ControlPlane.Fabric;

namespace ControlPlane.Routing.Tests;

public class RoutingUnitTests
{
    private static FabricTopology Ft2(int radix = 8) => FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = radix, NicsPerNode = 1, GpusPerNode = 1 });

    [Fact]
    public void SpineThatLostItsLinkToLeafGetsNoTrafficForThatLeaf()
    {
        var t = Ft2();
        var leafM = t.FindSwitch("leaf-3");
        var spine = t.FindSwitch("spine-1");
        var link = t.LinkAtSwitchPort(spine, 3 + 1);
        var snap = FabricSnapshot.Initial(t).WithLink(link, new ElementState(ElementStatus.Down));
        var res = RoutingEngine.Compute(snap, TrafficPolicy.Single("w", ForwardingMode.Sprayed, PathWeighting.Wcmp));
        var leaf0 = t.FindSwitch("leaf-0");
        var g = res.Lookup(leaf0, leafM, 0);
        var down = t.Parameters!.LeafDownPorts;
        Assert.Equal(RouteKind.Forward, g.Kind);
        Assert.DoesNotContain(down + 1 + 1, g.Ports.ToArray()); // port toward spine-1
        Assert.Equal(t.Parameters.LeafUpPorts - 1, g.Ports.Length);
        Assert.Equal(64, g.Weights.ToArray().Sum());
        // Other destinations still use spine-1.
        Assert.Contains(down + 1 + 1, res.Lookup(leaf0, t.FindSwitch("leaf-2"), 0).Ports.ToArray());
        // The spine itself still has a (fallback) route to leaf-3, so a packet in flight is not dropped.
        Assert.Equal(RouteKind.Forward, res.Lookup(spine, leafM, 0).Kind);
    }

    [Fact]
    public void WcmpShiftsWeightTowardSpinesThatLostLeavesInFt2()
    {
        var t = Ft2();
        var spine0 = t.FindSwitch("spine-0");
        // spine-0 loses leaf-5 and leaf-6: the remaining leaves may send it more (fair share is larger).
        var snap = FabricSnapshot.Initial(t)
            .WithLink(t.LinkAtSwitchPort(spine0, 6), new ElementState(ElementStatus.Down))
            .WithLink(t.LinkAtSwitchPort(spine0, 7), new ElementState(ElementStatus.Down));
        var res = RoutingEngine.Compute(snap, TrafficPolicy.Single("w", ForwardingMode.Sprayed, PathWeighting.Wcmp));
        var g = res.Lookup(t.FindSwitch("leaf-0"), t.FindSwitch("leaf-1"), 0);
        var w = g.Weights.ToArray();
        Assert.True(w[0] > w[1], $"weights {string.Join(",", w)}");
        var ecmp = RoutingEngine.Compute(snap, TrafficPolicy.Single("e", ForwardingMode.Hashed, PathWeighting.Ecmp)).Lookup(t.FindSwitch("leaf-0"), t.FindSwitch("leaf-1"), 0);
        Assert.True(ecmp.Weights.ToArray().Max() - ecmp.Weights.ToArray().Min() <= 1);
    }

    [Fact]
    public void Ft3WeightsFollowSpineUplinkCapacity()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft3, Radix = 8, NicsPerNode = 1, GpusPerNode = 1 });
        var spine = t.FindSwitch("pod0-spine-0");
        // Kill 2 of its 4 core links.
        var snap = FabricSnapshot.Initial(t)
            .WithLink(t.LinkAtSwitchPort(spine, 5), new ElementState(ElementStatus.Down))
            .WithLink(t.LinkAtSwitchPort(spine, 6), new ElementState(ElementStatus.Down));
        var res = RoutingEngine.Compute(snap, TrafficPolicy.Single("w", ForwardingMode.Sprayed, PathWeighting.Wcmp), options: new RoutingOptions { GroupSize = 120 });
        var g = res.Lookup(t.FindSwitch("pod0-leaf-0"), t.FindSwitch("pod3-leaf-1"), 0);
        var w = g.Weights.ToArray();
        Assert.Equal(4, w.Length);
        Assert.Equal(w[1] / 2.0, w[0], 1.0); // half the uplink capacity, half the weight
    }

    [Fact]
    public void BucketNormalizationSumsExactlyAndKeepsEveryMember()
    {
        var w = new int[5];
        BucketWeights.Normalize([1000, 1, 1, 1, 1], w, 16);
        Assert.Equal(16, w.Sum());
        Assert.All(w, x => Assert.True(x >= 1));
        BucketWeights.Normalize([1, 1, 1, 0.5, 0.5], w, 64);
        Assert.Equal(64, w.Sum());
        Assert.Equal(16 + 16 + 16 + 8 + 8, w.Sum());
        Assert.Equal(16, w[0]);
        Assert.Equal(8, w[4]);
    }

    [Fact]
    public void InvalidPolicyAndOptionsNameTheField()
    {
        var snap = FabricSnapshot.Initial(Ft2(4));
        var bad = new TrafficPolicy { Classes = [new("a", ForwardingMode.Hashed, PathWeighting.Ecmp), new("a", ForwardingMode.Hashed, PathWeighting.Pinned, 0)] };
        var ex = Assert.Throws<FabricInputException>(() => RoutingEngine.Compute(snap, bad, options: new RoutingOptions { GroupSize = 0 }));
        Assert.Contains(ex.Errors, e => e.Field == "policy.classes[1].name");
        Assert.Contains(ex.Errors, e => e.Field == "policy.classes[1].pinnedPaths");
        Assert.Contains(ex.Errors, e => e.Field == "options.groupSize");
        var ex2 = Assert.Throws<FabricInputException>(() => RoutingEngine.Compute(snap, TrafficPolicy.Default, LinkLoads.Idle(3)));
        Assert.Contains(ex2.Errors, e => e.Field == "loads");
    }

    [Fact]
    public void PinnedPicksLeastLoadedMembers()
    {
        var t = Ft2();
        var loads = LinkLoads.Idle(t.Links.Count);
        var leaf0 = t.FindSwitch("leaf-0");
        var down = t.Parameters!.LeafDownPorts;
        for (var j = 0; j < t.Parameters.LeafUpPorts; j++) loads.AToB[t.LinkAtSwitchPort(leaf0, down + 1 + j)] = j == 2 ? 0.1 : 0.9;
        var res = RoutingEngine.Compute(FabricSnapshot.Initial(t), TrafficPolicy.Single("tp", ForwardingMode.Hashed, PathWeighting.Pinned), loads);
        var g = res.Lookup(leaf0, t.FindSwitch("leaf-5"), 0);
        Assert.Equal([down + 3], g.Ports.ToArray());
        Assert.Equal([64], g.Weights.ToArray());
    }

    [Fact]
    public void TablesDocumentListsGroupsAndRoutes()
    {
        var t = Ft2(4);
        var res = RoutingEngine.Compute(FabricSnapshot.Initial(t), TrafficPolicy.Default);
        var doc = RoutingTablesDocument.From(res, [t.FindSwitch("leaf-0")]);
        var sw = Assert.Single(doc.Switches);
        Assert.Equal("leaf-0", sw.Name);
        Assert.Equal(4 * TrafficPolicy.Default.Classes.Count, sw.Routes.Count);
        Assert.All(sw.Groups, g => Assert.Equal(64, g.Members.Sum(m => m.Weight)));
        Assert.Contains(sw.Routes, r => r.Kind == "local");
        var json = System.Text.Json.JsonSerializer.Serialize(doc);
        Assert.Contains("\"Routes\"", json);
    }

    [Fact]
    public void PlaneHealthReportsLostCapacityPerNode()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = 8, Planes = 2, NicsPerNode = 2, GpusPerNode = 2 });
        var leaf = t.FindSwitch("p1-leaf-0");
        var snap = FabricSnapshot.Initial(t).WithLink(t.LinkAtSwitchPort(leaf, 5), new ElementState(ElementStatus.Down));
        var res = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        Assert.Equal(1.0, res.PlaneHealth[0].MinNodeCapacityFraction);
        Assert.Equal(0.75, res.PlaneHealth[1].MinNodeCapacityFraction, 6);
        Assert.True(res.PlaneHealth[1].SwitchLinkCapacityFraction < 1);
        Assert.Equal(0, res.PlaneHealth[1].UnreachablePairs);
    }
}

public class AdaptiveControllerTests
{
    [Fact]
    public void LimitChangeDropsDeadMembersAtOnceAndKeepsSafety()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, NicsPerNode = 1, GpusPerNode = 1 });
        var policy = TrafficPolicy.Single("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive);
        var snap = FabricSnapshot.Initial(t);
        var before = RoutingEngine.Compute(snap, policy);
        // A link fails and the controller wants a big shift elsewhere: safety moves happen now, the rest is limited.
        var leaf0 = t.FindSwitch("leaf-0");
        var dead = t.LinkAtSwitchPort(leaf0, 5);
        var failed = snap.WithLink(dead, new ElementState(ElementStatus.Down));
        var m = Enumerable.Repeat(1.0, t.Links.Count).ToArray();
        m[t.LinkAtSwitchPort(leaf0, 6)] = 0.1;
        var next = RoutingEngine.Compute(failed, policy, options: new RoutingOptions { Adaptive = new MultiplierWeigher(m, Enumerable.Repeat(1.0, t.Links.Count).ToArray()) });
        var limited = AdaptiveController.LimitChange(before, next, maxBuckets: 2);
        Assert.Null(SafetyProperties.Violation(limited));
        var g = limited.Lookup(leaf0, t.FindSwitch("leaf-3"), 0);
        Assert.DoesNotContain(5, g.Ports.ToArray());
        var w6 = g.Weights.Span[g.Ports.Span.IndexOf(6)];
        Assert.True(w6 >= 64 / 4 - 2, $"port 6 dropped to {w6}: more than the 2-bucket limit");
    }

    [Fact]
    public void StepIgnoresTheDeadBandAndRemembersHotLinks()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 4, NicsPerNode = 1, GpusPerNode = 1 });
        var snap = FabricSnapshot.Initial(t);
        var leaf0 = t.FindSwitch("leaf-0");
        var l1 = t.LinkAtSwitchPort(leaf0, 3);
        var l2 = t.LinkAtSwitchPort(leaf0, 4);
        var loads = LinkLoads.Idle(t.Links.Count);
        loads.AToB[l1] = 0.51; loads.AToB[l2] = 0.49; // inside the dead band
        var s1 = AdaptiveController.Step(AdaptiveState.Initial(t.Links.Count), snap, loads, new AdaptivePolicy());
        Assert.Equal(1.0, s1.Weigher.AToB[l1]);
        loads.AToB[l1] = 0.8; loads.AToB[l2] = 0.4;
        var s2 = AdaptiveController.Step(s1, snap, loads, new AdaptivePolicy());
        Assert.True(s2.HotAToB[l1]);
        Assert.True(s2.Weigher.AToB[l1] < 1 && s2.Weigher.AToB[l1] >= 0.7 - 1e-9, $"{s2.Weigher.AToB[l1]}");
        // Slightly above the mean, but below the enter threshold: stays hot (hysteresis) and keeps moving.
        loads.AToB[l1] = 0.615; loads.AToB[l2] = 0.585;
        var s3 = AdaptiveController.Step(s2, snap, loads, new AdaptivePolicy());
        Assert.True(s3.HotAToB[l1]);
        var bad = Assert.Throws<FabricInputException>(() => AdaptiveController.Step(s3, snap, loads, new AdaptivePolicy { Gain = 0 }));
        Assert.Equal("gain", bad.Errors[0].Field);
    }
}
