using ControlPlane.Fabric;
using ControlPlane.Testing;
using Xunit.Abstractions;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>The same loop over a real RabbitMQ broker.</summary>
[Collection(ServersCollection.Name)]
public sealed class RabbitMqTests(PostgresFixture pg, RabbitMqFixture rmq, ITestOutputHelper output)
{
    [Fact]
    public async Task Over_RabbitMQ_hello_tables_acks_and_a_failure_converge_without_holes()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "rmq",
            ("Bus:Transport", "RabbitMq"), ("ConnectionStrings:rabbitmq", rmq.Server.AmqpUri), ("Bus:EndpointPrefix", "d" + Guid.NewGuid().ToString("N")[..8]));
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "rmq");
        await using var _a = agents;
        await using var _c = converged;
        agents.CheckForwarding = true;
        for (var i = 0; i < 3; i++)
        {
            var next = i % 2 == 0
                ? routing.Snapshot.WithLink(ClosedLoopTests.Uplink(routing.Snapshot.Topology, i), new ElementState(ElementStatus.Down))
                : routing.Snapshot.WithLink(ClosedLoopTests.Uplink(routing.Snapshot.Topology, i - 1), ElementState.InitialUp);
            var change = routing.Change(next, priority: true, "port-change", $"rmq-{i}");
            await app.Bus.Publish(change);
            var c = await converged.WaitAsync(change.RoutingVersion, seconds: 30);
            Assert.Empty(c.Lagging);
            Assert.Equal([$"rmq-{i}"], c.TriggerIds);
            output.WriteLine($"change {i}: {c.Switches} switches, {c.Waves} waves, {(c.ConvergedAt - c.ReceivedAt).TotalMilliseconds:F1} ms from RoutesComputed received to the last ack");
        }
        Assert.Empty(agents.Violations);
        foreach (var (sw, t) in routing.Tables) Assert.True(agents.Current(sw).SameContents(t), $"{sw} differs");
    }
}
