using ControlPlane.Fabric.Validation;

namespace ControlPlane.Fabric.Tests.Validation;

public class TopologyValidatorTests
{
    private static FabricTopology Mpft() => FabricGenerator.Generate(new GeneratorParameters
    {
        Kind = TopologyKind.Mpft, Radix = 8, Planes = 2, NicsPerNode = 2, LeavesPerPlane = 6, Name = "v",
    });

    private static ProblemKind[] Kinds(FabricTopology t) => TopologyValidator.Validate(t).Select(p => p.Kind).Distinct().Order().ToArray();

    [Theory]
    [InlineData(TopologyKind.Ft2)]
    [InlineData(TopologyKind.Mpft)]
    [InlineData(TopologyKind.Ft3)]
    [InlineData(TopologyKind.RailOptimized)]
    public void Generated_fabrics_are_clean(TopologyKind kind) => Assert.Empty(TopologyValidator.Validate(Fabrics.Generate(kind)));

    [Fact]
    public void Duplicate_name() => Assert.Equal([ProblemKind.DuplicateName], Kinds(Faults.DuplicateName(Mpft())));

    [Fact]
    public void Port_reused()
    {
        var problems = TopologyValidator.Validate(Faults.ReusePort(Mpft()));
        var p = Assert.Single(problems);
        Assert.Equal(ProblemKind.PortUsedTwice, p.Kind);
        Assert.Equal(ElementType.Link, p.ElementType);
        Assert.Matches(@"already cabled by link \d+ \(node-\d+/mlx5_\d+ -- p\d-leaf-\d+/\d+\)", p.Message);
    }

    [Fact]
    public void Nic_unplugged()
    {
        var p = Assert.Single(TopologyValidator.Validate(Faults.UnplugNic(Mpft())));
        Assert.Equal(ProblemKind.UnconnectedEndpoint, p.Kind);
        Assert.Equal("node-00000/mlx5_0", p.Element);
    }

    [Fact]
    public void Speed_mismatch() => Assert.Equal([ProblemKind.SpeedMismatch], Kinds(Faults.SpeedMismatch(Mpft())));

    [Fact]
    public void Leaf_to_leaf() => Assert.Equal([ProblemKind.TierViolation], Kinds(Faults.LeafToLeaf(Mpft())));

    [Fact]
    public void Cross_plane() => Assert.Equal([ProblemKind.CrossPlaneLink], Kinds(Faults.CrossPlane(Mpft())));

    [Fact]
    public void Host_on_a_spine_and_skipped_tier()
    {
        // Half the pods: core ports pods+1.. are free.
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft3, Radix = 8, Pods = 4, NicsPerNode = 1, Name = "t" });
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine);
        var core = t.Switches.First(s => s.Tier == SwitchTier.Core);
        var bad = Faults.WithLinks(t, ls =>
        {
            var onSpine = ls.FindIndex(l => l.B == LinkEnd.OnSwitch(spine.Id, 1));
            var h = ls.FindIndex(l => l.Role == LinkRole.Host);
            ls[h] = ls[h] with { B = LinkEnd.OnSwitch(spine.Id, 1) };
            var u = ls.FindIndex(l => l.Role == LinkRole.LeafSpine && l.B.Device != spine.Id);
            ls[u] = ls[u] with { B = LinkEnd.OnSwitch(core.Id, core.Radix) };
            ls.RemoveAt(onSpine);
            return ls;
        });
        var problems = TopologyValidator.Validate(bad);
        Assert.Contains(problems, p => p.Kind == ProblemKind.TierViolation && p.Message.Contains("host on a spine"));
        Assert.Contains(problems, p => p.Kind == ProblemKind.TierViolation && p.Message.Contains("skips a tier"));
    }

    [Fact]
    public void Unknown_device_and_out_of_range_port()
    {
        var bad = Faults.WithLinks(Mpft(), ls =>
        {
            ls[0] = ls[0] with { B = LinkEnd.OnSwitch(ls[0].B.Device, 99) };
            ls[1] = ls[1] with { B = LinkEnd.OnSwitch(100_000, 1) };
            ls[2] = ls[2] with { A = LinkEnd.OnHost(0, 7) };
            return ls;
        });
        var unknown = TopologyValidator.Validate(bad).Where(p => p.Kind == ProblemKind.UnknownPort).ToList();
        Assert.Equal(3, unknown.Count);
        Assert.Contains(unknown, p => p.Message.Contains("not 99"));
    }

    [Fact]
    public void Unconnected_switch_and_leaf_without_uplink()
    {
        var t = Mpft();
        var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf).Id;
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine).Id;
        var bad = Faults.WithLinks(t, ls => ls.Where(l => !(l.IsSwitchLink && (l.A.Device == leaf || l.B.Device == spine))).ToList());
        var p = TopologyValidator.Validate(bad).Where(x => x.Kind == ProblemKind.UnconnectedSwitch).ToList();
        Assert.Contains(p, x => x.ElementId == spine && x.Message.Contains("no link at all"));
        Assert.Contains(p, x => x.ElementId == leaf && x.Message.Contains("no uplink"));
    }

    [Fact]
    public void Cable_longer_than_its_medium_reaches()
    {
        var bad = Faults.WithLinks(Mpft(), ls =>
        {
            var i = ls.FindIndex(l => l.Role == LinkRole.Host);
            ls[i] = ls[i] with { Medium = MediumKind.PassiveDac, LengthM = 20 };
            return ls;
        });
        var p = Assert.Single(TopologyValidator.Validate(bad));
        Assert.Equal(ProblemKind.ReachExceeded, p.Kind);
        Assert.Contains("use Aoc", p.Message);
    }

    [Fact]
    public void Leaf_to_leaf_cable_in_an_ibnetdiscover_import_is_a_tier_violation()
    {
        var t = Fabrics.SmallMpft();
        // Re-plug one leaf's uplink into another leaf's free-made port, in the discovered text.
        var bad = Faults.LeafToLeaf(t);
        var back = ControlPlane.Fabric.Serialization.IbNetDiscover.Parse(ControlPlane.Fabric.Serialization.IbNetDiscover.Write(bad), "seen");
        Assert.Contains(TopologyValidator.Validate(back), x => x.Kind == ProblemKind.TierViolation && x.Message.Contains("both leaves"));
    }

    [Fact]
    public void Finds_every_problem_not_just_the_first()
    {
        var t = Faults.SpeedMismatch(Faults.UnplugNic(Faults.DuplicateName(Mpft())));
        Assert.Equal([ProblemKind.DuplicateName, ProblemKind.SpeedMismatch, ProblemKind.UnconnectedEndpoint], Kinds(t));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Full_ft3_of_65536_endpoints_is_clean()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft3, NicsPerNode = 8 });
        Assert.Equal(65_536, t.EndpointCount);
        Assert.Empty(TopologyValidator.Validate(t));
    }
}
