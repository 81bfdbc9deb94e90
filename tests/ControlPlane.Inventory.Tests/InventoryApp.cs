using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ControlPlane.Fabric;
using ControlPlane.Inventory.Store;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ControlPlane.Inventory.Tests;

/// <summary>The inventory host in memory (TestServer), configured only through settings, as a deployment would.</summary>
public sealed class InventoryApp(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public IReadOnlyDictionary<string, string?> Settings => settings;

    public string? ConnectionString => settings.GetValueOrDefault("ConnectionStrings:inventory");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Inventory:Seed:Enabled", "false");
        builder.UseSetting("Bus:Transport", "InMemory");
        foreach (var (k, v) in settings) builder.UseSetting(k, v);
    }

    /// <summary>A host on a fresh PostgreSQL database of the shared server.</summary>
    public static async Task<InventoryApp> OnPostgresAsync(PostgresServer pg, params (string Key, string? Value)[] extra)
    {
        var cs = await pg.CreateDatabaseAsync("inventory");
        var s = new Dictionary<string, string?> { ["Store:Provider"] = "Postgres", ["ConnectionStrings:inventory"] = cs };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new InventoryApp(s);
        _ = app.Server; // start now, so schema creation is not timed into the first request
        return app;
    }

    /// <summary>Loads the stored snapshot through the service the routing engine will use.</summary>
    public async Task<FabricSnapshot?> LoadAsync(string fabric)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IFabricStore>().LoadSnapshotAsync(fabric);
    }

    /// <summary>Row counts of every inventory table, straight from PostgreSQL.</summary>
    public async Task<Dictionary<string, long>> CountRowsAsync()
    {
        var counts = new Dictionary<string, long>();
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        foreach (var t in new[] { "fabrics", "switches", "hosts", "nics", "links", "transceivers", "dom_thresholds", "versions" })
        {
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {t}", conn);
            counts[t] = (long)(await cmd.ExecuteScalarAsync())!;
        }
        return counts;
    }

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Transceivers of <see cref="SmallFt2"/> with radix 8: 32 leaf-spine links of 40 m, a module at each end.</summary>
    public const int SmallFt2Transceivers = 64;

    public static string SmallFt2(string name, int radix = 8) =>
        $$$"""{"name":"{{{name}}}","generator":{"kind":"ft2","radix":{{{radix}}},"portSpeedGbps":400,"gpusPerNode":8,"nicsPerNode":8}}""";

    public async Task<JsonNode> CreateAsync(HttpClient client, string body)
    {
        var r = await client.PostAsync("/api/v1/fabrics", JsonBody(body));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == System.Net.HttpStatusCode.Created, $"create failed: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public static async Task<(int Status, JsonNode? Body, string? ContentType)> SendAsync(HttpClient client, HttpMethod method, string url, string? json = null)
    {
        using var req = new HttpRequestMessage(method, url);
        if (json is not null) req.Content = JsonBody(json);
        using var r = await client.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text), r.Content.Headers.ContentType?.MediaType);
    }

    public static async Task<T> GetAsync<T>(HttpClient client, string url) =>
        (await client.GetFromJsonAsync<T>(url, Json))!;
}
