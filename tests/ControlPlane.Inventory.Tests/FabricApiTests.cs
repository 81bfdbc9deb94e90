using System.Net;
using System.Text.Json.Nodes;
using ControlPlane.Fabric;
using ControlPlane.Testing;

namespace ControlPlane.Inventory.Tests;

/// <summary>Create, read, filter, page, drain and delete against the real PostgreSQL store.</summary>
[Collection(ServersCollection.Name)]
public sealed class FabricApiTests(PostgresFixture pg) : IAsyncLifetime
{
    private InventoryApp _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _app = await InventoryApp.OnPostgresAsync(pg.Server);
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Create_from_generator_stores_every_element_and_loads_back_the_same_fabric()
    {
        var r = await _client.PostAsync("/api/v1/fabrics", InventoryApp.JsonBody(
            """{"name":"mp","generator":{"kind":"mpft","radix":8,"portSpeedGbps":400,"planes":2,"gpusPerNode":8,"nicsPerNode":8,"oversubscription":1.0,"leavesPerPlane":null,"pods":null}}"""));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("/api/v1/fabrics/mp", r.Headers.Location?.ToString());
        var summary = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

        var expected = FabricGenerator.Generate(new GeneratorParameters { Name = "mp", Kind = TopologyKind.Mpft, Radix = 8, Planes = 2 });
        Assert.Equal("mpft", (string?)summary["kind"]);
        Assert.Equal(1, (long)summary["version"]!);
        Assert.Equal(2, (int)summary["planes"]!);
        Assert.Equal(expected.Switches.Count, (int)summary["switches"]!);
        Assert.Equal(expected.Hosts.Count, (int)summary["hosts"]!);
        Assert.Equal(expected.EndpointCount, (int)summary["endpoints"]!);
        Assert.Equal(expected.Links.Count, (int)summary["links"]!);
        Assert.Equal(expected.SwitchLinkCount, (int)summary["switchLinks"]!);
        Assert.Equal(expected.Transceivers.Count, (int)summary["transceivers"]!);

        var snap = await _app.LoadAsync("mp");
        Assert.NotNull(snap);
        Assert.Equal(1, snap.Version);
        var t = snap.Topology;
        Assert.Equal(TopologyKind.Mpft, t.Kind);
        Assert.Equal(expected.Planes, t.Planes);
        Assert.Equal(expected.Switches, t.Switches);
        Assert.Equal(expected.Links, t.Links);
        Assert.Equal(expected.Transceivers, t.Transceivers);
        Assert.Equal(expected.Hosts.Count, t.Hosts.Count);
        for (var h = 0; h < t.Hosts.Count; h++)
        {
            Assert.Equal(expected.Hosts[h] with { Nics = [] }, t.Hosts[h] with { Nics = [] });
            Assert.Equal(expected.Hosts[h].Nics, t.Hosts[h].Nics);
        }
        Assert.Equal(expected.Parameters, t.Parameters);
        Assert.All(Enumerable.Range(0, t.Links.Count), i => Assert.True(snap.IsLinkUsable(i)));
        Assert.Equal(expected.LinkAtSwitchPort(0, 5), t.LinkAtSwitchPort(0, 5));

        var list = await InventoryApp.GetAsync<JsonArray>(_client, "/api/v1/fabrics");
        Assert.Single(list);
        Assert.Equal("mp", (string?)list[0]!["name"]);
        var one = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/mp");
        Assert.Equal(expected.Links.Count, (int)one["links"]!);
    }

    [Fact]
    public async Task Creating_an_existing_name_is_a_409_and_changes_nothing()
    {
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("dup"));
        var before = await _app.CountRowsAsync();
        var (status, body, type) = await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics", InventoryApp.SmallFt2("dup", radix: 16));
        Assert.Equal(409, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("dup", (string?)body!["detail"]);
        Assert.Equal(before, await _app.CountRowsAsync());
    }

    [Fact]
    public async Task Lists_filter_and_page()
    {
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("f"));
        // FT2 radix 8: 8 leaves (4 down, 4 up), 4 spines, 4 nodes of 8 NICs, 32 host links, 32 leaf-spine links.
        var spines = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/switches?tier=spine");
        Assert.Equal(4, (int)spines["total"]!);
        Assert.All(spines["items"]!.AsArray(), s => Assert.Equal("spine", (string?)s!["tier"]));

