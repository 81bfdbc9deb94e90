using ControlPlane.Fabric.Serialization;

namespace ControlPlane.Fabric.Tests.Serialization;

public class FabricSpecJsonTests
{
    [Theory]
    [InlineData(TopologyKind.Ft2)]
    [InlineData(TopologyKind.Mpft)]
    [InlineData(TopologyKind.Ft3)]
    [InlineData(TopologyKind.RailOptimized)]
    public void Round_trip_preserves_every_element(TopologyKind kind)
    {
        var t = Fabrics.Generate(kind);
        var back = FabricSpecJson.Parse(FabricSpecJson.Write(t));

        Assert.Equal(t.Name, back.Name);
        Assert.Equal(t.Kind, back.Kind);
        Assert.Equal(t.Parameters, back.Parameters);
        Assert.Equal(t.Planes, back.Planes);
        Assert.Equal(t.Switches, back.Switches);
        Assert.Equal(t.Hosts.Count, back.Hosts.Count);
        for (var i = 0; i < t.Hosts.Count; i++)
        {
            Assert.Equal(t.Hosts[i] with { Nics = [] }, back.Hosts[i] with { Nics = [] });
            Assert.Equal(t.Hosts[i].Nics, back.Hosts[i].Nics);
        }
        Assert.Equal(t.Links, back.Links);
        Assert.Equal(t.Transceivers, back.Transceivers);
    }

    [Fact]
    public void Round_trip_preserves_states_and_version()
    {
        var t = Fabrics.SmallMpft();
        var at = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var s = FabricSnapshot.Initial(t)
            .WithLink(5, new ElementState(ElementStatus.Drained, "flapping optic", "alice", at))
            .WithSwitch(3, new ElementState(ElementStatus.Maintenance, "firmware", "bob", at))
            .WithLink(6, new ElementState(ElementStatus.Up, "fixed", "carol", at));

        var back = FabricSpecJson.ParseSnapshot(FabricSpecJson.Write(t, s));

        Assert.Equal(s.Version, back.Version);
        Assert.Equal(s.LinkStates, back.LinkStates);
        Assert.Equal(s.SwitchStates, back.SwitchStates);
    }

    [Fact]
    public void Transceivers_with_custom_thresholds_and_kind_round_trip()
    {
        var t = Fabrics.SmallMpft();
        var x = t.Transceivers.ToArray();
        x[0] = x[0] with { Thresholds = x[0].Thresholds with { TempHighAlarmC = 80 }, Kind = MediumKind.Dr8 };
        var t2 = new FabricTopology(t.Name, t.Kind, t.Planes, t.Switches, t.Hosts, t.Links, x, t.Parameters);

        var back = FabricSpecJson.Parse(FabricSpecJson.Write(t2));

        Assert.Equal(x, back.Transceivers);
    }

    [Fact]
    public void Unknown_field_is_rejected_with_its_path()
    {
        var json = FabricSpecJson.Write(Fabrics.SmallMpft()).Replace("\"speedGbps\": 400,\n      \"role\"", "\"speedGbps\": 400, \"colour\": \"red\",\n      \"role\"");
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse(json));
        var err = Assert.Single(ex.Errors);
        Assert.StartsWith("links[0]", err.Field);
        Assert.Contains("colour", err.Field + err.Reason);
        Assert.Contains("unknown field", err.Reason);
    }

    [Fact]
    public void Missing_required_field_is_named()
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse("""{"name":"x","kind":"imported","planes":[],"links":[]}"""));
        Assert.Contains("switches", Assert.Single(ex.Errors).Reason);
    }

    [Fact]
    public void Wrong_type_names_field_and_expected_type()
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse(
            """{"name":"x","kind":"imported","planes":[{"name":"p"}],"switches":[{"name":"s","plane":0,"tier":"leaf","radix":"many","speedGbps":400}],"links":[]}"""));
        var err = Assert.Single(ex.Errors);
        Assert.Equal("switches[0].radix", err.Field);
        Assert.Contains("integer", err.Reason);
    }

    [Fact]
    public void Every_semantic_error_is_reported_with_its_path()
    {
        const string json = """
        {"name":"x","kind":"imported","planes":[{"name":"p"}],
         "switches":[{"name":"s1","plane":0,"tier":"leaf","radix":4,"speedGbps":400},
                     {"name":"s1","plane":3,"tier":"top","radix":4,"speedGbps":400}],
         "hosts":[{"name":"h","gpus":8,"nics":[{"plane":0,"speedGbps":400}]}],
         "links":[{"a":"h/mlx5_0","b":"s1/1","speedGbps":400,"role":"host","medium":"passiveDac","lengthM":2},
                  {"a":"h/eth0","b":"nowhere/2","speedGbps":400,"role":"cable","medium":"sr9","lengthM":-1}],
         "states":{"version":3,"links":[{"link":7,"status":"drained"}],"switches":[{"name":"zz","status":"down"}]}}
        """;
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse(json));
        var fields = ex.Errors.Select(e => e.Field).ToHashSet();
        foreach (var f in new[] { "switches[1].name", "switches[1].plane", "switches[1].tier", "links[1].a", "links[1].b", "links[1].role", "links[1].medium", "links[1].lengthM", "states.links[0].link", "states.switches[0].name" })
            Assert.Contains(f, fields);
        Assert.Contains(ex.Errors, e => e.Field == "links[1].medium" && e.Reason.Contains("sr8"));
    }

    [Fact]
    public void Null_where_a_value_is_required_is_named()
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse("""{"name":"x","kind":"imported","planes":[],"switches":null,"links":[]}"""));
        var err = Assert.Single(ex.Errors);
        Assert.Equal("switches", err.Field);
        Assert.StartsWith("must not be null", err.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("null")]
    public void Garbage_gives_an_input_error(string json)
    {
        var ex = Assert.Throws<FabricInputException>(() => FabricSpecJson.Parse(json));
        Assert.NotEmpty(ex.Errors);
    }

    [Fact]
    public void Ends_may_name_devices_containing_slashes()
    {
        const string json = """
        {"name":"x","kind":"imported","planes":[{"name":"p"}],
         "switches":[{"name":"row1/leaf","plane":0,"tier":"leaf","radix":4,"speedGbps":400}],
         "hosts":[{"name":"h","nics":[{"plane":0,"speedGbps":400}]}],
         "links":[{"a":"h/mlx5_0","b":"row1/leaf/3","speedGbps":400,"role":"host","medium":"passiveDac","lengthM":2}]}
        """;
        var t = FabricSpecJson.Parse(json);
        Assert.Equal(LinkEnd.OnSwitch(0, 3), t.Links[0].B);
        Assert.Equal(0, t.LinkAtHostNic(0, 0));
    }
}
