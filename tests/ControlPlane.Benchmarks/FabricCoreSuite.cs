using System.Diagnostics;
using ControlPlane.Fabric;
using ControlPlane.Fabric.Planning;
using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Validation;

namespace ControlPlane.Benchmarks;

/// <summary>Times the fabric core on the paper's largest tree (FT3, 65,536 endpoints): generate, validate, spec and ibnetdiscover round trips, plan.</summary>
public sealed class FabricCoreSuite : IBenchmarkSuite
{
    public string Name => "fabric";

    public string Description => "generate / validate / serialize / plan the 65,536-endpoint FT3 and the 16,384-endpoint MPFT";

    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        foreach (var kind in new[] { TopologyKind.Mpft, TopologyKind.Ft3 })
        {
            var p = new GeneratorParameters { Kind = kind, Radix = 64 };
            var t = Time(output, $"{kind} generate", () => FabricGenerator.Generate(p));
            output.WriteLine($"  {t.EndpointCount:N0} endpoints, {t.Switches.Count:N0} switches, {t.Links.Count:N0} links, {t.Transceivers.Count:N0} transceivers");
            var problems = Time(output, $"{kind} validate", () => TopologyValidator.Validate(t), repeat: 5);
            output.WriteLine($"  {problems.Count} problems");
            var json = Time(output, $"{kind} spec write (JSON)", () => FabricSpecJson.Write(t));
            output.WriteLine($"  {json.Length / 1e6:F1} MB");
            Time(output, $"{kind} spec parse (JSON)", () => FabricSpecJson.Parse(json));
            var ib = Time(output, $"{kind} ibnetdiscover write", () => IbNetDiscover.Write(t));
            Time(output, $"{kind} ibnetdiscover parse", () => IbNetDiscover.Parse(ib, "bench"));
            var seen = CablingValidator.DiscoveredLinks(t);
            Time(output, $"{kind} cabling compare", () => CablingValidator.Compare(t, seen));
            Time(output, $"{kind} plan", () => FabricPlanner.Plan(p, PriceList.Default));
        }
        return Task.FromResult(0);
    }

    private static T Time<T>(TextWriter output, string what, Func<T> f, int repeat = 1)
    {
        var result = f(); // warm-up
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < repeat; i++) result = f();
        output.WriteLine($"{what,-36} {sw.Elapsed.TotalMilliseconds / repeat,10:F1} ms");
        return result;
    }
}
