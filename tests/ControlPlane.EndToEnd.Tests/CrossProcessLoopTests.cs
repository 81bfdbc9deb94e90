using ControlPlane.Contracts;
using ControlPlane.Testing;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>
/// The same services as separate processes against real PostgreSQL and RabbitMQ, configured only through the
/// environment: failures are routed around, a crashed agent host and a restarted broker are recovered from.
/// </summary>
public sealed class CrossProcessLoopTests(PostgresFixture pg) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Separate_processes_route_around_failures_and_recover_from_an_agent_crash_and_a_broker_restart()
    {
        await using var rabbit = await RabbitMqServer.StartAsync();
        var db = await pg.Server.CreateDatabaseAsync("e2e");
        await using var loop = await DistributedLoop.StartAsync(db, rabbit.AmqpUri);
        await loop.WaitInSyncAsync();

        // Links of plane 0 between a leaf and a spine, from the inventory's API.
        var links = await loop.GetAsync(loop.Inventory, "/api/v1/fabrics/mpft/links?role=leafSpine&limit=1000");
        var ids = links.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("id").GetInt32()).ToList();
        Assert.NotEmpty(ids);

        // 1. Failures and repairs, each converged on every affected agent.
        var latencies = new List<double>();
        foreach (var link in ids.Take(3))
        {
            var down = await loop.InjectAndConvergeAsync(FaultKind.LinkDown, link);
            Assert.True(down.Switches > 0);
            Assert.Empty(down.Lagging);
            latencies.Add((down.ConvergedAt - down.TriggeredAt!.Value).TotalMilliseconds);
            var up = await loop.InjectAndConvergeAsync(FaultKind.LinkUp, link);
            Assert.True(up.Switches > 0);
        }
        await loop.WaitInSyncAsync();

        // 2. The agents' process is killed and restarted: every agent holds nothing, says hello, gets full tables.
        await loop.RestartAgentsAsync();
        await loop.WaitInSyncAsync();

        // 3. The broker restarts mid-run: the services reconnect, a failure after it converges, nothing is lost.
        await rabbit.RestartAsync();
        await loop.WaitReadyAsync(TimeSpan.FromSeconds(180));
        await loop.WaitInSyncAsync(TimeSpan.FromSeconds(180));
        var after = await loop.InjectAndConvergeAsync(FaultKind.LinkDown, ids[^1], timeout: TimeSpan.FromSeconds(120));
        Assert.True(after.Switches > 0);
        await loop.WaitInSyncAsync();

        // At no point did an installed table hold a loop or a hole (checked after every install by the emulated fabric).
        var e = await loop.GetAsync(loop.Agents, "/api/v1/emulation/status");
        Assert.True(e.GetProperty("forwardingChecks").GetInt64() > 0);
        Assert.True(e.GetProperty("forwardingProblems").GetInt64() == 0, e.GetProperty("lastForwardingProblem").ToString());
        Assert.All(latencies, ms => Assert.True(ms < 30_000, $"{ms} ms"));
    }
}