        var page = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/switches?offset=10&limit=5");
        Assert.Equal(12, (int)page["total"]!);
        Assert.Equal(10, (int)page["offset"]!);
        Assert.Equal(5, (int)page["limit"]!);
        Assert.Equal([10, 11], page["items"]!.AsArray().Select(s => (int)s!["id"]!).ToArray());

        var named = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/switches?q=leaf-1");
        Assert.Equal(["leaf-1"], named["items"]!.AsArray().Select(s => (string)s!["name"]!).ToArray());

        var hostLinks = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/links?role=host&limit=1000");
        Assert.Equal(32, (int)hostLinks["total"]!);
        Assert.Matches(@"^node-\d{5}/mlx5_\d$", (string)hostLinks["items"]![0]!["a"]!);
        Assert.Matches(@"^leaf-\d+/\d+$", (string)hostLinks["items"]![0]!["b"]!);

        var leaf0 = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/links?switch=leaf-0");
        Assert.Equal(8, (int)leaf0["total"]!); // 4 hosts down, 4 spines up
        Assert.All(leaf0["items"]!.AsArray(), l => Assert.True(((string)l!["a"]!).StartsWith("leaf-0/", StringComparison.Ordinal) || ((string)l["b"]!).StartsWith("leaf-0/", StringComparison.Ordinal)));

        var link = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/links/0");
        Assert.Equal("leaf-0/5", (string?)link["a"]);
        Assert.Equal("spine-0/1", (string?)link["b"]);
        Assert.Equal("leafSpine", (string?)link["role"]);
        Assert.Equal("up", (string?)link["status"]);

        var eps = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/endpoints?q=node-0000&limit=2");
        Assert.Equal(4, (int)eps["total"]!);
        var nics = eps["items"]![0]!["nics"]!.AsArray();
        Assert.Equal(8, nics.Count);
        Assert.Equal("leaf-0/1", (string?)nics[0]!["peer"]);

        var sw = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/switches/spine-2");
        Assert.Equal("spine-2", (string?)sw["name"]);
        Assert.Equal(8, (int)sw["radix"]!);

