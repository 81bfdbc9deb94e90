using ControlPlane.Distribution;
using ControlPlane.Fabric;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>The service's fast export gives exactly the tables of <see cref="RoutingExport.ForSwitch"/>, group ids included, along chains of failures and congestion steps.</summary>
public sealed class TableExportTests
{
    public static TheoryData<TopologyKind, int> Cases() => new() { { TopologyKind.Ft2, 1 }, { TopologyKind.Ft2, 2 }, { TopologyKind.Mpft, 3 }, { TopologyKind.Mpft, 4 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_export_equals_the_reference_export_along_a_chain_of_changes(TopologyKind kind, int seed)
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Name = "x", Kind = kind, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });
        var rng = new Random(seed);
        var snap = FabricSnapshot.Initial(t);
        var result = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        var fast = new SwitchTable?[t.Switches.Count];
        var reference = new SwitchTable?[t.Switches.Count];
        var state = AdaptiveState.Initial(t.Links.Count);
        var switchLinks = t.Links.Where(l => l.IsSwitchLink).ToList();
        for (var step = 0; step < 12; step++)
        {
            for (var s = 0; s < t.Switches.Count; s++)
            {
                var f = TableExport.ForSwitch(result, s, fast[s]);
                var r = RoutingExport.ForSwitch(result, s, reference[s]);
                Assert.Equal(r, f);
                Assert.Equal(r.Groups.Keys.ToArray(), f.Groups.Keys.ToArray());
                fast[s] = f;
                reference[s] = r;
            }
            if (step % 3 == 2)
            {
                // A congestion step: random loads, limited change.
                var a = t.Links.Select(_ => rng.NextDouble()).ToArray();
                var b = t.Links.Select(_ => rng.NextDouble()).ToArray();
                var loads = new LinkLoads(a, b);
                state = AdaptiveController.Step(state, snap, loads, new AdaptivePolicy());
                var (next, _) = RoutingEngine.Update(result, snap, loads, result.Options with { Adaptive = state.Weigher });
                result = AdaptiveController.LimitChange(result, next, 8);
            }
            else
            {
                // A link fails or comes back.
                var link = switchLinks[rng.Next(switchLinks.Count)];
                var down = snap.LinkState(link.Id).CarriesTraffic;
                snap = snap.WithLink(link.Id, new ElementState(down ? ElementStatus.Down : ElementStatus.Up));
                (result, _) = RoutingEngine.Update(result, snap);
            }
        }
    }
}
