using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.Testing;
using Google.Protobuf;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Time.Testing;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>Every consumer and endpoint with bad input: refused, logged and counted, or a problem naming the field; never a retry loop.</summary>
[Collection(ServersCollection.Name)]
public sealed class BadInputTests(PostgresFixture pg)
{
    [Fact]
    public async Task Bad_port_events_are_counted_and_change_nothing()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "bad");
        var t = RoutingApp.SmallFt2("bad");
        var initial = await app.InitialTablesAsync(t);
        var leaf = t.Switches.First(s => s.Tier == SwitchTier.Leaf);
        var good = RoutingApp.PortEvent("bad", leaf.Name, leaf.Radix / 2 + 1, up: false, "x");
        var bytes = good.Payload;
        PortStateReported With(Action<Pb.PortStateEvent> edit, string fabric = "bad")
        {
            var ev = Pb.PortStateEvent.Parser.ParseFrom(bytes);
            edit(ev);
            return new PortStateReported { Fabric = fabric, Payload = ev.ToByteArray(), TriggerId = "bad" };
        }
        var unknownSwitch = With(e => { e.SwitchName = "no-such-switch"; e.Credential = RoutingApp.Credentials.Issue("bad", "no-such-switch"); });
        var cases = new (PortStateReported Message, string Map, string Reason)[]
        {
            (new PortStateReported { Fabric = "bad", Payload = [0xff, 0xff, 0xff, 0xff, 0x0f], TriggerId = "bad" }, "rejectedPortEvents", "malformed"),
            (new PortStateReported { Fabric = "bad", Payload = bytes[..(bytes.Length / 2)], TriggerId = "bad" }, "rejectedPortEvents", "malformed"),
            (new PortStateReported { Fabric = "bad", Payload = [], TriggerId = "bad" }, "rejectedPortEvents", "malformed"),
            (new PortStateReported { Fabric = "bad", Payload = null!, TriggerId = "bad" }, "rejectedPortEvents", "malformed"),
            (With(e => e.SwitchName = ""), "rejectedPortEvents", "malformed"),
            (With(e => e.Port = 0), "rejectedPortEvents", "malformed"),
            (With(e => e.Credential = ""), "rejectedPortEvents", "badCredential"),
            (With(e => e.Credential = "not-a-credential"), "rejectedPortEvents", "badCredential"),
            (unknownSwitch, "rejectedPortEvents", "unknownSwitch"),
            (With(e => e.Port = 99), "rejectedPortEvents", "unknownPort"),
            (With(e => e.Port = uint.MaxValue), "rejectedPortEvents", "unknownPort"),
        };
        foreach (var c in cases) await app.Bus.Publish(c.Message);
        await app.Bus.Publish(With(e => { }, fabric: "nowhere"));
        // A good event after them: once its tables are out, every bad one before it was handled.
        await app.Bus.Publish(good with { TriggerId = "good" });
        await app.WaitForAsync(m => m.TriggerIds.Contains("good"), "the good event's tables");
        Assert.DoesNotContain(app.Published.All, m => m.TriggerIds.Contains("bad"));

        using var client = app.CreateClient();
        var status = await RoutingApp.StatusAsync(client, "bad");
        foreach (var g in cases.GroupBy(c => c.Reason))
            Assert.Equal(g.Count(), RoutingApp.Count(status, "rejectedPortEvents", g.Key));
        Assert.Equal(1, (long)status["portEvents"]!);
        Assert.Equal(1, (int)status["linksDownByOverlay"]!);
        var (_, all) = await RoutingApp.GetAsync(client, "/api/v1/routing/fabrics");
        Assert.Equal(1, (long)all!["unroutedPortEvents"]!["unknownFabric"]!);
        Assert.Equal(initial.Count, t.Switches.Count);
    }

    [Fact]
    public async Task Bad_link_load_snapshots_are_ignored_and_counted()
    {
        await using var app = await RoutingApp.StartAsync(pg.Server, "badloads", ("Routing:Adaptive", "false"));
        var t = RoutingApp.SmallFt2("badloads");
        await app.InitialTablesAsync(t);
        LinkLoad Load(int id, double u) => new() { LinkId = id, UtilAtoB = u, UtilBtoA = u, ErrorRate = 0, PreFecBer = 0, DropRate = 0, EcnRate = 0, PauseRate = 0, Up = true, Fresh = true };
        LinkLoadSnapshot Snap(int plane, long seq, bool full, params LinkLoad[] loads) => new() { Fabric = "badloads", Plane = plane, Sequence = seq, IsFull = full, PeriodEnd = app.Clock.GetUtcNow(), MaxLagMs = 0, Loads = loads };
        await app.Bus.Publish(Snap(7, 1, true, Load(0, 0.5)));                  // no such plane
        await app.Bus.Publish(Snap(0, 1, false, Load(0, 0.5)));                 // a delta before any full snapshot
        await app.Bus.Publish(Snap(0, 2, true, Load(0, -0.5), Load(-3, 1), Load(1_000_000, 1), Load(1, 1e9))); // merged; bad ids skipped, bad values clamped
        await app.Bus.Publish(Snap(0, 4, false, Load(0, 0.5)));                 // a gap
        await app.Bus.Publish(Snap(0, 5, false, Load(0, 0.5)));                 // still waiting for a full one
        await app.Bus.Publish(new LinkLoadSnapshot { Fabric = "elsewhere", Plane = 0, Sequence = 1, IsFull = true, PeriodEnd = app.Clock.GetUtcNow(), MaxLagMs = 0, Loads = [] });
        using var client = app.CreateClient();
        await RoutingApp.EventuallyAsync(async () =>
        {
            var s = await RoutingApp.StatusAsync(client, "badloads");
            return (long)s["loadSnapshots"]! + (long)s["loadSnapshotsIgnored"]! == 5;
        }, "five snapshots handled");
        var status = await RoutingApp.StatusAsync(client, "badloads");
        Assert.Equal(1, (long)status["loadSnapshots"]!);
        Assert.Equal(4, (long)status["loadSnapshotsIgnored"]!);
        Assert.Equal("routing", (string)status["state"]!);
        // Adaptive is off: loads never move a table.
        Assert.DoesNotContain(app.Published.All, m => m.Reason == "adaptive");
    }

    public static TheoryData<string, int, string> EndpointCases() => new()
    {
        { "/api/v1/routing/fabrics/nope/status", 404, "fabric" },
        { "/api/v1/routing/fabrics/nope/health", 404, "fabric" },
        { "/api/v1/routing/fabrics/nope/tables/leaf-0", 404, "fabric" },
        { "/api/v1/routing/fabrics/rest/tables/no-such-switch", 404, "switch" },
        { "/api/v1/routing/fabrics/rest/status?verbose=1", 400, "verbose" },
        { "/api/v1/routing/fabrics/rest/tables/x?version=3", 400, "version" },
        { "/api/v1/routing/fabrics/" + new string('f', 201) + "/status", 400, "fabric" },
        { "/api/v1/routing/fabrics/rest/tables/" + new string('s', 201), 400, "switch" },
        { "/api/v1/routing/fabrics/rest/tables/%01", 400, "switch" },
        { "/api/v1/routing/fabrics/%20/health", 400, "fabric" },
    };

    [Theory]
    [MemberData(nameof(EndpointCases))]
    public async Task Endpoints_answer_bad_input_with_a_problem_naming_the_field(string url, int status, string field)
    {
        var app = await pg.SharedAsync("rest", server => RoutingApp.StartAsync(server, "rest"));
        await app.InitialTablesAsync(RoutingApp.SmallFt2("rest"));
        using var client = app.CreateClient();
        var (code, body) = await RoutingApp.GetAsync(client, url);
        Assert.Equal(status, code);
        Assert.NotNull(body!["errors"]![field]);
    }

    [Fact]
    public async Task Endpoints_answer_good_input()
    {
        var app = await pg.SharedAsync("rest", server => RoutingApp.StartAsync(server, "rest"));
        var t = RoutingApp.SmallFt2("rest");
        var tables = await app.InitialTablesAsync(t);
        using var client = app.CreateClient();
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine);
        var (code, table) = await RoutingApp.GetAsync(client, $"/api/v1/routing/fabrics/rest/tables/{spine.Name}");
        Assert.Equal(200, code);
        Assert.Equal(Convert.ToHexStringLower(tables[spine.Name].Digest), (string)table!["digest"]!);
        Assert.Equal(tables[spine.Name].Routes.Count, table["routes"]!.AsArray().Count);
        Assert.Equal("spine", (string)table["tier"]!);
        Assert.All(table["groups"]!.AsArray().SelectMany(g => g!["members"]!.AsArray()), m => Assert.StartsWith("leaf", (string)m!["neighbor"]!, StringComparison.Ordinal));
        var (hc, health) = await RoutingApp.GetAsync(client, "/api/v1/routing/fabrics/rest/health");
        Assert.Equal(200, hc);
        Assert.Equal(1.0, (double)health!["planes"]![0]!["switchLinkCapacityFraction"]!);
        Assert.Equal(0, (int)health["planes"]![0]!["unreachablePairs"]!);
        var (lc, list) = await RoutingApp.GetAsync(client, "/api/v1/routing/fabrics");
        Assert.Equal(200, lc);
        Assert.Contains(list!["fabrics"]!.AsArray(), f => (string)f!["fabric"]! == "rest");
        Assert.Contains("rest v", app.Services.GetService(typeof(RoutingStatus)) is RoutingStatus s ? s.Summary() : "", StringComparison.Ordinal);
    }

    public static TheoryData<string, string?, string> OptionCases() => new()
    {
        { "Agents:CredentialKey", null, "Agents:CredentialKey is required" },
        { "Agents:CredentialKey", "short", "Agents:CredentialKey must be at least 16 bytes" },
        { "Routing:AdaptivePeriodMs", "0", "Routing:AdaptivePeriodMs" },
        { "Routing:GroupSize", "0", "Routing:GroupSize" },
        { "Routing:AdaptivePolicy:Gain", "1.5", "Routing:AdaptivePolicy:Gain" },
        { "Routing:AdaptivePolicy:MaxBucketChangePerStep", "0", "Routing:AdaptivePolicy:MaxBucketChangePerStep" },
    };

    [Theory]
    [MemberData(nameof(OptionCases))]
    public async Task Bad_options_stop_the_host_with_a_message_naming_the_key(string key, string? value, string message)
    {
        var cs = await pg.SharedAsync("options-db", async server => new Holder(await server.CreateDatabaseAsync("routing")));
        var settings = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:inventory"] = cs.Value,
            ["Agents:CredentialKey"] = RoutingApp.Key,
            [key] = value,
        };
        await using var app = new RoutingApp(settings, new FakeTimeProvider(RoutingApp.Start));
        var e = Assert.ThrowsAny<Exception>(() => app.Server);
        var all = e.ToString();
        Assert.Contains(message, all, StringComparison.Ordinal);
    }

    private sealed record Holder(string Value);
}
