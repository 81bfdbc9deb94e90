using ControlPlane.Fabric.Validation;
using FsCheck;
using FsCheck.Xunit;

namespace ControlPlane.Fabric.Tests.Planning;

/// <summary>Properties over radix, planes and oversubscription: closed-form counts, sound cabling, faults found.</summary>
public class GeneratorProperties
{
    private static (int Radix, int Planes, int Over) Pick(int a, int b, int c, int maxRadix = 64) =>
        (4 + 2 * Mod(a, (maxRadix - 4) / 2 + 1), 1 + Mod(b, 8), 1 + Mod(c, 3));

    private static int Mod(int x, int m) => ((x % m) + m) % m;

    [Property(MaxTest = 25)]
    public void Mpft_counts_match_closed_form_and_fabric_is_sound(int a, int b, int c)
    {
        var (k, planes, o) = Pick(a, b, c);
        var p = new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = k, Planes = planes, NicsPerNode = planes, Oversubscription = o, Name = "prop" };
        var t = FabricGenerator.Generate(p);
        var down = (int)Math.Round(k * o / (o + 1.0));
        var up = k - down;

        Assert.Equal(planes * k * down, t.EndpointCount);
        Assert.Equal(k * down, t.Hosts.Count);
        Assert.Equal(planes * (k + up), t.Switches.Count);
        Assert.Equal(planes * k * up, t.SwitchLinkCount);
        Assert.Equal(planes * k * down, t.Links.Count(l => l.Role == LinkRole.Host));
        AssertSound(t);
    }

    [Property(MaxTest = 12)]
    public void Ft3_counts_match_closed_form_and_fabric_is_sound(int a, int c)
    {
        var (k, _, o) = Pick(a, 0, c, maxRadix: 16);
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft3, Radix = k, NicsPerNode = 1, Oversubscription = o, Name = "prop" });
        var down = (int)Math.Round(k * o / (o + 1.0));
        var up = k - down;

        Assert.Equal(k * (k / 2) * down, t.EndpointCount);
        Assert.Equal(k * (k / 2 + up) + up * (k / 2), t.Switches.Count);
        Assert.Equal(k * (k / 2) * up, t.Links.Count(l => l.Role == LinkRole.LeafSpine));
        Assert.Equal(k * up * (k / 2), t.Links.Count(l => l.Role == LinkRole.SpineCore));
        AssertSound(t);
    }

    [Property(MaxTest = 20)]
    public void Injected_faults_are_each_reported_with_their_kind(int a, int b)
    {
        var (k, planes, _) = Pick(a, b, 0, maxRadix: 16);
        planes = Math.Max(2, planes);
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = k, Planes = planes, NicsPerNode = planes, LeavesPerPlane = k - 1, Name = "prop" });

        Assert.Equal([ProblemKind.DuplicateName], Kinds(Faults.DuplicateName(t)));
        Assert.Equal([ProblemKind.PortUsedTwice], Kinds(Faults.ReusePort(t)));
        Assert.Equal([ProblemKind.CrossPlaneLink], Kinds(Faults.CrossPlane(t)));
        Assert.Equal([ProblemKind.TierViolation], Kinds(Faults.LeafToLeaf(t)));
        Assert.Equal([ProblemKind.UnconnectedEndpoint], Kinds(Faults.UnplugNic(t)));
        Assert.Equal([ProblemKind.SpeedMismatch], Kinds(Faults.SpeedMismatch(t)));
    }

    private static ProblemKind[] Kinds(FabricTopology t) => TopologyValidator.Validate(t).Select(p => p.Kind).Distinct().Order().ToArray();

    private static void AssertSound(FabricTopology t)
    {
        // Every port at most once, independently of the topology's own index.
        var used = new HashSet<(bool, int, int)>();
        foreach (var l in t.Links)
        {
            Assert.True(used.Add((l.A.IsHost, l.A.Device, l.A.Port)), $"{t.Describe(l.A)} used twice");
            Assert.True(used.Add((l.B.IsHost, l.B.Device, l.B.Port)), $"{t.Describe(l.B)} used twice");
        }
        foreach (var h in t.Hosts)
            for (var n = 0; n < h.Nics.Count; n++) Assert.True(t.LinkAtHostNic(h.Id, n) >= 0, $"{h.Name}/mlx5_{n} not cabled");
        Assert.Empty(TopologyValidator.Validate(t));
    }
}
