using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Yaml;

namespace ControlPlane.Fabric.Tests.Serialization;

public class FabricSpecYamlTests
{
    [Theory]
    [InlineData(TopologyKind.Mpft)]
    [InlineData(TopologyKind.Ft3)]
    public void Round_trip_gives_the_same_spec_as_json(TopologyKind kind)
    {
        var t = Fabrics.Generate(kind);
        var s = FabricSnapshot.Initial(t).WithLink(1, new ElementState(ElementStatus.Down, "no light", "fault-detector", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)));
        var yaml = FabricSpecYaml.Write(t, s);
        var back = FabricSpecYaml.ParseSnapshot(yaml);

        Assert.Equal(FabricSpecJson.Write(t, s), FabricSpecJson.Write(back.Topology, back));
    }

    [Fact]
    public void One_link_is_one_line()
    {
        var yaml = FabricSpecYaml.Write(Fabrics.SmallMpft());
        Assert.Contains(yaml.Split('\n'), l => l.Contains("a: node-00000/mlx5_0") && l.Contains("b: p0-leaf-0/1"));
    }

    [Fact]
    public void Strings_that_look_like_numbers_or_booleans_survive()
    {
        var t = Fabrics.SmallMpft();
        var hosts = t.Hosts.Select((h, i) => i switch { 0 => h with { Name = "0042" }, 1 => h with { Name = "true" }, 2 => h with { Name = "a, b: {c}" }, _ => h }).ToArray();
        var t2 = new FabricTopology(t.Name, t.Kind, t.Planes, t.Switches, hosts, t.Links, t.Transceivers, t.Parameters);

        var back = FabricSpecYaml.Parse(FabricSpecYaml.Write(t2));

        Assert.Equal(["0042", "true", "a, b: {c}"], back.Hosts.Take(3).Select(h => h.Name));
    }

    [Fact]
    public void Unknown_field_is_rejected_with_its_path()
    {
        const string yaml = """
            name: x
            kind: imported
            planes: [{name: p}]
            switches:
              - {name: s, plane: 0, tier: leaf, radix: 4, speedGbps: 400, colour: red}
            links: []
            """;
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecYaml.Parse(yaml));
        var err = Assert.Single(ex.Errors);
        Assert.Contains("switches[0]", err.Field);
        Assert.Contains("colour", err.Field + err.Reason);
    }

    [Fact]
    public void Syntax_error_names_the_line()
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecYaml.Parse("name: x\nplanes: [\n  {name: p\n"));
        Assert.StartsWith("line ", Assert.Single(ex.Errors).Field);
    }

    [Fact]
    public void Semantic_errors_carry_the_same_paths_as_json()
    {
        const string yaml = """
            name: x
            kind: imported
            planes: [{name: p}]
            switches: [{name: s, plane: 0, tier: leaf, radix: 4, speedGbps: 400}]
            links:
              - {a: s/1, b: ghost/1, speedGbps: 400, role: switchSwitch, medium: aoc, lengthM: 10}
            """;
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecYaml.Parse(yaml));
        Assert.Equal("links[0].b", Assert.Single(ex.Errors).Field);
    }
}
