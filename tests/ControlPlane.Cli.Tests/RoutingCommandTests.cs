using System.Text.Json.Nodes;

namespace ControlPlane.Cli.Tests;

/// <summary>fabricctl routes compute and simulate: offline, on small generated fabrics.</summary>
public sealed class RoutingCommandTests
{
    [Fact]
    public async Task Routes_compute_json_has_every_switch_and_groups_that_sum_to_the_group_size()
    {
        var r = await CliRunner.RunAsync("routes", "compute", "--topology", "ft2", "--radix", "8", "--group-size", "128", "-o", "json");
        Assert.True(r.Code == 0, r.Err);
        var doc = JsonNode.Parse(r.Out)!;
        Assert.Equal(128, (int)doc["groupSize"]!);
        var switches = doc["switches"]!.AsArray();
        Assert.Equal(12, switches.Count); // 8 leaves + 4 spines
        foreach (var sw in switches)
        {
            foreach (var g in sw!["groups"]!.AsArray())
                Assert.Equal(128, g!["members"]!.AsArray().Sum(m => (int)m!["weight"]!));
            var leaf = (string)sw["tier"]! == "leaf";
            // Every leaf routes to all 8 leaves (itself locally) for each of the 4 default classes.
            if (leaf) Assert.Equal(8 * 4, sw["routes"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task Routes_compute_with_failures_never_uses_a_failed_link()
    {
        // The same seed fails the same links: work them out with the core, then check no group member's port sits on one.
        var topology = ControlPlane.Fabric.FabricGenerator.Generate(new ControlPlane.Fabric.GeneratorParameters { Kind = ControlPlane.Fabric.TopologyKind.Ft2, Name = "ft2", Radix = 8 });
        var (_, failed) = ControlPlane.Emulation.FaultInjection.FailRandomLinks(ControlPlane.Fabric.FabricSnapshot.Initial(topology), 0.10, 3);
        Assert.NotEmpty(failed);
        var r = await CliRunner.RunAsync("routes", "compute", "--topology", "ft2", "--radix", "8", "--fail", "10%", "--seed", "3", "-o", "json");
        Assert.True(r.Code == 0, r.Err);
        var doc = JsonNode.Parse(r.Out)!;
        Assert.Equal(2, (long)doc["topologyVersion"]!); // the failures made version 2
        var members = 0;
        foreach (var sw in doc["switches"]!.AsArray())
        {
            var id = (int)sw!["id"]!;
            foreach (var g in sw["groups"]!.AsArray())
                foreach (var m in g!["members"]!.AsArray())
                {
                    members++;
                    Assert.DoesNotContain(topology.LinkAtSwitchPort(id, (int)m!["port"]!), failed);
                }
        }
        Assert.True(members > 0);
    }

    [Fact]
    public async Task Routes_compute_table_for_one_switch_names_it()
    {
        var r = await CliRunner.RunAsync("routes", "compute", "--topology", "ft2", "--radix", "8", "--switch", "leaf-3");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("leaf-3 (plane 0, leaf", r.Out);
        Assert.Contains("plane-0", r.Out);
    }

    [Theory]
    [InlineData("ecmp")]
    [InlineData("wcmp")]
    [InlineData("adaptive")]
    public async Task Simulate_reports_utilization_no_better_than_the_lower_bound(string routing)
    {
        var r = await CliRunner.RunAsync("simulate", "--topology", "mpft", "--radix", "8", "--planes", "2", "--nics-per-node", "2",
            "--workload", "alltoall", "--routing", routing, "-o", "json");
        Assert.True(r.Code == 0, r.Err);
        var doc = JsonNode.Parse(r.Out)!;
        var collective = doc["collectives"]!.AsArray()[0]!;
        Assert.True((double)collective["ratioToBound"]! >= 0.999, r.Out);
        Assert.True((double)collective["maxFabricUtilization"]! > 0, r.Out);
    }

    [Fact]
    public async Task Sprayed_wcmp_beats_hash_ecmp_on_an_all_to_all()
    {
        async Task<double> Mlu(string routing)
        {
            var r = await CliRunner.RunAsync("simulate", "--topology", "ft2", "--radix", "16", "--workload", "alltoall", "--routing", routing, "--no-rates", "-o", "json");
            Assert.True(r.Code == 0, r.Err);
            return (double)JsonNode.Parse(r.Out)!["collectives"]!.AsArray()[0]!["maxFabricUtilization"]!;
        }
        Assert.True(await Mlu("wcmp") < await Mlu("ecmp"));
    }

    [Theory]
    [InlineData("--topology", "nope", "--topology")]
    [InlineData("--topology", "slimfly", "--topology")]
    [InlineData("--fail", "200%", "--fail")]
    [InlineData("--fail", "abc", "--fail")]
    [InlineData("--radix", "0", "--radix")]
    public async Task Bad_routes_options_are_usage_errors_naming_the_option(string option, string value, string named)
    {
        var r = await CliRunner.RunAsync("routes", "compute", "--topology", "ft2", option, value);
        Assert.Equal(2, r.Code);
        Assert.Contains(named, r.Err);
    }

    [Fact]
    public async Task Bad_simulate_options_are_usage_errors()
    {
        var workload = await CliRunner.RunAsync("simulate", "--topology", "ft2", "--radix", "8", "--workload", "bogus");
        Assert.Equal(2, workload.Code);
        Assert.Contains("--workload", workload.Err);
        var skew = await CliRunner.RunAsync("simulate", "--topology", "ft2", "--radix", "8", "--expert-skew", "-1");
        Assert.Equal(2, skew.Code);
        Assert.Contains("--expert-skew", skew.Err);
    }
}
