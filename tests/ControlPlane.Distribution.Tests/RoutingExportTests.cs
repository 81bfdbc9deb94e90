using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Distribution.Tests;

/// <summary>The routing engine's tables, exported for distribution and rolled out make-before-break.</summary>
public sealed class RoutingExportTests
{
    private static FabricSnapshot Fabric(TopologyKind kind, int radix, int? planes = null) =>
        FabricSnapshot.Initial(FabricGenerator.Generate(new GeneratorParameters
        {
            Kind = kind, Name = "t", Radix = radix, Planes = planes, NicsPerNode = planes ?? 1, GpusPerNode = planes ?? 1,
        }));

    private static List<ForwardingProblem> Problems(RoutingResult r, IReadOnlyDictionary<string, SwitchTable> installed)
    {
        var t = r.Snapshot.Topology;
        var nb = MakeBeforeBreak.Neighbors(t);
        var found = new List<ForwardingProblem>();
        foreach (var src in t.Switches.Where(s => s.Tier == SwitchTier.Leaf))
            foreach (var dst in t.Switches.Where(s => s.Tier == SwitchTier.Leaf && s.Plane == src.Plane))
                foreach (var c in r.Policy.Classes)
                    if (ForwardingCheck.Walk(installed, nb, src.Name, new RouteKey(dst.Name, c.Name)) is { } p) found.Add(p);
        return found;
    }

    [Theory]
    [InlineData(TopologyKind.Ft2, 8, null)]
    [InlineData(TopologyKind.Mpft, 6, 2)]
    [InlineData(TopologyKind.Ft3, 4, null)]
    public void Exported_tables_are_valid_and_deliver_every_leaf_to_every_leaf(TopologyKind kind, int radix, int? planes)
    {
        var snapshot = Fabric(kind, radix, planes);
        var result = RoutingEngine.Compute(snapshot, TrafficPolicy.Default);
        var tables = RoutingExport.All(result);
        Assert.Equal(snapshot.Topology.Switches.Count, tables.Count);
        foreach (var sw in snapshot.Topology.Switches)
            Assert.Empty(tables[sw.Name].Validate(sw.Radix));
        Assert.Empty(Problems(result, tables));
        var capacities = RoutingExport.Capacities(snapshot.Topology);
        Assert.All(tables, t => Assert.Empty(capacities[t.Key].Check(t.Value)));
    }

    [Fact]
    public void After_a_link_failure_exported_deltas_match_the_engine_and_group_ids_stay_stable()
    {
        var snapshot = Fabric(TopologyKind.Ft2, 8);
        var before = RoutingEngine.Compute(snapshot, TrafficPolicy.Default);
        var oldTables = RoutingExport.All(before);
        var uplink = snapshot.Topology.Links.First(l => l.Role == LinkRole.LeafSpine);
        var (after, deltas) = RoutingEngine.Update(before, snapshot.WithLink(uplink.Id, new ElementState(ElementStatus.Down, "test")));
        var newTables = RoutingExport.All(after, oldTables);

        var changedByEngine = deltas.Where(d => d.Changes.Count > 0).Select(d => d.SwitchName).ToHashSet();
        Assert.NotEmpty(changedByEngine);
        long deltaRoutes = 0, fullRoutes = 0;
        foreach (var (name, table) in newTables)
        {
            var delta = TableDiff.Compute(oldTables[name], table);
            // A switch the engine left alone keeps exactly its routes and groups.
            if (!changedByEngine.Contains(name)) Assert.True(delta.IsEmpty, $"{name} changed although the engine reported no change");
            deltaRoutes += delta.UpsertRoutes.Length + delta.RemoveRoutes.Length;
            fullRoutes += table.Routes.Count;
            // Groups with the same members keep their id.
            foreach (var g in table.Groups.Values)
                foreach (var old in oldTables[name].Groups.Values.Where(o => o.SameMembers(g)))
                    Assert.Equal(old.Id, g.Id);
            Assert.True(delta.ApplyTo(oldTables[name]).Table is { } applied && applied.Digest.SequenceEqual(table.Digest));
        }
        // The exported deltas carry exactly the route changes the engine reported, no more (no renumbering churn).
        Assert.Equal(deltas.Sum(d => d.Changes.Count), deltaRoutes);
        Assert.True(deltaRoutes < fullRoutes, $"{deltaRoutes} route changes of {fullRoutes} routes");
        Assert.Empty(Problems(after, newTables));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_spine_drain_and_its_undrain_roll_out_without_holes_or_loops_at_every_wave(bool undrain)
    {
        var healthy = Fabric(TopologyKind.Ft2, 8);
        var spine = healthy.Topology.Switches.First(s => s.Tier == SwitchTier.Spine);
        var drained = healthy.WithSwitch(spine.Id, new ElementState(ElementStatus.Drained, "maintenance"));
        var (from, to) = undrain ? (drained, healthy) : (healthy, drained);
        var before = RoutingEngine.Compute(from, TrafficPolicy.Default);
        var oldTables = RoutingExport.All(before);
        var after = RoutingEngine.Compute(to, TrafficPolicy.Default);
        var newTables = RoutingExport.All(after, oldTables).ToDictionary(kv => kv.Key, kv => kv.Value.WithVersion(oldTables[kv.Key].Version + 1));

        var plan = MakeBeforeBreak.Order(oldTables, newTables, MakeBeforeBreak.Neighbors(healthy.Topology));
        Assert.Empty(plan.Unordered);
        Assert.NotEmpty(plan.Waves);
        var installed = new Dictionary<string, SwitchTable>(oldTables);
        foreach (var wave in plan.Waves)
        {
            // Each step of the wave alone, then the whole wave: no state may have a hole or a loop.
            foreach (var step in wave.Steps)
            {
                var partial = new Dictionary<string, SwitchTable>(installed) { [step.SwitchName] = step.Table };
                var p = Problems(after, partial);
                Assert.True(p.Count == 0, $"wave {wave.Index}, {step.SwitchName} alone: {string.Join("; ", p.Take(3))}");
            }
            foreach (var step in wave.Steps) installed[step.SwitchName] = step.Table;
            Assert.Empty(Problems(after, installed));
        }
        foreach (var (name, table) in plan.FinalTables()) Assert.Equal(newTables[name].Routes, table.Routes);
    }
}
