using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Agent.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>Everything the host publishes, in order.</summary>
public sealed class PublishRecorder : IPublishObserver
{
    public ConcurrentQueue<object> Messages { get; } = new();

    public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PostPublish<T>(PublishContext<T> context) where T : class
    {
        Messages.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    public IEnumerable<T> Of<T>() => Messages.OfType<T>();
}

/// <summary>The agent host in memory (in-memory bus) over a fresh PostgreSQL database holding a small fabric.</summary>
public sealed class AgentApp(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public const string Key = "agent-tests-credential-key-0123";

    public PublishRecorder Recorder { get; } = new();

    public string Queue => settings.GetValueOrDefault("Emulation:Queue") ?? settings.GetValueOrDefault("Agent:Queue") ?? "";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Bus:Transport", "InMemory");
        foreach (var (k, v) in settings) builder.UseSetting(k, v);
        builder.ConfigureServices(s => s.AddPublishObserver(_ => Recorder));
    }

    public static FabricTopology SmallFt2(string name) =>
        FabricGenerator.Generate(new GeneratorParameters { Name = name, Kind = TopologyKind.Ft2, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });

    /// <summary>An emulated-fabric host over a small FT2 written through the inventory repository.</summary>
    public static async Task<AgentApp> StartEmulatedAsync(PostgresServer pg, string fabric, params (string Key, string? Value)[] extra)
    {
        var cs = await pg.CreateDatabaseAsync("agent");
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseNpgsql(cs).Options;
        await using (var db = new InventoryDbContext(options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            await repo.EnsureSchemaAsync();
            await repo.CreateAsync(SmallFt2(fabric), TopologyChangeKind.Created, "test", null);
        }
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:inventory"] = cs,
            ["Emulation:Enabled"] = "true",
            ["Emulation:Fabric"] = fabric,
            ["Emulation:PeriodMs"] = "150",
            ["Emulation:Queue"] = "agents-" + Guid.NewGuid().ToString("N")[..8],
            ["Emulation:CheckForwarding"] = "true",
            ["Agents:CredentialKey"] = Key,
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new AgentApp(s);
        _ = app.Server;
        return app;
    }

    public async Task SendUpdateAsync(string fabric, string switchName, byte[] payload)
    {
        var bus = Services.GetRequiredService<IBus>();
        var ep = await bus.GetSendEndpoint(new Uri($"queue:{Queue}"));
        await ep.Send(new RouteUpdateOrdered { Fabric = fabric, SwitchName = switchName, Payload = payload, SentAt = DateTimeOffset.UtcNow });
    }

    public async Task SendBatchAsync(string fabric, IReadOnlyList<RouteUpdateOrdered> updates)
    {
        var bus = Services.GetRequiredService<IBus>();
        var ep = await bus.GetSendEndpoint(new Uri($"queue:{Queue}"));
        await ep.Send(new RouteUpdatesOrdered { Fabric = fabric, Updates = updates });
    }

    // Alone or batched (an emulated fabric's agents share one transport that batches acks published meanwhile).
    public IEnumerable<RouteAck> Acks() =>
        Recorder.Messages.SelectMany(m => m switch { RouteAckSent a => [a], RouteAcksSent b => b.Acks, _ => [] }).Select(a => RouteAck.Parser.ParseFrom(a.Payload));

    public IEnumerable<AgentHello> Hellos() => Recorder.Of<AgentHelloSent>().Select(a => AgentHello.Parser.ParseFrom(a.Payload));

    public IEnumerable<(PortStateEvent Event, string? Trigger)> PortEvents() =>
        Recorder.Of<PortStateReported>().Select(p => (PortStateEvent.Parser.ParseFrom(p.Payload), p.TriggerId));

    public IEnumerable<TelemetryBatch> Batches() => Recorder.Of<TelemetryBatchReceived>().Select(b => TelemetryBatch.Parser.ParseFrom(b.Payload));

    public static async Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string url)
    {
        using var r = await client.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public static async Task<(int Status, JsonNode? Body)> PostJsonAsync(HttpClient client, string url, string json)
    {
        using var r = await client.PostAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (condition()) return;
            await Task.Delay(25);
        }
        Assert.Fail($"timed out waiting for {what}");
    }
}
