using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Routing;
using ControlPlane.Testing;
using Google.Protobuf;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RouteKey = ControlPlane.Distribution.RouteKey;
using SpreadMode = ControlPlane.Distribution.SpreadMode;

namespace ControlPlane.Agent.Tests;

/// <summary>The emulated fabric end to end on the in-memory bus: hellos, updates, acks, faults, telemetry.</summary>
[Collection(PostgresCollection.Name)]
public sealed class EmulatedFabricTests(PostgresFixture pg)
{
    private static readonly AgentCredentials Creds = AgentCredentials.FromText(AgentApp.Key);

    private static byte[] Full(SwitchTable t) => new RouteUpdate { Table = TableWire.ToProto(t) }.ToByteArray();

    /// <summary>Computes routes for the fabric, sends every switch its table and waits until all acknowledge it.</summary>
    private static async Task<IReadOnlyDictionary<string, SwitchTable>> InstallAllAsync(AgentApp app, string fabric, FabricTopology t)
    {
        var result = RoutingEngine.Compute(FabricSnapshot.Initial(t), TrafficPolicy.Default);
        var tables = RoutingExport.All(result);
        // As distribution sends a wave to agents behind one queue: one batch message.
        await app.SendBatchAsync(fabric, [.. tables.Select(kv => new RouteUpdateOrdered { Fabric = fabric, SwitchName = kv.Key, Payload = Full(kv.Value), SentAt = DateTimeOffset.UtcNow })]);
        await AgentApp.EventuallyAsync(() => tables.All(kv => app.Acks().Any(a => a.SwitchName == kv.Key && a.Applied && a.Version == kv.Value.Version)), "every switch to acknowledge its table");
        return tables;
    }

    [Fact]
    public async Task Agents_say_hello_apply_updates_whole_and_refuse_bad_ones()
    {
        await using var app = await AgentApp.StartEmulatedAsync(pg.Server, "emu1");
        var t = AgentApp.SmallFt2("emu1");
        var fabric = app.Services.GetRequiredService<EmulatedFabric>();

        // Every switch says hello with its own credential, version 0, naming the queue.
        await AgentApp.EventuallyAsync(() => app.Hellos().Select(h => h.SwitchName).Distinct().Count() == t.Switches.Count, "a hello from every switch");
        Assert.All(app.Hellos(), h =>
        {
            Assert.True(Creds.Verify("emu1", h.SwitchName, h.Credential), h.SwitchName);
            Assert.False(Creds.Verify("emu1", h.SwitchName == t.Switches[0].Name ? t.Switches[1].Name : t.Switches[0].Name, h.Credential));
            Assert.Equal(0ul, h.TableVersion);
        });
        Assert.All(app.Recorder.Of<AgentHelloSent>(), h => Assert.Equal(app.Queue, h.ReplyQueue));

        // Tables from the engine are applied and acknowledged with their digest and the switch's credential.
        var tables = await InstallAllAsync(app, "emu1", t);
        foreach (var (sw, table) in tables)
        {
            var ack = app.Acks().Last(a => a.SwitchName == sw);
            Assert.Equal(table.DigestBytes(), ack.InstalledDigest.ToByteArray());
            Assert.True(Creds.Verify("emu1", sw, ack.Credential));
            Assert.Equal(table.DigestBytes(), fabric.DataPlane(t.FindSwitch(sw))!.ReadBack());
        }

        // A delta against a base the agent does not hold is refused; the old table stays.
        var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf).Name;
        var held = tables[leaf];
        var next = new SwitchTable(leaf, held.Version + 1, held.GroupSize, held.Groups.Values, held.Routes.Where(r => r.Key.TrafficClass != "other"));
        var wrongBase = TableDiff.Compute(held.WithVersion(held.Version + 5), next.WithVersion(held.Version + 6));
        var acksBefore = app.Acks().Count();
        await app.SendUpdateAsync("emu1", leaf, new RouteUpdate { Delta = TableWire.ToProto(wrongBase) }.ToByteArray());
        await AgentApp.EventuallyAsync(() => app.Acks().Count() > acksBefore, "the refusal");
        var refused = app.Acks().Last(a => a.SwitchName == leaf);
        Assert.False(refused.Applied);
        Assert.NotEmpty(refused.RejectReason);
        Assert.Equal(held.DigestBytes(), refused.InstalledDigest.ToByteArray());
        Assert.Equal(held.Version, fabric.Agents[t.FindSwitch(leaf)].Version);

