using ControlPlane.Distribution;
using ControlPlane.Emulation;
using ControlPlane.Fabric;
using ControlPlane.Routing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ControlPlane.Agent.Tests;

/// <summary>The emulator over installed tables (the adapter) agrees with the emulator over the engine's result.</summary>
public sealed class InstalledTablesTests
{
    private static Workload Mixed(FabricTopology t, int seed) => WorkloadGenerator.Mix("mixed",
        WorkloadGenerator.Moe(t, 0, seed),                       // ep: sprayed, adaptive
        WorkloadGenerator.TensorParallel(t, 1, seed),            // tp: hashed, pinned
        WorkloadGenerator.KvCache(t, 2, seed, 8 << 20),          // kv: sprayed, residual
        WorkloadGenerator.Permutation(t, 3, seed, 4 << 20));     // other: hashed WCMP

    /// <summary>
    /// For tables exported with RoutingExport (as distribution sends them and agents install them), emulating via the
    /// adapter gives the same per-link loads and undelivered bytes as emulating the RoutingResult, on random FT2/MPFT
    /// fabrics with random switch-link failures.
    /// </summary>
    [Property(MaxTest = 40)]
    public Property Emulating_exported_tables_gives_the_engines_link_loads(int seed)
    {
        var r = new Random(seed);
        var mpft = r.Next(2) == 0;
        var p = new GeneratorParameters { Kind = mpft ? TopologyKind.Mpft : TopologyKind.Ft2, Radix = 2 * r.Next(2, 5), NicsPerNode = mpft ? 2 : 1, GpusPerNode = mpft ? 2 : 1, Planes = mpft ? 2 : null };
        var t = FabricGenerator.Generate(p);
        var frac = r.NextDouble() * 0.2;
        var snap = FabricSnapshot.Initial(t).With(t.Links.Where(l => l.IsSwitchLink && r.NextDouble() < frac).Select(l => new KeyValuePair<int, ElementState>(l.Id, new ElementState(ElementStatus.Down))));
        var result = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        var tables = RoutingExport.All(result);
        var view = InstalledTables.Build(snap, TrafficPolicy.Default, result.GroupSize, tables);
        var w = Mixed(t, seed);
        var a = Emulator.Run(result, w, new EmulatorOptions { MaxMinRates = false });
        var b = Emulator.Run(view, w, new EmulatorOptions { MaxMinRates = false });
        for (var l = 0; l < t.Links.Count; l++)
        {
            if (!Close(a.Utilization.AToB[l], b.Utilization.AToB[l]) || !Close(a.Utilization.BToA[l], b.Utilization.BToA[l]))
                return false.Label($"link {l}: engine {a.Utilization.AToB[l]}/{a.Utilization.BToA[l]} vs installed {b.Utilization.AToB[l]}/{b.Utilization.BToA[l]}");
        }
        return (Close(a.Report.UndeliveredBytes, b.Report.UndeliveredBytes) && Close(a.Report.MaxFabricUtilization, b.Report.MaxFabricUtilization))
            .Label($"undelivered {a.Report.UndeliveredBytes} vs {b.Report.UndeliveredBytes}, MLU {a.Report.MaxFabricUtilization} vs {b.Report.MaxFabricUtilization}");
    }

    private static bool Close(double x, double y) => Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y)));

    [Fact]
    public void A_dead_member_is_skipped_and_weights_rescaled_a_switch_without_a_table_forwards_nothing()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, GpusPerNode = 1, NicsPerNode = 1 });
        var snap = FabricSnapshot.Initial(t);
        var result = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        var tables = RoutingExport.All(result);
        var leaf0 = t.Switches.First(s => s.Tier == SwitchTier.Leaf);
        var leaf1 = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).Skip(1).First();
        Assert.Equal(RouteKind.Forward, InstalledTables.Build(snap, TrafficPolicy.Default, 64, tables).TryGetGroup(leaf0.Id, leaf1.Id, 0, out var ports, out _));
        var up = t.LinkAtSwitchPort(leaf0.Id, ports[0]);

        // The physical link under the first member dies: the installed group still names it; the emulator must not use it.
        var broken = snap.WithLink(up, new ElementState(ElementStatus.Down));
        var view = InstalledTables.Build(broken, TrafficPolicy.Default, 64, tables);
        Assert.Equal(RouteKind.Forward, view.TryGetGroup(leaf0.Id, leaf1.Id, 0, out var live, out var weights));
        Assert.DoesNotContain(ports[0], live.ToArray());
        Assert.Equal(ports.Length - 1, live.Length);
        var sum = 0;
        foreach (var x in weights) sum += x;
        Assert.Equal(64, sum);
        Assert.True(view.DeadMembers > 0);

        // A switch whose data plane holds nothing: no route from it; toward it the others still forward.
        var without = tables.Where(kv => kv.Key != leaf0.Name).ToDictionary();
        var partial = InstalledTables.Build(snap, TrafficPolicy.Default, 64, without);
        Assert.Equal(RouteKind.NoRoute, partial.TryGetGroup(leaf0.Id, leaf1.Id, 0, out _, out _));
        Assert.Equal(RouteKind.Forward, partial.TryGetGroup(leaf1.Id, leaf0.Id, 0, out _, out _));
        var w = WorkloadGenerator.AllToAll(t, 0);
        Assert.True(Emulator.Run(partial, w, new EmulatorOptions { MaxMinRates = false }).Report.UndeliveredBytes > 0);

        // Unknown class names and destinations are ignored, not fatal.
        var odd = new Dictionary<string, SwitchTable>(tables)
        {
            [leaf0.Name] = new SwitchTableBuilder(leaf0.Name, 9, 64).Local("nowhere", "ep").Local(leaf1.Name, "bulk").Build(),
        };
        Assert.Equal(2, InstalledTables.Build(snap, TrafficPolicy.Default, 64, odd).IgnoredRoutes);
        Assert.Equal("groupSize", Assert.Throws<FabricInputException>(() => InstalledTables.Build(snap, TrafficPolicy.Default, 0, tables)).Errors[0].Field);
    }
}
