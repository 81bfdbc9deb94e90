using System.Text.Json;
using ControlPlane.Fabric;

namespace ControlPlane.Emulation.Tests;

public class SimulationTests
{
    private static FabricSnapshot Small() => FabricSnapshot.Initial(FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = 8, Planes = 2, NicsPerNode = 2, GpusPerNode = 2 }));

    [Fact]
    public void FaultInjectionIsDeterministicAndFailsTheAskedFraction()
    {
        var snap = Small();
        var (a, fa) = FaultInjection.FailRandomLinks(snap, 0.1, seed: 5);
        var (_, fb) = FaultInjection.FailRandomLinks(snap, 0.1, seed: 5);
        Assert.Equal(fa, fb);
        var switchLinks = snap.Topology.Links.Count(l => l.IsSwitchLink);
        Assert.Equal((int)Math.Round(0.1 * switchLinks), fa.Count);
        Assert.All(fa, l => Assert.False(a.IsLinkUsable(l)));
        Assert.Equal("fail", Assert.Throws<FabricInputException>(() => FaultInjection.FailRandomLinks(snap, 2, 1)).Errors[0].Field);
    }

    [Theory]
    [InlineData("moe", "ecmp", 2)]
    [InlineData("alltoall", "wcmp", 1)]
    [InlineData("mixed", "adaptive", 1)]
    [InlineData("allreduce", "policy", 1)]
    public void SimulateReportsEveryCollectiveAndSerializes(string workload, string routing, int collectives)
    {
        var (snap, _) = FaultInjection.FailRandomLinks(Small(), 0.05, 3);
        var rep = Simulation.Run(snap, new SimulateRequest { Workload = workload, Routing = routing, AdaptiveSteps = 2 });
        Assert.Equal(collectives, rep.Collectives.Count);
        Assert.All(rep.Collectives, c => Assert.True(c.RatioToBound >= 1 - 1e-9 && c.TotalBytes > 0));
        Assert.Equal(2, rep.PlaneHealth.Count);
        var json = JsonSerializer.Serialize(rep, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
        Assert.Contains("RatioToBound", json);
    }

    [Fact]
    public void UnknownNamesAreReportedByField()
    {
        var ex = Assert.Throws<FabricInputException>(() => Simulation.Run(Small(), new SimulateRequest { Workload = "nope", Routing = "magic" }));
        Assert.Contains(ex.Errors, e => e.Field == "workload");
        Assert.Contains(ex.Errors, e => e.Field == "routing");
    }
}
