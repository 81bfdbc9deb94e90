using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Service;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Routing.Service;
using Google.Protobuf;
using MassTransit;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>The closed loop in one process: the main job's composition on a small MPFT.</summary>
public sealed class OneProcessLoopTests
{
    [Fact]
    public async Task Link_failures_and_repairs_are_routed_around_on_every_agent_with_no_loop_or_hole()
    {
        await using var loop = await LoopApp.StartAsync();
        await loop.WaitInSyncAsync();
        var t = loop.Fabric.Topology!;
        var status = loop.Get<EmulatedFabricStatus>();
        Assert.Equal(t.Switches.Count, status.Snapshot.Agents);

        var rng = new Random(3);
        var leafSpine = t.Links.Where(l => l.Role == LinkRole.LeafSpine).ToArray();
        for (var i = 0; i < 5; i++)
        {
            var link = leafSpine[rng.Next(leafSpine.Length)];
            var down = await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkDown, LinkId = link.Id });
            Assert.True(down.Switches > 0, "a leaf-spine failure changes some tables");
            Assert.Empty(down.Lagging);
            Assert.NotNull(down.TriggeredAt);
            // No installed table sends anything into the dead link, at either end.
            foreach (var end in new[] { link.A, link.B })
            {
                var table = loop.Fabric.DataPlane(end.Device)!.Installed!;
                Assert.DoesNotContain(table.Groups.Values, g => g.Members.Any(m => m.Port == end.Port));
            }
            var up = await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkUp, LinkId = link.Id });
            Assert.True(up.Switches > 0, "a repaired link is used again");
            var lower = loop.Fabric.DataPlane(link.A.Device)!.Installed!;
            Assert.Contains(lower.Groups.Values, g => g.Members.Any(m => m.Port == link.A.Port));
        }
        await loop.WaitInSyncAsync();
        var s = status.Snapshot;
        Assert.True(s.ForwardingChecks > 0, "the install-time forwarding check ran");
        Assert.True(s.ForwardingProblems == 0, $"{s.ForwardingProblems} forwarding problems, last: {s.LastForwardingProblem}");
    }

    [Fact]
    public async Task A_crashed_switch_is_routed_around_and_converges_after_restart_from_an_empty_table()
    {
        await using var loop = await LoopApp.StartAsync();
        await loop.WaitInSyncAsync();
        var t = loop.Fabric.Topology!;
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine);
        var crash = await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.SwitchCrash, Switch = spine.Name });
        Assert.True(crash.Switches > 0);
        // Leaves of the spine's plane no longer point at it.
        foreach (var l in t.Links.Where(l => l.Role == LinkRole.LeafSpine && l.B.Device == spine.Id))
            Assert.DoesNotContain(loop.Fabric.DataPlane(l.A.Device)!.Installed!.Groups.Values, g => g.Members.Any(m => m.Port == l.A.Port));

        await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.SwitchRestart, Switch = spine.Name });
        await loop.WaitInSyncAsync();
        var agent = loop.Fabric.Agents.Single(a => a.SwitchName == spine.Name);
        Assert.True(agent.Version > 0, "the restarted agent got a table again");
        Assert.Equal(0, loop.Get<EmulatedFabricStatus>().Snapshot.ForwardingProblems);
    }

    [Fact]
    public async Task An_agent_cannot_fetch_or_acknowledge_another_switchs_table()
    {
        await using var loop = await LoopApp.StartAsync();
        await loop.WaitInSyncAsync();
        var t = loop.Fabric.Topology!;
        var (a, b) = (t.Switches[0].Name, t.Switches[1].Name);
        var key = loop.App.Configuration["Agents:CredentialKey"]!;
        var credA = AgentCredentials.FromText(key).Issue("mpft", a);
        var distribution = loop.Get<DistributionStatus>();
        var before = distribution.Summaries.Single(s => s.Fabric == "mpft");
        var bus = loop.Get<IBus>();

        // Hello for B with A's credential: no table is sent to the forger's queue.
        var forgedHello = new AgentHello { SwitchName = b, AgentId = "forger", Credential = credA, TableVersion = 0 };
        await bus.Publish(new AgentHelloSent { Fabric = "mpft", Payload = forgedHello.ToByteArray(), ReplyQueue = "forger-queue", SentAt = DateTimeOffset.UtcNow });
        // An ack for B's next version with A's credential.
        var forgedAck = new RouteAck { SwitchName = b, AgentId = "forger", Version = 999, Applied = true, Credential = credA };
        await bus.Publish(new RouteAckSent { Fabric = "mpft", Payload = forgedAck.ToByteArray(), SentAt = DateTimeOffset.UtcNow });

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (distribution.Summaries.Single(s => s.Fabric == "mpft").RejectedCredentials < before.RejectedCredentials + 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        var after = distribution.Summaries.Single(s => s.Fabric == "mpft");
        Assert.Equal(before.RejectedCredentials + 2, after.RejectedCredentials);
        Assert.Equal(after.Switches, after.InSync);
        var sw = await distribution.SwitchAsync("mpft", b);
        Assert.True(sw.FabricFound);
        Assert.NotNull(sw.Switch);
        Assert.NotEqual(999UL, sw.Switch!.AckedVersion);

        // And a port event for B signed by A changes no route.
        var routing = loop.Get<RoutingStatus>();
        var v = routing.Get("mpft")!.RoutingVersion;
        var forgedPort = new PortStateEvent { SwitchName = b, Port = 1, Up = false, AgentId = "forger", Credential = credA, TimeUnixNanos = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 };
        await bus.Publish(new PortStateReported { Fabric = "mpft", Payload = forgedPort.ToByteArray(), TriggerId = "forged" });
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (routing.Get("mpft")!.RejectedPortEvents.Values.Sum() == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(routing.Get("mpft")!.RejectedPortEvents.Values.Sum() >= 1);
        Assert.Equal(0, routing.Get("mpft")!.LinksDownByOverlay);
        Assert.True(routing.Get("mpft")!.RoutingVersion >= v);
    }

    [Fact]
    public async Task Fabricctl_reads_the_loop_and_injects_faults_with_named_errors_for_bad_input()
    {
        await using var loop = await LoopApp.StartAsync();
        await loop.WaitInSyncAsync();
        var (rc, output, error) = await Fabricctl.RunAsync("loop", "status", "--server", loop.BaseUrl);
        Assert.True(rc == 0, error);
        Assert.Contains("in sync", output);
        Assert.Contains("routing", output);

        (rc, output, error) = await Fabricctl.RunAsync("loop", "status", "--server", loop.BaseUrl, "-o", "json");
        Assert.True(rc == 0, error);
        using (var doc = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.True(doc.RootElement.GetProperty("routing").GetProperty("routingVersion").GetInt64() > 0);
            Assert.Equal(loop.Fabric.Topology!.Switches.Count, doc.RootElement.GetProperty("distribution").GetProperty("summary").GetProperty("inSync").GetInt32());
        }

        var link = loop.Fabric.Topology!.Links.First(l => l.Role == LinkRole.LeafSpine).Id;
        var wait = Task.Run(async () =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && loop.Get<RoutingStatus>().Get("mpft")!.LinksDownByOverlay == 0) await Task.Delay(50);
        });
        (rc, output, error) = await Fabricctl.RunAsync("fault", "link-down", link.ToString(System.Globalization.CultureInfo.InvariantCulture), "--server", loop.BaseUrl);
        Assert.True(rc == 0, error);
        Assert.Contains("trigger", output);
        await wait;
        Assert.Equal(1, loop.Get<RoutingStatus>().Get("mpft")!.LinksDownByOverlay);

        (rc, _, error) = await Fabricctl.RunAsync("fault", "link-down", "999999", "--server", loop.BaseUrl);
        Assert.Equal(1, rc);
        Assert.Contains("linkId", error);
        (rc, _, error) = await Fabricctl.RunAsync("fault", "switch-crash", "no-such-switch", "--server", loop.BaseUrl);
        Assert.Equal(1, rc);
        Assert.Contains("switch", error);
        (rc, _, error) = await Fabricctl.RunAsync("loop", "status", "--fabric", "nope", "--server", loop.BaseUrl);
        Assert.Equal(1, rc);
        Assert.Contains("fabric", error);
    }
}
