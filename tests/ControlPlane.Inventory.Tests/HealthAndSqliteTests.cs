using System.Text.Json.Nodes;
using ControlPlane.Fabric;
using ControlPlane.Testing;

namespace ControlPlane.Inventory.Tests;

[Collection(ServersCollection.Name)]
public sealed class HealthTests(PostgresFixture pg)
{
    [Fact]
    public async Task Live_and_ready_when_the_database_is_up()
    {
        await using var app = await InventoryApp.OnPostgresAsync(pg.Server);
        var client = app.CreateClient();
        var live = await client.GetAsync("/healthz");
        Assert.Equal(200, (int)live.StatusCode);
        var ready = await client.GetAsync("/readyz");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.True(200 == (int)ready.StatusCode, body.ToJsonString());
        Assert.Equal("healthy", (string?)body["checks"]!["store-inventory"]!["status"]);
        Assert.Equal("healthy", (string?)body["checks"]!["masstransit-bus"]!["status"]);
    }

    [Fact]
    public async Task Ready_fails_but_live_passes_when_the_database_is_unreachable()
    {
        var closedPort = ServerProcess.FreePort();
        await using var app = new InventoryApp(new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:inventory"] = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=none;Timeout=2",
        });
        var client = app.CreateClient();
        Assert.Equal(200, (int)(await client.GetAsync("/healthz")).StatusCode);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(503, (int)ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.Equal("unhealthy", (string?)body["checks"]!["store-inventory"]!["status"]);
        // Requests that need the store fail as problems, not hangs or HTML.
        var (status, problem, type) = await InventoryApp.SendAsync(client, HttpMethod.Get, "/api/v1/fabrics");
        Assert.Equal(503, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("Store unavailable", (string?)problem!["title"]);
    }
}

/// <summary>The embedded default: SQLite file, in-memory bus, no server.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private readonly string _dir = ServerProcess.TempFolder("cp-inv-sqlite");

    public void Dispose() => ServerProcess.DeleteFolder(_dir);

    private InventoryApp App(params (string, string?)[] extra)
    {
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Sqlite",
            ["ConnectionStrings:inventory"] = $"Data Source={Path.Combine(_dir, "inventory.db")}",
        };
        foreach (var (k, v) in extra) s[k] = v;
        return new InventoryApp(s);
    }

    [Fact]
    public async Task Create_drain_and_load_back_on_the_embedded_store()
    {
        await using var app = App();
        var client = app.CreateClient();
        await app.CreateAsync(client, """{"name":"emb","generator":{"kind":"mpft","radix":8,"planes":2}}""");
        var (status, body, _) = await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/emb/links/2/state", """{"status":"drained","reason":"dirty fibre","by":"erin"}""");
        Assert.Equal(200, status);
        Assert.Equal(2, (long)body!["version"]!);
        Assert.Equal(409, (await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/emb/links/2/state", """{"status":"up","expectedVersion":1}""")).Status);

        var expected = FabricGenerator.Generate(new GeneratorParameters { Name = "emb", Kind = TopologyKind.Mpft, Radix = 8, Planes = 2 });
        var snap = await app.LoadAsync("emb");
        Assert.Equal(2, snap!.Version);
        Assert.Equal(expected.Switches, snap.Topology.Switches);
        Assert.Equal(expected.Links, snap.Topology.Links);
        Assert.Equal(expected.Transceivers, snap.Topology.Transceivers);
        Assert.Equal(ElementStatus.Drained, snap.LinkState(2).Status);
        Assert.Equal("erin", snap.LinkState(2).By);
        Assert.NotNull(snap.LinkState(2).Since);

        var page = await InventoryApp.GetAsync<JsonObject>(client, "/api/v1/fabrics/emb/links?status=drained");
        Assert.Equal(1, (int)page["total"]!);
        var versions = await InventoryApp.GetAsync<JsonArray>(client, "/api/v1/fabrics/emb/versions");
        Assert.Equal(2, versions.Count);
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(200, (int)ready.StatusCode);
    }

    [Fact]
    public async Task Seeds_a_generated_fabric_at_startup_only_when_the_store_is_empty()
    {
        await using (var app = App(("Inventory:Seed:Enabled", "true"), ("Inventory:Seed:Name", "seeded"), ("Inventory:Seed:Kind", "ft2"), ("Inventory:Seed:Radix", "8")))
        {
            var client = app.CreateClient();
            var list = await InventoryApp.GetAsync<JsonArray>(client, "/api/v1/fabrics");
            Assert.Equal(["seeded"], list.Select(f => (string)f!["name"]!).ToArray());
            Assert.Equal("ft2", (string?)list[0]!["kind"]);
            Assert.Equal(32, (int)list[0]!["endpoints"]!);
            Assert.Equal(200, (await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/seeded/links/0/state", """{"status":"down","reason":"r"}""")).Status);
        }
        // A restart with a different seed keeps what is stored.
        await using (var app = App(("Inventory:Seed:Enabled", "true"), ("Inventory:Seed:Name", "other"), ("Inventory:Seed:Kind", "ft2"), ("Inventory:Seed:Radix", "8")))
        {
            var client = app.CreateClient();
            var list = await InventoryApp.GetAsync<JsonArray>(client, "/api/v1/fabrics");
            Assert.Equal(["seeded"], list.Select(f => (string)f!["name"]!).ToArray());
            Assert.Equal(2, (long)list[0]!["version"]!);
        }
    }

    [Fact]
    public async Task A_store_made_by_an_older_version_gets_the_missing_tables_at_startup()
    {
        await using (var app = App())
        {
            await app.CreateAsync(app.CreateClient(), InventoryApp.SmallFt2("old"));
        }
        await using (var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "inventory.db")};Pooling=false"))
        {
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "DROP TABLE dom_thresholds";
            await cmd.ExecuteNonQueryAsync();
        }
        await using (var app = App())
        {
            var client = app.CreateClient();
            await app.CreateAsync(client, InventoryApp.SmallFt2("new"));
            var snap = await app.LoadAsync("new");
            Assert.Equal(InventoryApp.SmallFt2Transceivers, snap!.Topology.Transceivers.Count);
            var list = await InventoryApp.GetAsync<JsonArray>(client, "/api/v1/fabrics");
            Assert.Equal(["new", "old"], list.Select(f => (string)f!["name"]!).ToArray());
        }
    }
}
