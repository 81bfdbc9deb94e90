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
                Assert.Equal(r.Groups.Keys, f.Groups.Keys);
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

/// <summary>Patching the previous table with the engine's delta forwards exactly as a full export.</summary>
public sealed class TablePatchTests
{
    [Theory]
    [MemberData(nameof(TableExportTests.Cases), MemberType = typeof(TableExportTests))]
    public void Patched_tables_forward_as_full_exports_along_a_chain_of_failures_and_repairs(TopologyKind kind, int seed)
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Name = "x", Kind = kind, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });
        var rng = new Random(seed);
        var snap = FabricSnapshot.Initial(t);
        var result = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        var patched = t.Switches.Select(s => TableExport.ForSwitch(result, s.Id)).ToArray();
        var switchLinks = t.Links.Where(l => l.IsSwitchLink).ToList();
        var changedSomething = 0;
        for (var step = 0; step < 16; step++)
        {
            // Links fail and come back, and now and then a whole switch is drained.
            if (step % 5 == 4)
            {
                var sw = t.Switches[rng.Next(t.Switches.Count)];
                snap = snap.WithSwitch(sw.Id, new ElementState(snap.SwitchState(sw.Id).CarriesTraffic ? ElementStatus.Drained : ElementStatus.Up));
            }
            else
            {
                var link = switchLinks[rng.Next(switchLinks.Count)];
                snap = snap.WithLink(link.Id, new ElementState(snap.LinkState(link.Id).CarriesTraffic ? ElementStatus.Down : ElementStatus.Up));
            }
            var (next, deltas) = RoutingEngine.Update(result, snap);
            result = next;
            foreach (var d in deltas)
            {
                var before = patched[d.SwitchId];
                patched[d.SwitchId] = TableExport.Patch(result, before, d);
                // Routes the delta does not name keep their group ids.
                foreach (var (k, r) in before.Routes)
                    if (!d.Changes.Any(c => t.Switches[c.Destination].Name == k.Destination && result.Policy.Classes[c.ClassIndex].Name == k.TrafficClass))
                        Assert.Equal(r, patched[d.SwitchId].Routes[k]);
                changedSomething++;
            }
            foreach (var s in t.Switches)
            {
                var full = TableExport.ForSwitch(result, s.Id);
                var p = patched[s.Id];
                Assert.Empty(p.Validate(s.Radix));
                Assert.Equal(full.Routes.Keys, p.Routes.Keys);
                foreach (var (k, r) in full.Routes)
                {
                    Assert.Equal(r.Mode, p.Routes[k].Mode);
                    Assert.Equal(r.GroupId == SwitchTable.LocalGroup, p.Routes[k].GroupId == SwitchTable.LocalGroup);
                    Assert.Equal(full.PortsOf(k).Select(x => (x, full.Groups[r.GroupId].Members.First(m => m.Port == x).Weight)),
                        p.PortsOf(k).Select(x => (x, p.Groups[p.Routes[k].GroupId].Members.First(m => m.Port == x).Weight)));
                }
                // No group is left behind unused.
                Assert.Equal(p.Groups.Keys.Order(), p.Routes.Values.Select(r => r.GroupId).Where(g => g != SwitchTable.LocalGroup).Distinct().Order());
            }
        }
        Assert.True(changedSomething > 0);
    }
}
