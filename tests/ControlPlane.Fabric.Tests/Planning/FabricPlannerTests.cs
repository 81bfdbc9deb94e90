using ControlPlane.Fabric.Planning;

namespace ControlPlane.Fabric.Tests.Planning;

public class FabricPlannerTests
{
    // Table 3 of the DeepSeek-V3 paper, 64-port switches: endpoints, switches, switch links, cost M$.
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(TopologyKind.Ft2, 2_048, 96, 2_048, 9)]
    [InlineData(TopologyKind.Mpft, 16_384, 768, 16_384, 72)]
    [InlineData(TopologyKind.Ft3, 65_536, 5_120, 131_072, 491)]
    [InlineData(TopologyKind.SlimFly, 32_928, 1_568, 32_928, 146)]
    public void Table3_rows_are_reproduced(TopologyKind kind, long endpoints, long switches, long links, double costM)
    {
        var r = FabricPlanner.Plan(new GeneratorParameters { Kind = kind, Radix = 64 }, PriceList.Default);
        Assert.Equal(endpoints, r.Endpoints);
        Assert.Equal(switches, r.Switches);
        Assert.Equal(links, r.SwitchLinks);
        Assert.Equal(costM, Math.Round(r.CostUsd / 1e6));
    }

    [Fact]
    public void Dragonfly_row_is_reproduced_and_cost_is_within_1_4_percent()
    {
        var r = FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.Dragonfly, Radix = 64 }, PriceList.Default);
        Assert.Equal(261_632, r.Endpoints);
        Assert.Equal(16_352, r.Switches);
        Assert.Equal(384_272, r.SwitchLinks);
        Assert.Equal("a=32, p=16, h=16, g=511", r.Shape);
        Assert.InRange(r.CostUsd / 1_522e6, 1.0, 1.014);
        Assert.True(r.Analytical);
    }

    [Fact]
    public void Slim_fly_shape_for_radix_64_is_q_28()
    {
        var sf = SlimFlyShape.ForRadix(64)!;
        Assert.Equal((28, 0, 42, 21), (sf.Q, sf.Delta, sf.NetworkRadix, sf.EndpointsPerSwitch));
    }

    [Fact]
    public void Mpft_cost_per_endpoint_matches_the_paper()
    {
        var r = FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = 64 }, PriceList.Default);
        Assert.Equal(4.39, Math.Round(r.CostPerEndpointUsd / 1000, 2));
        Assert.Equal(2_048, r.Nodes);
        Assert.Equal(16_384, r.Gpus);
        Assert.Equal([new NamedCount("leaf", 512), new NamedCount("spine", 256)], r.SwitchesByTier);
        // Non-blocking: half of 16,384 x 400G.
        Assert.Equal(3_276.8, r.BisectionTbps);
        Assert.Equal(768 * 1.72, r.SwitchPowerKw, 1);
        Assert.Equal(r.Media.Sum(m => m.Links), r.SwitchLinks + r.HostLinks);
        Assert.Equal(r.Media.Sum(m => m.Links), r.LinksByReach.Sum(x => x.Count));
    }

    [Fact]
    public void Oversubscription_halves_bisection()
    {
        var full = FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 16, NicsPerNode = 1 }, PriceList.Default);
        var over = FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 16, NicsPerNode = 1, Oversubscription = 3 }, PriceList.Default);
        Assert.Equal(16 * 8 * 0.4 / 2, full.BisectionTbps, 3);
        Assert.Equal(16 * 4 * 0.4 / 2, over.BisectionTbps, 3); // 12 down, 4 up per leaf: uplinks are the narrow layer
    }

    [Fact]
    public void Medium_price_overrides_the_flat_link_price()
    {
        var p = new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, NicsPerNode = 1 };
        var flat = FabricPlanner.Plan(p, PriceList.Default);
        var sr8 = flat.Media.Single(m => m.Medium == "sr8");
        var custom = FabricPlanner.Plan(p, PriceList.Default with { MediumLinkUsd = new Dictionary<string, double> { ["sr8"] = 2_000 } });
        Assert.Equal(flat.CostUsd + sr8.Links * (2_000 - 1_443), custom.CostUsd, 0);
    }

    [Fact]
    public void Bad_inputs_name_their_fields()
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.SlimFly, Radix = 4, Planes = 2 },
            PriceList.Default with { SwitchUsd = -1, MediumLinkUsd = new Dictionary<string, double> { ["copper"] = 1 } }));
        var fields = ex.Errors.Select(e => e.Field).ToArray();
        Assert.Contains("radix", fields);
        Assert.Contains("planes", fields);
        Assert.Contains("prices.switchUsd", fields);
        Assert.Contains("prices.mediumLinkUsd.copper", fields);
    }

    [Fact]
    public void Transceivers_are_two_per_module_link_and_none_for_copper()
    {
        var r = FabricPlanner.Plan(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, NicsPerNode = 1 }, PriceList.Default);
        foreach (var m in r.Media)
            Assert.Equal(m.Medium is "sr8" or "dr8" or "fr4" or "lr8" ? 2 * m.Links : 0, m.Transceivers);
    }
}
