using ControlPlane.Contracts;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Testing;
using Google.Protobuf;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>Forged credentials, malformed payloads, duplicate and stale acks, refusals by full tables, bad requests.</summary>
[Collection(ServersCollection.Name)]
public sealed class BadInputTests(PostgresFixture pg)
{
    [Fact]
    public async Task Forged_credentials_bad_payloads_and_duplicate_or_stale_acks_change_nothing()
    {
        await using var app = await DistributionApp.StartAsync(pg.Server, "bad");
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "bad");
        await using var _a = agents;
        await using var _c = converged;
        var client = app.CreateClient();
        var leaves = routing.Snapshot.Topology.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Name).ToList();
        var (victim, thief) = (leaves[0], leaves[1]);

        // A hello for the victim's switch with the thief's credential, asking for the table on the thief's own queue: nothing is sent.
        await using var spy = await TestAgents.StartAsync(app.Bus, DistributionApp.SmallFt2("bad"), routing.Classes);
        spy.Reset(victim);
        await spy.HelloAsync(victim, credential: DistributionApp.Credentials.Issue("bad", thief), queue: spy.Queue);
        await spy.HelloAsync(victim, credential: "", queue: spy.Queue);
        await spy.HelloAsync(victim, credential: DistributionApp.Credentials.Issue("other-fabric", victim), queue: spy.Queue);
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().RejectedCredentials == 3, () => $"3 refused credentials: {app.Status.Summaries.Single()}");

        // The victim is taken off-line; a change is rolled out; an ack for the victim signed by the thief is refused.
        agents.Down[victim] = true;
        var change = routing.Change(routing.Snapshot.WithLink(ClosedLoopTests.Uplink(routing.Snapshot.Topology, 2), new ElementState(ElementStatus.Down)), priority: true, "port-down");
        await app.Bus.Publish(change);
        SwitchView? view = null;
        await DistributionApp.EventuallyAsync(async () => (view = (await app.Status.SwitchAsync("bad", victim)).Switch)!.DesiredVersion > agents.Current(victim).Version,
            () => "a new version for the victim");
        var desired = routing.Tables[victim];
        var forged = new AgentAck(victim, view!.DesiredVersion, true, null, desired.DigestBytes());
        await agents.AckAsync(forged, credential: DistributionApp.Credentials.Issue("bad", thief));
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().RejectedCredentials == 4, () => "the forged ack refused");
        // Inside a batch, next to a genuine ack, the forged one is refused alone: a batch vouches for none of its members.
        var forgedWire = TableWire.ToProto(forged, "thief");
        forgedWire.Credential = DistributionApp.Credentials.Issue("bad", thief);
        await app.Bus.Publish(new RouteAcksSent { Fabric = "bad", Acks = [new RouteAckSent { Fabric = "bad", Payload = forgedWire.ToByteArray() }] });
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().RejectedCredentials == 5, () => "the forged ack in a batch refused");
        Assert.Equal(agents.Current(victim).Version, (await app.Status.SwitchAsync("bad", victim)).Switch!.AckedVersion);
        Assert.Equal(0, spy.Updates);

        // Malformed payloads: logged and counted, never retried, nothing changes.
        var malformedBefore = app.Status.Summaries.Single().Malformed;
        await app.Bus.Publish(new AgentHelloSent { Fabric = "bad", Payload = [0xff, 0xff, 0xff], ReplyQueue = spy.Queue });
        await app.Bus.Publish(new RouteAckSent { Fabric = "bad", Payload = [0x0a, 0x50, 0x01] });
        var goodHello = TableWire.ToProto(new AgentHelloInfo(victim, 0, []), "a", DistributionApp.Credentials.Issue("bad", victim), "t").ToByteArray();
        await app.Bus.Publish(new AgentHelloSent { Fabric = "bad", Payload = goodHello, ReplyQueue = "queue://elsewhere" });
        await app.Bus.Publish(routing.Message([routing.Tables[thief]], priority: true, complete: false, "bad") with { Tables = [[0x12, 0x34, 0x56]] });
        var badDigest = TableWire.ToProto(routing.Tables[thief].WithVersion(0));
        badDigest.Digest = ByteString.CopyFrom(new byte[32]);
        await app.Bus.Publish(routing.Message([], priority: true, complete: false, "bad") with { Tables = [badDigest.ToByteArray()] });
        await app.Bus.Publish(new RouteAckSent { Fabric = "nowhere", Payload = [] });
        // Batches: no list, a null member, a member of another fabric, a member that is not a RouteAck (one count each).
        await app.Bus.Publish(new RouteAcksSent { Fabric = "bad", Acks = null! });
        await app.Bus.Publish(new RouteAcksSent { Fabric = "bad", Acks = [null!, new RouteAckSent { Fabric = "other", Payload = [] }, new RouteAckSent { Fabric = "bad", Payload = [0x0a, 0x50, 0x01] }] });
        await app.Bus.Publish(new RouteAcksSent { Fabric = "nowhere", Acks = [] });
        await DistributionApp.EventuallyAsync(() => app.Status.Summaries.Single().Malformed == malformedBefore + 9, () => $"9 malformed counted: {app.Status.Summaries.Single()}");
        await DistributionApp.EventuallyAsync(() => app.Status.Intake.GetValueOrDefault("unknownFabric") >= 1, () => "unknown fabric counted");
        Assert.Equal(0, spy.Updates);

        // Duplicate, stale and never-sent acks for a switch in sync: harmless.
        agents.Down.TryRemove(victim, out _);
        await agents.HelloAsync(victim);
        await DistributionApp.EventuallyAsync(() => agents.Current(victim).SameContents(routing.Tables[victim]), () => "the victim to catch up");
        var now = agents.Current(victim);
        var acked = (await app.Status.SwitchAsync("bad", victim)).Switch!;
        await agents.AckAsync(new AgentAck(victim, now.Version, true, null, now.DigestBytes()));
        await agents.AckAsync(new AgentAck(victim, now.Version - 1, true, null, now.DigestBytes()));
        await agents.AckAsync(new AgentAck(victim, now.Version + 50, true, null, now.DigestBytes()));
        await agents.AckAsync(new AgentAck(victim, now.Version - 1, false, "late refusal", now.DigestBytes()));
        await Task.Delay(200);
        var after = (await app.Status.SwitchAsync("bad", victim)).Switch!;
        Assert.Equal(acked.AckedVersion, after.AckedVersion);
        Assert.Equal(acked.DesiredVersion, after.DesiredVersion);
        Assert.True(after.InSync);
        Assert.Null(after.LastRejectReason);

        // The HTTP API: unknown fabric or switch 404, bad names 400, each naming the field.
        var (s1, b1) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/nope/status");
        Assert.Equal(404, s1);
        Assert.NotNull(b1!["errors"]!["fabric"]);
        var (s2, b2) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/bad/switches/leaf-x");
        Assert.Equal(404, s2);
        Assert.NotNull(b2!["errors"]!["switch"]);
        var (s3, b3) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/" + new string('f', 200) + "/lagging");
        Assert.Equal(400, s3);
        Assert.NotNull(b3!["errors"]!["fabric"]);
        var (s4, b4) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/bad/switches/%01x");
        Assert.Equal(400, s4);
        Assert.NotNull(b4!["errors"]!["switch"]);
        var (s5, b5) = await DistributionApp.GetAsync(client, "/api/v1/distribution/fabrics/nope/lagging");
        Assert.Equal(404, s5);
        Assert.NotNull(b5!["errors"]!["fabric"]);
        var (s6, b6) = await DistributionApp.GetAsync(client, "/api/v1/distribution/status");
        Assert.Equal(200, s6);
        Assert.Equal("bad", (string)b6!["fabrics"]![0]!["fabric"]!);
    }

    [Fact]
    public async Task A_table_full_rejection_keeps_the_last_good_table_and_shows_in_status()
    {
        var topology = DistributionApp.SmallFt2("full");
        var leaves = topology.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Name).ToList();
        var small = leaves[2];
        await using var app = await DistributionApp.StartAsync(pg.Server, "full",
            ("Distribution:PriorityWaveTimeout", "00:00:00.200"), ("Distribution:ConvergenceTimeout", "00:00:00.500"));
        // Its data plane holds exactly the groups of the healthy fabric's table, not the extra ones a failure needs.
        var healthy = new RoutingDriver(topology);
        healthy.Initial();
        var groups = healthy.Tables[small].Groups.Count;
        var (routing, agents, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "full", sw => sw == small ? new SwitchCapacity(groups, 8, 256) : SwitchCapacity.For(topology.Switches[topology.FindSwitch(sw)]));
        await using var _a = agents;
        await using var _c = converged;
        var good = agents.Current(small);
        Assert.Equal(groups, good.Groups.Count);

        var change = routing.Change(routing.Snapshot.WithLink(ClosedLoopTests.Uplink(topology, 0), new ElementState(ElementStatus.Down)), priority: true, "port-down");
        Assert.True(routing.Tables[small].Groups.Count > groups, $"{routing.Tables[small].Groups.Count} groups after the failure");
        await app.Bus.Publish(change);
        var c = await converged.WaitAsync(change.RoutingVersion);
        Assert.Equal([small], c.Lagging);
        Assert.Equal(good, agents.Current(small));
        var view = (await app.Status.SwitchAsync("full", small)).Switch!;
        Assert.Contains("table full", view.LastRejectReason);
        Assert.Contains("table full", view.Blocked);
        Assert.False(view.InSync);
        Assert.Equal(good.Version, view.AckedVersion);
        var status = await app.Status.FabricAsync("full");
        Assert.True(status!.Summary.AgentRejections >= 1);
        Assert.Contains(status.Lagging, l => l.Switch == small && l.Blocked is not null);
        Assert.Contains(status.Rejections, r => r.Switch == small);
        foreach (var sw in leaves.Where(l => l != small)) Assert.True(agents.Current(sw).SameContents(routing.Tables[sw]), $"{sw} should have its new table");
    }
}
