using System.Collections.Concurrent;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using RouteKey = ControlPlane.Distribution.RouteKey;
using SpreadMode = ControlPlane.Distribution.SpreadMode;

namespace ControlPlane.Agent.Tests;

/// <summary>Records what an agent sends.</summary>
public sealed class RecordingTransport : IAgentTransport
{
    public ConcurrentQueue<AgentHello> Hellos { get; } = new();
    public ConcurrentQueue<RouteAck> Acks { get; } = new();
    public ConcurrentQueue<(PortStateEvent Event, string? Trigger)> Ports { get; } = new();
    public ConcurrentQueue<TelemetryBatch> Batches { get; } = new();

    public Task HelloAsync(string fabric, AgentHello hello, CancellationToken cancellationToken) { Hellos.Enqueue(hello); return Task.CompletedTask; }
    public Task AckAsync(string fabric, RouteAck ack, CancellationToken cancellationToken) { Acks.Enqueue(ack); return Task.CompletedTask; }
    public Task PortStateAsync(string fabric, PortStateEvent portEvent, string? triggerId, CancellationToken cancellationToken) { Ports.Enqueue((portEvent, triggerId)); return Task.CompletedTask; }
    public Task TelemetryAsync(string fabric, TelemetryBatch batch, CancellationToken cancellationToken) { Batches.Enqueue(batch); return Task.CompletedTask; }
}

public sealed class SwitchAgentTests
{
    private static readonly AgentCredentials Creds = AgentCredentials.FromText("unit-test-key-0123456789");

    private static (SwitchAgent Agent, RecordingTransport Transport, FakeTimeProvider Clock, InMemoryDataPlane Plane) Make(string sw = "leaf-0", int radix = 8)
    {
        var tr = new RecordingTransport();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        var plane = new InMemoryDataPlane(radix, new SwitchCapacity(4, radix, 256));
        var agent = new SwitchAgent(new AgentIdentity("f", sw, "a-" + sw, Creds.Issue("f", sw)), plane, 64, tr, clock, keepAlive: TimeSpan.FromSeconds(10));
        return (agent, tr, clock, plane);
    }

    private static byte[] Full(SwitchTable t) => new RouteUpdate { Table = TableWire.ToProto(t) }.ToByteArray();

    private static SwitchTable Table(string sw, ulong version, int port) =>
        new SwitchTableBuilder(sw, version, 64).Route("leaf-1", "ep", [port, port + 1], [32, 32], SpreadMode.Spray).Local(sw, "ep").Build();

    [Fact]
    public async Task Hello_apply_ack_refuse_and_keepalive()
    {
        var (agent, tr, clock, plane) = Make();
        await agent.StartAsync();
        Assert.True(tr.Hellos.TryDequeue(out var hello));
        Assert.Equal(0ul, hello.TableVersion);
        Assert.True(Creds.Verify("f", "leaf-0", hello.Credential));
        Assert.Equal(plane.ReadBack(), hello.TableDigest.ToByteArray());

        var v1 = Table("leaf-0", 1, 5);
        var ack = await agent.HandleUpdateAsync(Full(v1));
        Assert.True(ack!.Applied);
        Assert.True(tr.Acks.TryDequeue(out var wire));
        Assert.True(wire.Applied);
        Assert.Equal(v1.DigestBytes(), wire.InstalledDigest.ToByteArray());
        Assert.True(Creds.Verify("f", "leaf-0", wire.Credential));

        // Delta against a base the agent does not hold: refused, v1 kept.
        var v2 = Table("leaf-0", 2, 3);
        var delta = TableDiff.Compute(v1.WithVersion(7), v2);
        ack = await agent.HandleUpdateAsync(new RouteUpdate { Delta = TableWire.ToProto(delta) }.ToByteArray());
        Assert.False(ack!.Applied);
        Assert.Equal(1ul, agent.Version);
        Assert.Equal(v1.DigestBytes(), plane.ReadBack());

        // The right delta applies.
        ack = await agent.HandleUpdateAsync(new RouteUpdate { Delta = TableWire.ToProto(TableDiff.Compute(v1, v2)) }.ToByteArray());
        Assert.True(ack!.Applied, ack.RejectReason);
        Assert.Equal(2ul, agent.Version);

        // Garbage: refused with a reason, v2 kept.
        ack = await agent.HandleUpdateAsync([0xFF, 0xFF, 0xFF]);
        Assert.False(ack!.Applied);
        Assert.Contains("malformed", ack.RejectReason);
        Assert.Equal(2ul, agent.Version);

        // Keepalive: heard 0 s ago, no hello; after 10 s (+ jitter) of silence, a hello with v2.
        tr.Hellos.Clear();
        Assert.False(await agent.KeepAliveAsync());
        clock.Advance(TimeSpan.FromSeconds(13)); // 10 s plus at most a quarter of it as jitter
        Assert.True(await agent.KeepAliveAsync());
        Assert.True(tr.Hellos.TryDequeue(out hello));
        Assert.Equal(2ul, hello.TableVersion);
        Assert.Equal(v2.DigestBytes(), hello.TableDigest.ToByteArray());
        Assert.False(await agent.KeepAliveAsync());
    }

