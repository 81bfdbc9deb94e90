using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Fabric;
using ControlPlane.Testing;

namespace ControlPlane.Inventory.Tests;

/// <summary>Import (spec JSON, spec YAML, ibnetdiscover) and export against PostgreSQL; broken files store nothing.</summary>
[Collection(ServersCollection.Name)]
public sealed class ImportExportTests(PostgresFixture pg) : IAsyncLifetime
{
    private InventoryApp _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _app = await InventoryApp.OnPostgresAsync(pg.Server, ("Inventory:MaxRequestBodyBytes", "1048576"));
        _client = _app.CreateClient();
        await _app.CreateAsync(_client, """{"name":"src","generator":{"kind":"mpft","radix":8,"planes":2}}""");
        Assert.Equal(200, (await InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/src/links/5/state", """{"status":"drained","reason":"flapping","by":"alice"}""")).Status);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<(int Status, JsonNode? Body)> ImportAsync(string name, string format, string text)
    {
        var r = await _client.PostAsync($"/api/v1/fabrics/{name}/import?format={format}", new StringContent(text, Encoding.UTF8, "text/plain"));
        var body = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, body.Length == 0 ? null : JsonNode.Parse(body));
    }

    [Theory]
    [InlineData("json", "application/json")]
    [InlineData("yaml", "application/yaml")]
    public async Task Export_then_import_gives_the_same_fabric_and_states(string format, string contentType)
    {
        var export = await _client.GetAsync($"/api/v1/fabrics/src/export?format={format}");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal(contentType, export.Content.Headers.ContentType?.MediaType);
        var text = await export.Content.ReadAsStringAsync();

        var (status, body) = await ImportAsync("copy", format, text);
        Assert.True(status == 201, body?.ToJsonString());
        Assert.Equal("copy", (string?)body!["name"]);

        var src = (await _app.LoadAsync("src"))!;
        var copy = (await _app.LoadAsync("copy"))!;
        Assert.Equal(src.Topology.Switches, copy.Topology.Switches);
        Assert.Equal(src.Topology.Links, copy.Topology.Links);
        Assert.Equal(src.Topology.Transceivers, copy.Topology.Transceivers);
        Assert.Equal(src.Topology.EndpointCount, copy.Topology.EndpointCount);
        Assert.Equal(ElementStatus.Drained, copy.LinkState(5).Status);
        Assert.Equal("flapping", copy.LinkState(5).Reason);
        Assert.Equal(src.LinkStates.Count(s => s.Status != ElementStatus.Up), copy.LinkStates.Count(s => s.Status != ElementStatus.Up));
        var history = await InventoryApp.GetAsync<JsonArray>(_client, "/api/v1/fabrics/copy/versions");
        Assert.Equal("imported", (string?)history.Single()!["changes"]![0]!["to"]);
    }

    [Fact]
    public async Task Ibnetdiscover_export_imports_back_with_the_same_cabling()
    {
        var text = await _client.GetStringAsync("/api/v1/fabrics/src/export?format=ibnetdiscover");
        Assert.Contains("Switch", text);
        var (status, body) = await ImportAsync("ib", "ibnetdiscover", text);
        Assert.True(status == 201, body?.ToJsonString());
        Assert.Equal("imported", (string?)body!["kind"]);
        var src = (await _app.LoadAsync("src"))!.Topology;
        var ib = (await _app.LoadAsync("ib"))!.Topology;
        Assert.Equal(src.Switches.Count, ib.Switches.Count);
        Assert.Equal(src.Links.Count, ib.Links.Count);
        Assert.Equal(src.EndpointCount, ib.EndpointCount);
        Assert.Equal(src.Switches.Select(s => s.Name).Order(), ib.Switches.Select(s => s.Name).Order());
    }

    [Fact]
    public async Task A_broken_ibnetdiscover_file_is_a_400_naming_the_line_and_stores_nothing()
    {
        var text = await _client.GetStringAsync("/api/v1/fabrics/src/export?format=ibnetdiscover");
        var lines = text.Split('\n').ToList();
        var portLine = lines.FindIndex(l => l.StartsWith('['));
        lines[portLine] = "[999]" + lines[portLine][lines[portLine].IndexOf(']', StringComparison.Ordinal)..][1..];
        var before = await _app.CountRowsAsync();
        var (status, body) = await ImportAsync("broken", "ibnetdiscover", string.Join('\n', lines));
        Assert.Equal(400, status);
        var errors = body!["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key == $"line {portLine + 1}");
        Assert.Equal(before, await _app.CountRowsAsync());
        Assert.Null(await _app.LoadAsync("broken"));
    }

    [Fact]
    public async Task A_broken_spec_is_a_400_naming_the_field_and_stores_nothing()
    {
        var spec = JsonNode.Parse(await _client.GetStringAsync("/api/v1/fabrics/src/export?format=json"))!;
        var links = spec["links"]!.AsArray();
        links[3]!.AsObject()["colour"] = "red";
        var before = await _app.CountRowsAsync();
        var (status, body) = await ImportAsync("broken", "json", spec.ToJsonString());
        Assert.Equal(400, status);
        Assert.Contains(body!["errors"]!.AsObject(), e => e.Key.StartsWith("links[3]", StringComparison.Ordinal));
        Assert.Equal(before, await _app.CountRowsAsync());

        var (yamlStatus, yamlBody) = await ImportAsync("broken", "yaml", "name: x\nswitches: [\n");
        Assert.Equal(400, yamlStatus);
        Assert.NotEmpty(yamlBody!["errors"]!.AsObject());
        Assert.Equal(before, await _app.CountRowsAsync());
    }

    [Fact]
    public async Task A_spec_that_parses_but_is_cabled_wrong_is_rejected_by_the_validator()
    {
        var spec = JsonNode.Parse(await _client.GetStringAsync("/api/v1/fabrics/src/export?format=json"))!;
        var links = spec["links"]!.AsArray();
        // Put link 1 on the same switch port as link 0.
        links[1]!["a"] = links[0]!["a"]!.DeepClone();
        var before = await _app.CountRowsAsync();
        var (status, body) = await ImportAsync("twice", "json", spec.ToJsonString());
        Assert.Equal(400, status);
        Assert.Contains("used", body!.ToJsonString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await _app.CountRowsAsync());
    }

    [Theory]
    [InlineData("/api/v1/fabrics/x/import", "{}", 400, "format")]
    [InlineData("/api/v1/fabrics/x/import?format=xml", "{}", 400, "format")]
    [InlineData("/api/v1/fabrics/x/import?format=json", "", 400, "body")]
    [InlineData("/api/v1/fabrics/bad%20name/import?format=json", "{}", 400, "name")]
    [InlineData("/api/v1/fabrics/src/import?format=json", "SPEC", 409, null)]
    public async Task Import_rejects_bad_requests(string url, string body, int status, string? field)
    {
        if (body == "SPEC") body = await _client.GetStringAsync("/api/v1/fabrics/src/export?format=json");
        var before = await _app.CountRowsAsync();
        var r = await _client.PostAsync(url, new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.Equal(status, (int)r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        if (field is not null) Assert.True(JsonNode.Parse(await r.Content.ReadAsStringAsync())!["errors"]!.AsObject().ContainsKey(field));
        Assert.Equal(before, await _app.CountRowsAsync());
    }

    [Fact]
    public async Task Import_larger_than_the_body_limit_is_a_413()
    {
        var r = await _client.PostAsync("/api/v1/fabrics/huge/import?format=json", new StringContent(new string(' ', 1048577), Encoding.UTF8, "text/plain"));
        Assert.Equal(413, (int)r.StatusCode);
        Assert.Null(await _app.LoadAsync("huge"));
    }

    [Theory]
    [InlineData("/api/v1/fabrics/nope/export?format=json", 404)]
    [InlineData("/api/v1/fabrics/src/export?format=pdf", 400)]
    [InlineData("/api/v1/fabrics/src/export", 400)]
    public async Task Export_rejects_bad_requests(string url, int status)
    {
        var r = await _client.GetAsync(url);
        Assert.Equal(status, (int)r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }
}
