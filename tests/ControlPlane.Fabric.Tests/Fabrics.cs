using ControlPlane.Fabric;

namespace ControlPlane.Fabric.Tests;

/// <summary>Small fabrics for tests.</summary>
internal static class Fabrics
{
    public static FabricTopology SmallMpft(int radix = 8, int planes = 2, int nics = 2) =>
        FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = radix, Planes = planes, NicsPerNode = nics, Name = "small" });

    public static FabricTopology Generate(TopologyKind kind, int radix = 8) =>
        FabricGenerator.Generate(new GeneratorParameters
        {
            Kind = kind, Radix = radix, Name = "t",
            Planes = kind == TopologyKind.Mpft ? 2 : null,
            NicsPerNode = kind == TopologyKind.Mpft ? 2 : kind == TopologyKind.RailOptimized ? 4 : 1,
        });

    /// <summary>Every link as an unordered pair of end names, for adjacency comparisons.</summary>
    public static HashSet<string> Adjacency(FabricTopology t) =>
        t.Links.Select(l =>
        {
            var a = t.Describe(l.A);
            var b = t.Describe(l.B);
            return string.CompareOrdinal(a, b) < 0 ? $"{a}|{b}" : $"{b}|{a}";
        }).ToHashSet(StringComparer.Ordinal);
}