    [Fact]
    public async Task A_table_over_capacity_is_refused_with_a_reason_and_the_last_good_one_kept()
    {
        var (agent, tr, _, plane) = Make();
        await agent.StartAsync();
        await agent.HandleUpdateAsync(Full(Table("leaf-0", 1, 5)));
        var b = new SwitchTableBuilder("leaf-0", 2, 64);
        for (var i = 1; i <= 5; i++) b.Route($"leaf-{i}", "ep", [i], [64], SpreadMode.Spray);
        var ack = await agent.HandleUpdateAsync(Full(b.Build()));
        Assert.False(ack!.Applied);
        Assert.Contains("table full", ack.RejectReason);
        Assert.Equal(1ul, agent.Version);
        Assert.Equal(1, agent.Rejects);
        Assert.Equal(plane.ReadBack(), agent.Current.DigestBytes());
    }

    [Fact]
    public async Task Updates_queued_are_applied_in_order_port_events_and_telemetry_carry_identity_crash_and_restart()
    {
        var (agent, tr, _, _) = Make();
        await agent.StartAsync();
        for (ulong v = 1; v <= 20; v++) Assert.True(agent.Enqueue(Full(Table("leaf-0", v, 1 + (int)(v % 5)))));
        var until = DateTime.UtcNow.AddSeconds(10);
        while (tr.Acks.Count < 20 && DateTime.UtcNow < until) await Task.Delay(10);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), tr.Acks.Select(a => a.Version));
        Assert.All(tr.Acks, a => Assert.True(a.Applied));

        Assert.True(await agent.ReportPortAsync(3, false, "los", "trig-1"));
        Assert.True(tr.Ports.TryDequeue(out var p));
        Assert.Equal(("leaf-0", 3u, false, "trig-1"), (p.Event.SwitchName, p.Event.Port, p.Event.Up, p.Trigger));
        Assert.True(Creds.Verify("f", "leaf-0", p.Event.Credential));
        Assert.Equal("port", Assert.Throws<FabricInputException>(() => agent.ReportPortAsync(9, true, "x", null).GetAwaiter().GetResult()).Errors[0].Field);

        Assert.True(await agent.SendTelemetryAsync(new TelemetryBatch()));
        Assert.True(await agent.SendTelemetryAsync(new TelemetryBatch()));
        var batches = tr.Batches.ToArray();
        Assert.Equal([1ul, 2ul], batches.Select(x => x.Sequence));
        Assert.All(batches, x => Assert.Equal(("leaf-0", "a-leaf-0", agent.SessionId, agent.BootId), (x.SwitchName, x.AgentId, x.SessionId, x.BootId)));

        // Crashed: silent. Restarted: empty data plane, hello v0, new boot id.
        var boot = agent.BootId;
        agent.Crash();
        Assert.False(agent.Enqueue(Full(Table("leaf-0", 30, 1))));
        Assert.Null(await agent.HandleUpdateAsync(Full(Table("leaf-0", 30, 1))));
        Assert.False(await agent.ReportPortAsync(1, true, "x", null));
        tr.Hellos.Clear();
        var fresh = new InMemoryDataPlane(8, new SwitchCapacity(4, 8, 256));
        await agent.RestartAsync(fresh);
        Assert.True(tr.Hellos.TryDequeue(out var hello));
        Assert.Equal(0ul, hello.TableVersion);
        Assert.Equal(0ul, agent.Version);
        Assert.NotEqual(boot, agent.BootId);
        await agent.DisposeAsync();
    }

    [Fact]
    public void Bad_identity_is_refused_naming_the_field()
    {
        var plane = new InMemoryDataPlane(8, new SwitchCapacity(4, 8, 256));
        var e = Assert.Throws<FabricInputException>(() => new SwitchAgent(new AgentIdentity("f", "s", "a", ""), plane, 64, new RecordingTransport(), keepAlive: TimeSpan.Zero));
        Assert.Contains(e.Errors, x => x.Field == "credential");
        Assert.Contains(e.Errors, x => x.Field == "keepAlive");
    }

    [Fact]
    public void Corrupting_the_data_plane_shows_in_its_installed_table()
    {
        var plane = new InMemoryDataPlane(8, new SwitchCapacity(4, 8, 256));
        var t = Table("leaf-0", 1, 5);
        Assert.True(plane.Install(t).Installed);
        Assert.Same(t, plane.Installed);
        Assert.True(plane.CorruptRemoveRoute(new RouteKey("leaf-1", "ep")));
        Assert.Single(plane.Installed!.Routes);
        Assert.Equal(plane.ReadBack(), plane.Installed.DigestBytes());
    }
}
