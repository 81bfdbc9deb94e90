using ControlPlane.Fabric.Serialization;

namespace ControlPlane.Fabric.Tests.Serialization;

public class IbNetDiscoverTests
{
    // Shaped like real ibnetdiscover output: one leaf, one spine, two hosts, one host with two rails.
    private const string Sample = """
        #
        # Topology file: generated on Mon Nov 23 10:00:00 2026
        #
        # Initiated from node 0002c903000a1b2c port 0002c903000a1b2d

        vendid=0x2c9
        devid=0xd2f0
        sysimgguid=0x2c903007b7e10
        switchguid=0x2c903007b7e10(2c903007b7e10)
        Switch	64 "S-0002c903007b7e10"		# "MF0;leaf-1:MQM9700/U1" enhanced port 0 lid 1 lmc 0
        [1]	"H-0002c903000a1b2c"[1](2c903000a1b2d) 		# "node01 mlx5_0" lid 3 4xNDR
        [2]	"H-0002c903000a1b3c"[1](2c903000a1b3d) 		# "node02 mlx5_0" lid 4 4xNDR
        [33]	"S-0002c903007b7e20"[1]		# "MF0;spine-1:MQM9700/U1" lid 2 4xNDR

        vendid=0x2c9
        devid=0xd2f0
        sysimgguid=0x2c903007b7e20
        switchguid=0x2c903007b7e20(2c903007b7e20)
        Switch	64 "S-0002c903007b7e20"		# "MF0;spine-1:MQM9700/U1" enhanced port 0 lid 2 lmc 0
        [1]	"S-0002c903007b7e10"[33]		# "MF0;leaf-1:MQM9700/U1" lid 1 4xNDR

        vendid=0x2c9
        devid=0xd2f0
        sysimgguid=0x2c903007b7e30
        switchguid=0x2c903007b7e30(2c903007b7e30)
        Switch	64 "S-0002c903007b7e30"		# "MF0;leaf-rail1:MQM9700/U1" enhanced port 0 lid 5 lmc 0
        [1]	"H-0002c903000a1b4c"[1](2c903000a1b4d) 		# "node01 mlx5_1" lid 6 4xHDR

        vendid=0x2c9
        devid=0x1021
        sysimgguid=0x2c903000a1b2c
        caguid=0x2c903000a1b2c
        Ca	1 "H-0002c903000a1b2c"		# "node01 mlx5_0"
        [1](2c903000a1b2d) 	"S-0002c903007b7e10"[1]		# lid 3 lmc 0 "MF0;leaf-1:MQM9700/U1" lid 1 4xNDR

        vendid=0x2c9
        devid=0x1021
        caguid=0x2c903000a1b3c
        Ca	1 "H-0002c903000a1b3c"		# "node02 mlx5_0"
        [1](2c903000a1b3d) 	"S-0002c903007b7e10"[2]		# lid 4 lmc 0 "MF0;leaf-1:MQM9700/U1" lid 1 4xNDR

        vendid=0x2c9
        devid=0x1021
        caguid=0x2c903000a1b4c
        Ca	1 "H-0002c903000a1b4c"		# "node01 mlx5_1"
        [1](2c903000a1b4d) 	"S-0002c903007b7e30"[1]		# lid 6 lmc 0 "MF0;leaf-rail1:MQM9700/U1" lid 5 4xHDR

        """;

    [Fact]
    public void Parses_a_real_shaped_file()
    {
        var t = IbNetDiscover.Parse(Sample, "lab");

        Assert.Equal(TopologyKind.Imported, t.Kind);
        Assert.Equal(["leaf-1", "spine-1", "leaf-rail1"], t.Switches.Select(s => s.Name));
        Assert.Equal([SwitchTier.Leaf, SwitchTier.Spine, SwitchTier.Leaf], t.Switches.Select(s => s.Tier));
        Assert.Equal("MQM9700", t.Switches[0].Model);
        Assert.Equal("0002c903007b7e10", t.Switches[0].Guid);
        Assert.Equal(2, t.Planes.Count); // leaf-rail1 is not connected to the others
        Assert.Equal(4, t.Links.Count);
        var node01 = t.Hosts[t.FindHost("node01")];
        Assert.Equal(2, node01.Nics.Count);
        Assert.Equal(0, node01.Nics[0].Plane);
        Assert.Equal(1, node01.Nics[1].Plane);
        Assert.Equal(200, node01.Nics[1].SpeedGbps);
        var up = t.Links.Single(l => l.IsSwitchLink);
        Assert.Equal(LinkRole.LeafSpine, up.Role);
        Assert.Equal(LinkEnd.OnSwitch(0, 33), up.A);
        Assert.Equal(LinkEnd.OnSwitch(1, 1), up.B);
        Assert.Equal(400, up.SpeedGbps);
    }

    [Theory]
    [InlineData(TopologyKind.Ft2)]
    [InlineData(TopologyKind.Mpft)]
    [InlineData(TopologyKind.Ft3)]
    [InlineData(TopologyKind.RailOptimized)]
    public void Generate_write_parse_keeps_counts_adjacency_tiers_and_planes(TopologyKind kind)
    {
        var t = Fabrics.Generate(kind);
        var back = IbNetDiscover.Parse(IbNetDiscover.Write(t), "back");

        Assert.Equal(t.Switches.Count, back.Switches.Count);
        Assert.Equal(t.Hosts.Count, back.Hosts.Count);
        Assert.Equal(t.EndpointCount, back.EndpointCount);
        Assert.Equal(t.Links.Count, back.Links.Count);
        Assert.Equal(t.Planes.Count, back.Planes.Count);
        Assert.Equal(Fabrics.Adjacency(t), Fabrics.Adjacency(back));
        foreach (var s in t.Switches)
        {
            var b = back.Switches[back.FindSwitch(s.Name)];
            Assert.Equal(s.Tier, b.Tier);
            Assert.Equal(s.Plane, b.Plane);
            Assert.Equal(s.Model, b.Model);
            Assert.Equal(s.Radix, b.Radix);
        }
        Assert.Equal(t.Links.Select(l => l.Role).Order(), back.Links.Select(l => l.Role).Order());
    }

