using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Validation;

namespace ControlPlane.Fabric.Tests.Validation;

public class CablingValidatorTests
{
    private static List<DiscoveredLink> Seen(FabricTopology t) => CablingValidator.DiscoveredLinks(t).ToList();

    [Fact]
    public void Identical_cabling_is_clean_even_when_reported_from_both_ends()
    {
        var t = Fabrics.SmallMpft();
        var seen = Seen(t);
        seen.AddRange(seen.Select(d => new DiscoveredLink(d.RemoteDevice, d.RemotePort, d.LocalDevice, d.LocalPort)).ToList());
        var r = CablingValidator.Compare(t, seen);
        Assert.True(r.IsClean);
        Assert.Equal(t.Links.Count, r.Matched);
    }

    [Fact]
    public void Swapped_pair_at_a_leaf_is_found()
    {
        var t = Fabrics.SmallMpft();
        var seen = Seen(t);
        // node-00000/mlx5_0 and node-00001/mlx5_0 sit on p0-leaf-0 ports 1 and 2; plug them the other way round.
        var i = seen.FindIndex(d => d.LocalDevice == "node-00000" && d.LocalPort == 0);
        var j = seen.FindIndex(d => d.LocalDevice == "node-00001" && d.LocalPort == 0);
        (seen[i], seen[j]) = (seen[i] with { RemotePort = seen[j].RemotePort }, seen[j] with { RemotePort = seen[i].RemotePort });

        var r = CablingValidator.Compare(t, seen);

        var s = Assert.Single(r.Swapped);
        Assert.Empty(r.Missing);
        Assert.Empty(r.Unexpected);
        Assert.Empty(r.Miscabled);
        var ends = new[] { s.Planned1.A, s.Planned1.B, s.Planned2.A, s.Planned2.B };
        Assert.Contains("node-00000/mlx5_0", ends);
        Assert.Contains("p0-leaf-0/2", ends);
        Assert.Equal(t.Links.Count - 2, r.Matched);
    }

    [Fact]
    public void Wrong_port_on_the_right_device_is_miscabled()
    {
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, LeavesPerPlane = 6, NicsPerNode = 1, Name = "m" });
        var seen = Seen(t);
        var i = seen.FindIndex(d => d.LocalDevice == "leaf-0" && d.RemoteDevice == "spine-0");
        seen[i] = seen[i] with { RemotePort = 8 }; // spine-0 port 8 is free
        var r = CablingValidator.Compare(t, seen);
        var m = Assert.Single(r.Miscabled);
        Assert.Equal("move the cable from spine-0/8 to spine-0/1", m.Fix);
        Assert.Empty(r.Missing);
        Assert.Empty(r.Unexpected);
    }

    [Fact]
    public void Missing_and_unexpected()
    {
        var t = Fabrics.SmallMpft();
        var seen = Seen(t);
        var gone = seen.FindIndex(d => d.LocalDevice == "node-00000" && d.LocalPort == 0);
        seen.RemoveAt(gone);
        seen.Add(new DiscoveredLink("p0-leaf-0", 5, "mystery-switch", 1));
        var r = CablingValidator.Compare(t, seen);
        Assert.Equal("node-00000/mlx5_0 -- p0-leaf-0/1", Assert.Single(r.Missing).ToString());
        Assert.Equal("mystery-switch/1", Assert.Single(r.Unexpected).A);
        Assert.False(r.IsClean);
    }

    [Fact]
    public void Works_on_an_ibnetdiscover_import()
    {
        var t = Fabrics.SmallMpft();
        var discovered = IbNetDiscover.Parse(IbNetDiscover.Write(t), "seen");
        Assert.True(CablingValidator.Compare(t, CablingValidator.DiscoveredLinks(discovered)).IsClean);
    }
}

public class NeighborListTests
{
    [Fact]
    public void Parses_lldp_style_names_and_skips_header_and_comments()
    {
        const string text = """
            local_device,local_port,remote_device,remote_port
            # exported from the switches
            leaf-0,swp33,spine-0,swp1
            node-00001	mlx5_0	leaf-0	Ethernet2
            leaf-1 eth1/34 spine-1 34
            """;
        var links = NeighborList.Parse(text);
        Assert.Equal(
            [new DiscoveredLink("leaf-0", 33, "spine-0", 1), new DiscoveredLink("node-00001", 0, "leaf-0", 2), new DiscoveredLink("leaf-1", 34, "spine-1", 34)],
            links);
    }

    [Fact]
    public void Bad_lines_are_named()
    {
        var ex = Assert.Throws<FabricInputException>(() => NeighborList.Parse("leaf-0,1,spine-0,1\nleaf-0,uplink,spine-0,1\nleaf-1,2,spine-1\n"));
        Assert.Equal(["line 2", "line 3"], ex.Errors.Select(e => e.Field));
    }

    [Fact]
    public void A_neighbor_list_of_the_plan_is_clean()
    {
        var t = Fabrics.SmallMpft();
        var csv = string.Join('\n', CablingValidator.DiscoveredLinks(t).Select(d => $"{d.LocalDevice},{(t.FindHost(d.LocalDevice) >= 0 ? "mlx5_" : "swp")}{d.LocalPort},{d.RemoteDevice},swp{d.RemotePort}"));
        Assert.True(CablingValidator.Compare(t, NeighborList.Parse(csv)).IsClean);
    }
}
