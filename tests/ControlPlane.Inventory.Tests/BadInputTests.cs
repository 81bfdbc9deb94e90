using ControlPlane.Testing;

namespace ControlPlane.Inventory.Tests;

/// <summary>Every endpoint with bad input: an RFC 7807 problem naming the field and the reason, and the store unchanged.</summary>
[Collection(ServersCollection.Name)]
public sealed class BadInputTests(PostgresFixture pg) : IAsyncLifetime
{
    private const int MaxBody = 4096;
    private InventoryApp _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        // One host and database for every case: each case checks that it changed nothing, so they cannot disturb each other.
        _app = await pg.SharedAsync(nameof(BadInputTests), async server =>
        {
            var app = await InventoryApp.OnPostgresAsync(server,
                ("Inventory:MaxRequestBodyBytes", MaxBody.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("Inventory:MaxFabricEndpoints", "1000"));
            await app.CreateAsync(app.CreateClient(), InventoryApp.SmallFt2("b"));
            return app;
        });
        _client = _app.CreateClient();
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    public static TheoryData<string, string, string?, int, string?> Cases() => new()
    {
        // POST /api/v1/fabrics
        { "POST", "/api/v1/fabrics", """{"name":"x",""", 400, "body" },
        { "POST", "/api/v1/fabrics", "", 400, "body" },
        { "POST", "/api/v1/fabrics", "null", 400, "body" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2"},"extra":1}""", 400, "extra" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2","colour":"red"}}""", 400, "generator.colour" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2","radix":"abc"}}""", 400, "generator.radix" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"hexagon"}}""", 400, "generator.kind" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2","radix":0}}""", 400, "radix" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"mpft","radix":8,"planes":10000000}}""", 400, "planes" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2","radix":8,"oversubscription":0.5}}""", 400, "oversubscription" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"slimFly","radix":8}}""", 400, "kind" },
        { "POST", "/api/v1/fabrics", """{"generator":{"kind":"ft2","radix":8}}""", 400, "name" },
        { "POST", "/api/v1/fabrics", """{"name":"bad name!","generator":{"kind":"ft2","radix":8}}""", 400, "name" },
        { "POST", "/api/v1/fabrics", """{"name":"x"}""", 400, "generator" },
        { "POST", "/api/v1/fabrics", """{"name":"big","generator":{"kind":"ft2","radix":64}}""", 400, "radix" },
        { "POST", "/api/v1/fabrics", """{"name":"x","generator":{"kind":"ft2","radix":8}}""" + new string(' ', MaxBody), 413, "body" },
        // POST .../links/{id}/state
        { "POST", "/api/v1/fabrics/nope/links/1/state", """{"status":"drained","reason":"r"}""", 404, null },
        { "POST", "/api/v1/fabrics/b/links/99999/state", """{"status":"drained","reason":"r"}""", 404, null },
        { "POST", "/api/v1/fabrics/b/links/abc/state", """{"status":"drained","reason":"r"}""", 400, "id" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"drained"}""", 400, "reason" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"maintenance","reason":"   "}""", 400, "reason" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"broken","reason":"r"}""", 400, "status" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"reason":"r"}""", 400, "status" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"up","expectedVersion":0}""", 400, "expectedVersion" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"up","expectedVersion":"one"}""", 400, "expectedVersion" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"up","who":"x"}""", 400, "who" },
        { "POST", "/api/v1/fabrics/b/links/1/state", """{"status":"down","reason":"r",""", 400, "body" },
        // POST .../switches/{name}/state
        { "POST", "/api/v1/fabrics/b/switches/nope/state", """{"status":"drained","reason":"r"}""", 404, null },
        { "POST", "/api/v1/fabrics/nope/switches/leaf-0/state", """{"status":"drained","reason":"r"}""", 404, null },
        { "POST", "/api/v1/fabrics/b/switches/leaf-0/state", """{"status":"down"}""", 400, "reason" },
        { "POST", "/api/v1/fabrics/b/switches/leaf-0/state", """{"status":"up","by":""}""", 400, "by" },
        // reads
        { "GET", "/api/v1/fabrics/nope", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/switches", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/links", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/links/1", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/endpoints", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/transceivers", null, 404, null },
        { "GET", "/api/v1/fabrics/nope/versions", null, 404, null },
        { "GET", "/api/v1/fabrics/b/links/99999", null, 404, null },
        { "GET", "/api/v1/fabrics/b/links/-1", null, 400, "id" },
        { "GET", "/api/v1/fabrics/b/switches/nope", null, 404, null },
        { "GET", "/api/v1/fabrics/b/switches?plane=x", null, 400, "plane" },
        { "GET", "/api/v1/fabrics/b/switches?tier=router", null, 400, "tier" },
        { "GET", "/api/v1/fabrics/b/switches?offset=-1", null, 400, "offset" },
        { "GET", "/api/v1/fabrics/b/links?role=cable", null, 400, "role" },
        { "GET", "/api/v1/fabrics/b/links?status=sideways", null, 400, "status" },
        { "GET", "/api/v1/fabrics/b/links?switch=nope", null, 400, "switch" },
        { "GET", "/api/v1/fabrics/b/links?limit=5000", null, 400, "limit" },
        { "GET", "/api/v1/fabrics/b/endpoints?plane=-3", null, 400, "plane" },
        { "GET", "/api/v1/fabrics/b/transceivers?kind=laser", null, 400, "kind" },
        { "GET", "/api/v1/fabrics/b/versions?from=-1", null, 400, "from" },
        { "DELETE", "/api/v1/fabrics/nope", null, 404, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_a_problem_naming_the_field_and_stores_nothing(string method, string url, string? body, int status, string? field)
    {
        var before = await _app.CountRowsAsync();
        var (actual, problem, type) = await InventoryApp.SendAsync(_client, new HttpMethod(method), url, body);
        Assert.True(actual == status, $"{method} {url}: expected {status}, got {actual}: {problem?.ToJsonString()}");
        Assert.Equal("application/problem+json", type);
        Assert.Equal(status, (int)problem!["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        if (field is not null)
        {
            var errors = problem["errors"]?.AsObject();
            Assert.True(errors is not null && errors.ContainsKey(field), $"expected an error for '{field}', got {problem.ToJsonString()}");
            Assert.False(string.IsNullOrWhiteSpace((string?)errors[field]![0]));
        }
        Assert.Equal(before, await _app.CountRowsAsync());
        var snap = await _app.LoadAsync("b");
        Assert.Equal(1, snap!.Version);
    }
}