        var xcvrs = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/f/transceivers?kind=sr8&limit=3");
        Assert.Equal(64, (int)xcvrs["total"]!); // 32 leaf-spine links of 40 m, a module at each end
        Assert.Equal(3, xcvrs["items"]!.AsArray().Count);
        var onLink = await InventoryApp.GetAsync<JsonObject>(_client, $"/api/v1/fabrics/f/transceivers?link={(int)xcvrs["items"]![0]!["link"]!}");
        Assert.Equal(["a", "b"], onLink["items"]!.AsArray().Select(x => (string)x!["side"]!).ToArray());
    }

    [Fact]
    public async Task Drain_and_undrain_a_link_and_a_switch_write_versions_and_history()
    {
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("d"));
        var (s1, b1, _) = await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/d/links/3/state", """{"status":"drained","reason":"flapping optic","by":"alice","expectedVersion":1}""");
        Assert.Equal(200, s1);
        Assert.Equal(2, (long)b1!["version"]!);
        Assert.Equal("drained", (string?)b1["link"]!["status"]);
        Assert.Equal("alice", (string?)b1["link"]!["by"]);
        Assert.NotNull(b1["link"]!["since"]);

        var snap = await _app.LoadAsync("d");
        Assert.Equal(2, snap!.Version);
        Assert.False(snap.IsLinkUsable(3));
        Assert.Equal(new[] { "flapping optic", "alice" }, new[] { snap.LinkState(3).Reason, snap.LinkState(3).By });

        var (s2, b2, _) = await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/d/switches/spine-1/state", """{"status":"maintenance","reason":"PSU swap","by":"bob"}""");
        Assert.Equal(200, s2);
        Assert.Equal(3, (long)b2!["version"]!);
        Assert.Equal("maintenance", (string?)b2["switch"]!["status"]);
        var drained = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/d/switches?status=maintenance");
        Assert.Equal(["spine-1"], drained["items"]!.AsArray().Select(s => (string)s!["name"]!).ToArray());
        var drainedLinks = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/d/links?status=drained");
        Assert.Equal([3], drainedLinks["items"]!.AsArray().Select(l => (int)l!["id"]!).ToArray());

        var (s3, b3, _) = await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/d/links/3/state", """{"status":"up","by":"alice"}""");
        Assert.Equal(200, s3);
        Assert.Equal(4, (long)b3!["version"]!);
        Assert.Equal("up", (string?)b3["link"]!["status"]);

        snap = await _app.LoadAsync("d");
        Assert.Equal(4, snap!.Version);
        Assert.Equal(ElementStatus.Up, snap.LinkState(3).Status);
        var spine1 = snap.Topology.FindSwitch("spine-1");
        Assert.Equal(ElementStatus.Maintenance, snap.SwitchState(spine1).Status);
        // Links on the switch in maintenance are out of routing even though the links are up.
        var onSpine = snap.Topology.Links.First(l => l.B.Device == spine1 && !l.B.IsHost).Id;
        Assert.False(snap.IsLinkUsable(onSpine));

        var versions = await InventoryApp.GetAsync<JsonArray>(_client, "/api/v1/fabrics/d/versions");
        Assert.Equal([1L, 2L, 3L, 4L], versions.Select(v => (long)v!["version"]!).ToArray());
        var v2 = versions[1]!;
        Assert.Equal("alice", (string?)v2["by"]);
        Assert.Equal("flapping optic", (string?)v2["reason"]);
        var change = v2["changes"]![0]!;
        Assert.Equal("link", (string?)change["element"]);
        Assert.Equal("3", (string?)change["id"]);
        Assert.Equal("up", (string?)change["from"]);
        Assert.Equal("drained", (string?)change["to"]);
        Assert.Contains(" <-> ", (string?)change["name"]);
        Assert.Equal("switch", (string?)versions[2]!["changes"]![0]!["element"]);
        Assert.Equal("drained", (string?)versions[3]!["changes"]![0]!["from"]);

        var from3 = await InventoryApp.GetAsync<JsonArray>(_client, "/api/v1/fabrics/d/versions?from=3&limit=1");
        Assert.Equal([3L], from3.Select(v => (long)v!["version"]!).ToArray());
        var summary = await InventoryApp.GetAsync<JsonObject>(_client, "/api/v1/fabrics/d");
        Assert.Equal(4, (long)summary["version"]!);
    }

    [Fact]
    public async Task A_stale_expected_version_is_a_409_and_nothing_is_written()
    {
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("s"));
        Assert.Equal(200, (await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/s/links/1/state", """{"status":"down","reason":"cable cut","expectedVersion":1}""")).Status);
        var before = await _app.CountRowsAsync();
        var (status, body, type) = await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/s/links/2/state", """{"status":"drained","reason":"x","expectedVersion":1}""");
        Assert.Equal(409, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("expectedVersion 1", (string?)body!["detail"]);
        Assert.Equal(before, await _app.CountRowsAsync());
        var snap = await _app.LoadAsync("s");
        Assert.Equal(2, snap!.Version);
        Assert.Equal(ElementStatus.Up, snap.LinkState(2).Status);
    }

    [Fact]
    public async Task Delete_removes_every_row_of_the_fabric_and_only_that_fabric()
    {
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("gone"));
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("kept"));
        await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/gone/links/0/state", """{"status":"drained","reason":"r"}""");
        var kept = await _app.CountRowsAsync();
        var r = await _client.DeleteAsync("/api/v1/fabrics/gone");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var after = await _app.CountRowsAsync();
        Assert.Equal(1, after["fabrics"]);
        Assert.Equal(kept["links"] / 2, after["links"]);
        Assert.Equal(1, after["versions"]);
        Assert.Equal(404, (await InventoryApp.SendAsync(_client, HttpMethod.Get, "/api/v1/fabrics/gone")).Status);
        Assert.Null(await _app.LoadAsync("gone"));
        Assert.NotNull(await _app.LoadAsync("kept"));
    }
}