        // A table over the switch's capacity (4,096 groups) is refused with a reason.
        var big = new SwitchTableBuilder(leaf, held.Version + 10, 64);
        // Distinct groups (identical ones are shared): three of the four up ports, weights (a, b, 64 - a - b).
        var n = 0;
        for (var skip = 5; skip <= 8 && n < 4097; skip++)
            for (var a = 1; a < 63 && n < 4097; a++)
                for (var w2 = 1; a + w2 < 64 && n < 4097; w2++, n++)
                    big.Route($"x{n}", "ep", [.. Enumerable.Range(5, 4).Where(p => p != skip)], [a, w2, 64 - a - w2], SpreadMode.Spray);
        acksBefore = app.Acks().Count();
        await app.SendUpdateAsync("emu1", leaf, Full(big.Build()));
        await AgentApp.EventuallyAsync(() => app.Acks().Count() > acksBefore, "the capacity refusal");
        refused = app.Acks().Last(a => a.SwitchName == leaf);
        Assert.False(refused.Applied);
        Assert.Contains("table full", refused.RejectReason);
        Assert.Equal(held.Version, fabric.Agents[t.FindSwitch(leaf)].Version);

        // Garbage bytes for a known switch: refused, naming why.
        acksBefore = app.Acks().Count();
        await app.SendUpdateAsync("emu1", leaf, [0x0A, 0xFF, 0x01]);
        await AgentApp.EventuallyAsync(() => app.Acks().Count() > acksBefore, "the malformed refusal");
        Assert.Contains("malformed", app.Acks().Last().RejectReason);

        // An update for a switch (or fabric) not served here is dropped: no ack, counted.
        var directory = app.Services.GetRequiredService<AgentDirectory>();
        var dropped = directory.Dropped;
        acksBefore = app.Acks().Count();
        await app.SendUpdateAsync("emu1", "no-such-switch", Full(held));
        await app.SendUpdateAsync("other-fabric", leaf, Full(held));
        await AgentApp.EventuallyAsync(() => directory.Dropped == dropped + 2, "both drops");
        // A batch without its list, and one with a null member and an unknown switch: each member counted as a drop.
        await app.SendBatchAsync("emu1", null!);
        await app.SendBatchAsync("emu1", [null!, new RouteUpdateOrdered { Fabric = "emu1", SwitchName = "no-such-switch", Payload = Full(held), SentAt = DateTimeOffset.UtcNow }]);
        await AgentApp.EventuallyAsync(() => directory.Dropped == dropped + 5, "the batch drops");
        await Task.Delay(200);
        Assert.Equal(acksBefore, app.Acks().Count());

        // The safety hook walked the installed tables and found neither loops nor blackholes.
        using var client = app.CreateClient();
        var (status, body) = await AgentApp.GetAsync(client, "/api/v1/emulation/status");
        Assert.Equal(200, status);
        Assert.True((long)body!["forwardingChecks"]! > 0, body.ToJsonString());
        Assert.Equal(0, (long)body["forwardingProblems"]!);
        Assert.Equal(t.Switches.Count, (int)body["agents"]!);
        Assert.True((long)body["rejects"]! >= 3);
        Assert.Equal(held.Version, (ulong)body["maxVersion"]!);

