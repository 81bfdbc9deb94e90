using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Yaml;
using FsCheck.Xunit;

namespace ControlPlane.Fabric.Tests.Serialization;

/// <summary>Every generated fabric survives the spec (JSON, YAML) and ibnetdiscover round trips.</summary>
public class RoundTripProperties
{
    private static readonly TopologyKind[] Kinds = [TopologyKind.Ft2, TopologyKind.Mpft, TopologyKind.Ft3, TopologyKind.RailOptimized];

    private static FabricTopology Pick(int a, int b, int c)
    {
        static int Mod(int x, int m) => ((x % m) + m) % m;
        var kind = Kinds[Mod(a, Kinds.Length)];
        var radix = 4 + 2 * Mod(b, kind == TopologyKind.Ft3 ? 4 : 7);
        var planes = kind == TopologyKind.Mpft ? 1 + Mod(c, 4) : 1;
        var nics = kind == TopologyKind.RailOptimized ? 2 : planes;
        return FabricGenerator.Generate(new GeneratorParameters
        {
            Kind = kind, Radix = radix, Planes = kind == TopologyKind.Mpft ? planes : null, NicsPerNode = nics,
            Oversubscription = 1 + Mod(c, 3), Name = "rt",
        });
    }

    [Property(MaxTest = 20)]
    public void Spec_json_and_yaml_round_trips_are_lossless(int a, int b, int c)
    {
        var t = Pick(a, b, c);
        var json = FabricSpecJson.Write(t);
        Assert.Equal(json, FabricSpecJson.Write(FabricSpecJson.Parse(json)));
        Assert.Equal(json, FabricSpecJson.Write(FabricSpecYaml.Parse(FabricSpecYaml.Write(t))));
    }

    [Property(MaxTest = 20)]
    public void Ibnetdiscover_round_trip_keeps_adjacency_and_tiers(int a, int b, int c)
    {
        var t = Pick(a, b, c);
        var back = IbNetDiscover.Parse(IbNetDiscover.Write(t), "rt");
        Assert.Equal(Fabrics.Adjacency(t), Fabrics.Adjacency(back));
        Assert.Equal(t.Planes.Count, back.Planes.Count);
        Assert.Equal(t.Switches.Select(s => (s.Name, s.Tier, s.Plane)), back.Switches.Select(s => (s.Name, s.Tier, s.Plane)));
    }
}
