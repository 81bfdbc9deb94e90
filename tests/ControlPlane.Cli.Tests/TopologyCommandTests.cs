using System.Text.Json;
using ControlPlane.Fabric;
using ControlPlane.Fabric.Serialization;

namespace ControlPlane.Cli.Tests;

public class TopologyCommandTests
{
    [Theory]
    [InlineData("mpft", "fabric.json")]
    [InlineData("ft3", "fabric.yaml")]
    [InlineData("rail", "fabric.ibnet")]
    [InlineData("ft2", "fabric.txt")]
    public async Task Generate_then_validate_round_trips_through_a_file(string kind, string name)
    {
        using var dir = new TempDir();
        var file = dir.File(name);
        var gen = await CliRunner.RunAsync("topology", "generate", kind, "--radix", "8", "--nics-per-node", kind == "mpft" ? "8" : "4", "-o", file);
        Assert.Equal(0, gen.Code);
        Assert.Contains("wrote", gen.Out);

        var val = await CliRunner.RunAsync("topology", "validate", file);
        Assert.Equal(0, val.Code);
        Assert.Contains("no problems found", val.Out);
    }

    [Fact]
    public async Task Explicit_format_overrides_the_extension()
    {
        using var dir = new TempDir();
        var file = dir.File("fabric.out");
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "--format", "yaml", "-o", file)).Code);
        Assert.Contains("switches:", await File.ReadAllTextAsync(file));
        var val = await CliRunner.RunAsync("topology", "validate", file, "--format", "yaml", "-o", "json");
        using var doc = JsonDocument.Parse(val.Out);
        Assert.Equal("yaml", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("problemCount").GetInt32());
    }

    [Fact]
    public async Task Validate_lists_problems_and_exits_1()
    {
        using var dir = new TempDir();
        var file = dir.File("bad.json");
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 8, NicsPerNode = 1, Name = "bad" });
        var spec = FabricSpecMapper.ToSpec(t);
        var links = spec.Links.ToArray();
        links[^1] = links[^1] with { B = links[^2].B };   // two hosts on one leaf port
        links[0] = links[0] with { SpeedGbps = 200 };      // a link trained at half rate
        var unplugged = links.Where((_, i) => i != links.Length - 3).ToArray(); // a NIC with no cable
        await File.WriteAllTextAsync(file, FabricSpecJson.Serialize(spec with { Links = unplugged }));

        var r = await CliRunner.RunAsync("topology", "validate", file);
        Assert.Equal(1, r.Code);
        Assert.Contains("PortUsedTwice", r.Out);
        Assert.Contains("SpeedMismatch", r.Out);
        Assert.Contains("UnconnectedEndpoint", r.Out);

        var j = await CliRunner.RunAsync("topology", "validate", file, "-o", "json");
        using var doc = JsonDocument.Parse(j.Out);
        var kinds = doc.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("kind").GetString()).ToHashSet();
        Assert.Equal(["portUsedTwice", "speedMismatch", "unconnectedEndpoint"], kinds.Order());
    }

    [Fact]
    public async Task Unparseable_file_names_the_field_and_exits_1()
    {
        using var dir = new TempDir();
        var file = dir.File("bad.json");
        await File.WriteAllTextAsync(file, """{"name":"x","kind":"imported","planes":[],"switches":[],"links":[],"colour":"red"}""");
        var r = await CliRunner.RunAsync("topology", "validate", file);
        Assert.Equal(1, r.Code);
        Assert.Contains("colour", r.Err);
    }

    [Fact]
    public async Task Import_without_server_prints_a_summary()
    {
        using var dir = new TempDir();
        var file = dir.File("lab.ibnet");
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "mpft", "--radix", "8", "--planes", "2", "--nics-per-node", "2", "-o", file)).Code);
        var r = await CliRunner.RunAsync("topology", "import", file);
        Assert.Equal(0, r.Code);
        Assert.Contains("lab (", r.Out);           // named after the file
        Assert.Contains("2 plane(s)", r.Out);
        Assert.Contains("no problems found", r.Out);
    }

    [Fact]
    public async Task Cabling_finds_a_swapped_pair_and_exits_1()
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.json");
        var seen = dir.File("seen.ibnet");
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "--nics-per-node", "1", "-o", plan)).Code);
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "--nics-per-node", "1", "-o", seen)).Code);

        var clean = await CliRunner.RunAsync("topology", "cabling", "--plan", plan, "--discovered", seen);
        Assert.Equal(0, clean.Code);

        // Swap the cables of node-00000 and node-00001 on leaf-0 (ports 1 and 2), as a tech plugging them crossed would.
        var text = await File.ReadAllTextAsync(seen);
        text = text.Replace("# \"node-00000 mlx5_0\"", "# \"TMP\"").Replace("# \"node-00001 mlx5_0\"", "# \"node-00000 mlx5_0\"").Replace("# \"TMP\"", "# \"node-00001 mlx5_0\"");
        await File.WriteAllTextAsync(seen, text);

        var r = await CliRunner.RunAsync("topology", "cabling", "--plan", plan, "--discovered", seen);
        Assert.Equal(1, r.Code);
        Assert.Contains("1 swapped pair", r.Out);
        Assert.Contains("node-00000/mlx5_0 -- leaf-0/1", r.Out);
    }

    [Fact]
    public async Task Cabling_reads_an_lldp_neighbor_list_and_says_which_cable_to_move()
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml");
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "--nics-per-node", "1", "--leaves", "6", "-o", plan)).Code);
        var t = ControlPlane.Fabric.Yaml.FabricSpecYaml.Parse(await File.ReadAllTextAsync(plan));
        var lines = t.Links.Select(l => l.A.IsHost
            ? $"{t.Hosts[l.A.Device].Name},mlx5_{l.A.Port},{t.Switches[l.B.Device].Name},swp{l.B.Port}"
            : $"{t.Switches[l.A.Device].Name},swp{l.A.Port},{t.Switches[l.B.Device].Name},swp{l.B.Port}").ToList();
        lines[0] = "leaf-0,swp5,spine-0,swp8"; // planned spine-0 port 1; spine ports 7 and 8 are free with 6 leaves
        var csv = dir.File("lldp.csv");
        await File.WriteAllTextAsync(csv, "local_device,local_port,remote_device,remote_port\n" + string.Join('\n', lines));

        var r = await CliRunner.RunAsync("topology", "cabling", "--plan", plan, "--discovered", csv, "-o", "json");
        Assert.Equal(1, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        var m = Assert.Single(doc.RootElement.GetProperty("miscabled").EnumerateArray().ToList());
        Assert.Equal("move the cable from spine-0/8 to spine-0/1", m.GetProperty("fix").GetString());
        Assert.False(doc.RootElement.GetProperty("isClean").GetBoolean());
    }
}