        // ... and it does see one: a spine sending leaf-1's "ep" traffic back down to leaf-0 makes a loop from leaf-0.
        var spine = t.Switches.First(x => x.Tier == SwitchTier.Spine);
        var leaf0 = t.Switches.First(x => x.Tier == SwitchTier.Leaf);
        var leaf1 = t.Switches.Where(x => x.Tier == SwitchTier.Leaf).Skip(1).First();
        var towardLeaf0 = Enumerable.Range(1, spine.Radix).First(p => t.LinkAtSwitchPort(spine.Id, p) is var l && l >= 0 && t.Opposite(l, spine.Id).Device == leaf0.Id);
        var spineTable = tables[spine.Name];
        var looped = new SwitchTableBuilder(spine.Name, spineTable.Version + 1, spineTable.GroupSize, spineTable);
        foreach (var (k, r) in spineTable.Routes)
        {
            if (k.Destination == leaf1.Name && k.TrafficClass == "ep") looped.Route(k.Destination, k.TrafficClass, [towardLeaf0], [spineTable.GroupSize], r.Mode);
            else if (r.GroupId == SwitchTable.LocalGroup) looped.Local(k.Destination, k.TrafficClass, r.Mode);
            else
            {
                var m = spineTable.Groups[r.GroupId].Members;
                looped.Route(k.Destination, k.TrafficClass, [.. m.Select(x => x.Port)], [.. m.Select(x => x.Weight)], r.Mode);
            }
        }
        await app.SendUpdateAsync("emu1", spine.Name, Full(looped.Build()));
        await AgentApp.EventuallyAsync(() => { fabric.RefreshStatus(); return app.Services.GetRequiredService<EmulatedFabricStatus>().Snapshot.ForwardingProblems > 0; }, "the loop to be found");
        fabric.RefreshStatus();
        Assert.Contains("Loop", app.Services.GetRequiredService<EmulatedFabricStatus>().Snapshot.LastForwardingProblem);
    }

    [Fact]
    public async Task Telemetry_batches_decode_and_their_counters_grow_with_the_emulated_load()
    {
        await using var app = await AgentApp.StartEmulatedAsync(pg.Server, "emu2");
        var t = AgentApp.SmallFt2("emu2");
        await AgentApp.EventuallyAsync(() => app.Batches().Select(b => b.SwitchName).Distinct().Count() == t.Switches.Count, "a batch from every switch");

        // Before any table is installed nothing is delivered: fabric ports carry nothing.
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine).Name;
        Assert.All(app.Batches().Where(b => b.SwitchName == spine), b => Assert.All(b.Ports, p => Assert.Equal(0ul, p.TxBytes)));

        await InstallAllAsync(app, "emu2", t);
        var mark = app.Batches().Count();
        await AgentApp.EventuallyAsync(() => app.Batches().Skip(mark).Count(b => b.SwitchName == spine) >= 3, "three batches of the spine after the install");
        var after = app.Batches().Skip(mark).Where(b => b.SwitchName == spine).ToList();
        var first = after[0];
        var last = after[^1];
        Assert.True(last.Sequence > first.Sequence);
        Assert.Equal(first.SessionId, last.SessionId);
        Assert.Equal(first.BootId, last.BootId);
        Assert.NotEqual(0ul, first.BootId);
        Assert.True(last.SampleTimeUnixNanos > first.SampleTimeUnixNanos);
        // One sample per cabled port, ports in range, each once.
        var sw = t.FindSwitch(spine);
        var cabled = Enumerable.Range(1, t.Switches[sw].Radix).Where(p => t.LinkAtSwitchPort(sw, p) >= 0).Select(p => (uint)p).ToList();
        Assert.Equal(cabled, last.Ports.Select(p => p.Port).ToList());
        Assert.All(last.Ports, p => Assert.Equal(PortOperState.Up, p.OperState));
        // Counters are monotonic and grow with the load; rates stay at or under line rate.
        var seconds = (last.SampleTimeUnixNanos - first.SampleTimeUnixNanos) / 1e9;
        Assert.Contains(last.Ports, p => p.TxBytes > first.Ports.First(q => q.Port == p.Port).TxBytes);
        foreach (var p in last.Ports)
        {
            var q = first.Ports.First(x => x.Port == p.Port);
            Assert.True(p.TxBytes >= q.TxBytes && p.RxBytes >= q.RxBytes && p.TxPackets >= q.TxPackets);
            Assert.True((p.TxBytes - q.TxBytes) * 8 / seconds <= 400e9 * 1.0001, $"port {p.Port} above line rate");
        }

        using var client = app.CreateClient();
        var (_, body) = await AgentApp.GetAsync(client, "/api/v1/emulation/status");
        Assert.True((double)body!["maxUtilization"]! > 0, body.ToJsonString());
        Assert.True((double)body["lowerBound"]! > 0);
        Assert.True((double)body["ratioToBound"]! >= 1 - 1e-9);
        Assert.Equal(0, (double)body["undeliveredBytes"]!);
        Assert.Equal(t.Switches.Count, (int)body["batchesLastPeriod"]!);
        // Nothing changed in the last periods: the loads carried over without running the emulator again.
        Assert.True((long)body["emulations"]! < (long)body["period"]!, body.ToJsonString());
        var summary = app.Services.GetRequiredService<EmulatedFabricStatus>().Summary();
        Assert.Contains("12 agents", summary);
    }

    [Fact]
    public async Task Faults_make_both_ends_report_at_once_with_the_trigger_id()
    {
        await using var app = await AgentApp.StartEmulatedAsync(pg.Server, "emu3", ("Emulation:PeriodMs", "60000"));
        var t = AgentApp.SmallFt2("emu3");
        var fabric = app.Services.GetRequiredService<EmulatedFabric>();
        await AgentApp.EventuallyAsync(() => fabric.Loaded, "the fabric to load");
        await InstallAllAsync(app, "emu3", t);
        using var client = app.CreateClient();
        var link = t.Links.First(l => l.IsSwitchLink);
        var ends = new[] { (t.Switches[link.A.Device].Name, (uint)link.A.Port), (t.Switches[link.B.Device].Name, (uint)link.B.Port) };

        // REST link down: both ends report down with the trigger id before the POST returns.
        var (status, body) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", $$"""{"kind":"linkDown","linkId":{{link.Id}}}""");
        Assert.Equal(202, status);
        var trigger = (string)body!["triggerId"]!;
        var events = app.PortEvents().Where(e => e.Trigger == trigger).ToList();
        Assert.Equal(ends.OrderBy(x => x), events.Select(e => (e.Event.SwitchName, e.Event.Port)).OrderBy(x => x));
        Assert.All(events, e => { Assert.False(e.Event.Up); Assert.True(Creds.Verify("emu3", e.Event.SwitchName, e.Event.Credential)); });
        var (_, faults) = await AgentApp.GetAsync(client, "/api/v1/emulation/faults");
        Assert.Contains(faults!["faults"]!.AsArray(), f => (string)f!["triggerId"]! == trigger && (bool)f["active"]!);

        // The emulator carries nothing over the dead link, even though the installed tables still name it.
        var report = await fabric.RunPeriodAsync(CancellationToken.None);
        var physical = fabric.PhysicalSnapshot();
        Assert.False(physical.IsLinkUsable(link.Id));
        var last = app.Batches().Last(b => b.SwitchName == ends[0].Item1);
        Assert.Equal(PortOperState.Down, last.Ports.First(p => p.Port == ends[0].Item2).OperState);
        Assert.Equal(1ul, last.Ports.First(p => p.Port == ends[0].Item2).LinkDownCount);
        Assert.Equal(0, report.UndeliveredBytes);

        // Bus link up: both ends report up with the command's trigger id.
        await app.Services.GetRequiredService<IBus>().Publish(new FaultInjectionOrdered { Fabric = "emu3", Kind = FaultKind.LinkUp, LinkId = link.Id, TriggerId = "bus-up-1" });
        await AgentApp.EventuallyAsync(() => app.PortEvents().Count(e => e.Trigger == "bus-up-1" && e.Event.Up) == 2, "both ends up");

        // Flap: down now, up after the duration, one trigger id.
        (status, body) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", $$"""{"kind":"linkFlap","linkId":{{link.Id}},"durationMs":150}""");
        Assert.Equal(202, status);
        var flap = (string)body!["triggerId"]!;
        Assert.Equal(2, app.PortEvents().Count(e => e.Trigger == flap && !e.Event.Up));
        await AgentApp.EventuallyAsync(() => app.PortEvents().Count(e => e.Trigger == flap && e.Event.Up) == 2, "the flap to end");

        // Switch crash: neighbours report; the agent stops answering; restart says hello with version 0.
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine);
        (status, body) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", $$"""{"kind":"switchCrash","switch":"{{spine.Name}}"}""");
        Assert.Equal(202, status);
        var crash = (string)body!["triggerId"]!;
        var neighbours = Enumerable.Range(1, spine.Radix).Select(p => t.LinkAtSwitchPort(spine.Id, p)).Where(l => l >= 0).Select(l => t.Switches[t.Opposite(l, spine.Id).Device].Name).OrderBy(x => x).ToList();
        Assert.Equal(neighbours, app.PortEvents().Where(e => e.Trigger == crash).Select(e => e.Event.SwitchName).OrderBy(x => x).ToList());
        Assert.Null(fabric.DataPlane(spine.Id));
        var acks = app.Acks().Count();
        await app.SendUpdateAsync("emu3", spine.Name, Full(RoutingExport.ForSwitch(RoutingEngine.Compute(FabricSnapshot.Initial(t), TrafficPolicy.Default), spine.Id)));
        await Task.Delay(300);
        Assert.Equal(acks, app.Acks().Count());
        var crashedReport = await fabric.RunPeriodAsync(CancellationToken.None);
        Assert.DoesNotContain(app.Batches().Reverse().Take(t.Switches.Count - 1), b => b.SwitchName == spine.Name);
        Assert.True(crashedReport.MaxFabricUtilization > 0);

        var hellos = app.Hellos().Count(h => h.SwitchName == spine.Name);
        (status, _) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", $$"""{"kind":"switchRestart","switch":"{{spine.Name}}"}""");
        Assert.Equal(202, status);
        var hello = app.Hellos().Where(h => h.SwitchName == spine.Name).Skip(hellos).First();
        Assert.Equal(0ul, hello.TableVersion);
        Assert.NotNull(fabric.DataPlane(spine.Id));
        (_, faults) = await AgentApp.GetAsync(client, "/api/v1/emulation/faults");
        Assert.DoesNotContain(faults!["faults"]!.AsArray(), f => (bool)f!["active"]!);
    }

    [Fact]
    public async Task Bad_input_to_the_endpoints_and_consumers_is_refused_naming_the_field()
    {
        await using var app = await AgentApp.StartEmulatedAsync(pg.Server, "emu4", ("Emulation:PeriodMs", "60000"));
        var fabric = app.Services.GetRequiredService<EmulatedFabric>();
        await AgentApp.EventuallyAsync(() => fabric.Loaded, "the fabric to load");
        using var client = app.CreateClient();
        async Task Bad(string json, string field)
        {
            var (status, body) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", json);
            Assert.True(status == 400, $"{json}: {status} {body?.ToJsonString()}");
            Assert.NotNull(body!["errors"]![field]);
        }
        await Bad("""{"kind":"explode","linkId":1}""", "kind");
        await Bad("""{"linkId":1}""", "kind");
        await Bad("""{"kind":"linkDown","linkId":99999}""", "linkId");
        await Bad("""{"kind":"linkDown"}""", "linkId");
        await Bad("""{"kind":"linkFlap","linkId":0,"durationMs":-5}""", "durationMs");
        await Bad("""{"kind":"linkFlap","linkId":0}""", "durationMs");
        await Bad("""{"kind":"switchCrash"}""", "switch");
        await Bad("""{"kind":"switchCrash","switch":"nope"}""", "switch");
        await Bad("""{"kind":"linkDown","linkId":1,"colour":"red"}""", "colour");
        await Bad("""{"kind":"linkDown","linkId":"one"}""", "linkId");
        var (s, b) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", "");
        Assert.Equal(400, s);
        Assert.NotNull(b!["errors"]!["body"]);
        Assert.Empty(app.PortEvents());

        // Bad bus commands are counted and dropped; nothing changes.
        var bus = app.Services.GetRequiredService<IBus>();
        var status = app.Services.GetRequiredService<EmulatedFabricStatus>();
        fabric.RefreshStatus();
        var rejected = status.Snapshot.FaultsRejected;
        Assert.Equal(7, rejected); // the REST refusals that reached validation (well-formed JSON) count too
        await bus.Publish(new FaultInjectionOrdered { Fabric = "emu4", Kind = FaultKind.LinkDown, LinkId = 99999, TriggerId = "bad-1" });
        await bus.Publish(new FaultInjectionOrdered { Fabric = "emu4", Kind = FaultKind.SwitchCrash, TriggerId = "bad-2" });
        await bus.Publish(new FaultInjectionOrdered { Fabric = "emu4", Kind = (FaultKind)42, LinkId = 1, TriggerId = "bad-3" });
        await bus.Publish(new FaultInjectionOrdered { Fabric = "emu4", Kind = FaultKind.LinkDown, LinkId = 1, TriggerId = "" });
        await AgentApp.EventuallyAsync(() => { fabric.RefreshStatus(); return status.Snapshot.FaultsRejected == rejected + 4; }, "four refusals");
        // A command for another fabric is ignored (not this host's business).
        await bus.Publish(new FaultInjectionOrdered { Fabric = "elsewhere", Kind = FaultKind.LinkDown, LinkId = 1, TriggerId = "other" });
        await Task.Delay(200);
        Assert.Empty(app.PortEvents());
        Assert.Empty(fabric.Faults());
    }

    [Fact]
    public async Task Before_the_fabric_exists_the_host_waits_and_says_so()
    {
        await using var app = await AgentApp.StartEmulatedAsync(pg.Server, "emu5", ("Emulation:Fabric", "not-yet"));
        using var client = app.CreateClient();
        await AgentApp.EventuallyAsync(() => app.Services.GetRequiredService<EmulatedFabricStatus>().Snapshot.State.Contains("waiting"), "the waiting state");
        var (status, body) = await AgentApp.GetAsync(client, "/api/v1/emulation/status");
        Assert.Equal(200, status);
        Assert.Contains("not-yet", (string)body!["state"]!);
        var (post, _) = await AgentApp.PostJsonAsync(client, "/api/v1/emulation/faults", """{"kind":"linkDown","linkId":1}""");
        Assert.Equal(503, post);
        Assert.Empty(app.Hellos());
    }
}