    [Fact]
    public void Missing_nic_is_kept_uncabled()
    {
        var text = Sample.Replace("node01 mlx5_1", "node01 mlx5_2");
        var t = IbNetDiscover.Parse(text, "lab");
        var node01 = t.FindHost("node01");
        Assert.Equal(3, t.Hosts[node01].Nics.Count);
        Assert.Equal(-1, t.LinkAtHostNic(node01, 1));
    }

    [Fact]
    public void Hca_numbered_and_unset_descriptions_map_to_hosts()
    {
        var text = Sample.Replace("node01 mlx5_0", "node01 HCA-1").Replace("node01 mlx5_1", "node01 HCA-2")
            .Replace("node02 mlx5_0", "MT4129 ConnectX7 Mellanox Technologies");
        var t = IbNetDiscover.Parse(text, "lab");
        var node01 = t.FindHost("node01");
        Assert.Equal(2, t.Hosts[node01].Nics.Count);
        Assert.True(t.LinkAtHostNic(node01, 1) >= 0);
        Assert.True(t.FindHost("H-0002c903000a1b3c") >= 0);
    }

    [Fact]
    public void Colliding_factory_descriptions_name_switches_by_guid()
    {
        var text = Sample.Replace("MF0;leaf-1:MQM9700/U1", "Quantum Mellanox Technologies").Replace("MF0;spine-1:MQM9700/U1", "Quantum Mellanox Technologies");
        var t = IbNetDiscover.Parse(text, "lab");
        Assert.Equal("S-0002c903007b7e10", t.Switches[0].Name);
        Assert.Equal("Quantum Mellanox Technologies", t.Switches[0].Model);
    }

    [Fact]
    public void Truncated_block_is_reported_with_its_line()
    {
        var cut = Sample[..Sample.IndexOf("Ca\t1 \"H-0002c903000a1b2c\"", StringComparison.Ordinal)];
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(cut, "lab"));
        Assert.Contains(ex.Errors, e => e.Field.StartsWith("line ") && e.Reason.Contains("truncated"));
    }

    [Fact]
    public void Bad_port_number_names_the_line()
    {
        var bad = Sample.Replace("[33]\t\"S-0002c903007b7e20\"[1]", "[65]\t\"S-0002c903007b7e20\"[1]");
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(bad, "lab"));
        var line = LineOf(bad, "[65]");
        Assert.Contains(ex.Errors, e => e.Field == $"line {line}" && e.Reason.Contains("out of range"));
    }

    [Fact]
    public void Link_to_unknown_guid_names_the_line()
    {
        var bad = Sample.Replace("[2]\t\"H-0002c903000a1b3c\"[1](2c903000a1b3d)", "[3]\t\"H-00000000deadbeef\"[1](deadbef0)");
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(bad, "lab"));
        var line = LineOf(bad, "deadbeef");
        Assert.Contains(ex.Errors, e => e.Field == $"line {line}" && e.Reason.Contains("unknown node"));
    }

    [Fact]
    public void Port_used_twice_names_both_lines()
    {
        var bad = Sample.Replace("[2]\t\"H-0002c903000a1b3c\"", "[1]\t\"H-0002c903000a1b3c\"");
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(bad, "lab"));
        Assert.Contains(ex.Errors, e => e.Reason.Contains("used twice"));
    }

    [Fact]
    public void Remote_port_claimed_by_two_cables_is_reported()
    {
        // node02's CA says it is on leaf-1 port 1, where node01 is.
        var bad = Sample.Replace("\"S-0002c903007b7e10\"[2]", "\"S-0002c903007b7e10\"[1]");
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(bad, "lab"));
        var line = LineOf(bad, "lid 4 lmc 0");
        Assert.Contains(ex.Errors, e => e.Field == $"line {line}" && e.Reason.Contains("used twice"));
    }

    [Fact]
    public void Unrecognised_line_is_reported()
    {
        var ex = Assert.Throws<FabricInputException>(() => IbNetDiscover.Parse(Sample + "garbage here\n", "lab"));
        Assert.Contains(ex.Errors, e => e.Reason.Contains("unrecognised"));
    }

    [Theory]
    [InlineData("4xNDR", 400)]
    [InlineData("4xHDR", 200)]
    [InlineData("4xXDR", 800)]
    [InlineData("4xEDR", 100)]
    [InlineData("4xSDR", 10)]
    [InlineData("4xFDR", 56)]
    public void Speed_tokens(string token, int gbps)
    {
        Assert.True(IbSpeed.TryParse(token, out var g));
        Assert.Equal(gbps, g);
    }

    [Theory]
    [InlineData(400, "4xNDR")]
    [InlineData(800, "4xXDR")]
    [InlineData(200, "4xHDR")]
    [InlineData(1600, "8xXDR")]
    public void Speed_format(int gbps, string token) => Assert.Equal(token, IbSpeed.Format(gbps));

    private static int LineOf(string text, string needle) =>
        text.Split('\n').Select((l, i) => (l, i)).First(x => x.l.Contains(needle)).i + 1;
}
