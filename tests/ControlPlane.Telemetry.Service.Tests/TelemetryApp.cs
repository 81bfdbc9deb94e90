using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Testing;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>One PostgreSQL server and one RabbitMQ node for the whole run.</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "servers";
}

/// <summary>The telemetry host in memory on a fake clock, with the inventory and series tables in one fresh PostgreSQL database.</summary>
public sealed class TelemetryApp(IReadOnlyDictionary<string, string?> settings, FakeTimeProvider clock) : WebApplicationFactory<Program>
{
    /// <summary>Where the fake clock starts: on an hour, so the partition boundaries are known.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Clock => clock;

    public string ConnectionString => settings["ConnectionStrings:telemetry"]!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Bus:Transport", "InMemory");
        foreach (var (k, v) in settings) builder.UseSetting(k, v);
        builder.ConfigureServices(s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock)));
    }

    /// <summary>A small FT2 (radix 8) in the inventory tables of a fresh database, then the host started on it.</summary>
    public static async Task<TelemetryApp> StartAsync(PostgresServer pg, string fabric, params (string Key, string? Value)[] extra)
    {
        var cs = await pg.CreateDatabaseAsync("telemetry");
        await CreateFabricAsync(cs, fabric);
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:telemetry"] = cs,
            ["ConnectionStrings:inventory"] = cs,
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new TelemetryApp(s, new FakeTimeProvider(Start));
        _ = app.Server;
        return app;
    }

    /// <summary>The embedded default: inventory and series in SQLite files under <paramref name="dir"/>.</summary>
    public static async Task<TelemetryApp> StartOnSqliteAsync(string dir, string fabric, params (string Key, string? Value)[] extra)
    {
        var inventory = $"Data Source={Path.Combine(dir, "inventory.db")}";
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseSqlite(inventory).Options;
        await using (var db = new InventoryDbContext(options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            await repo.EnsureSchemaAsync();
            await repo.CreateAsync(SmallFt2(fabric), TopologyChangeKind.Created, "test", null);
        }
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Sqlite",
            ["ConnectionStrings:telemetry"] = $"Data Source={Path.Combine(dir, "telemetry.db")}",
            ["ConnectionStrings:inventory"] = inventory,
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new TelemetryApp(s, new FakeTimeProvider(Start));
        _ = app.Server;
        return app;
    }

    public static FabricTopology SmallFt2(string name) =>
        FabricGenerator.Generate(new GeneratorParameters { Name = name, Kind = TopologyKind.Ft2, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });

    public static async Task CreateFabricAsync(string cs, string fabric)
    {
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseNpgsql(cs).Options;
        await using var db = new InventoryDbContext(options);
        var repo = new FabricRepository(db, TimeProvider.System);
        await repo.EnsureSchemaAsync();
        await repo.CreateAsync(SmallFt2(fabric), TopologyChangeKind.Created, "test", null);
    }

    public static async Task DeleteFabricAsync(string cs, string fabric)
    {
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseNpgsql(cs).Options;
        await using var db = new InventoryDbContext(options);
        await new FabricRepository(db, TimeProvider.System).DeleteAsync(fabric);
    }

    /// <summary>A batch for every cabled port of a switch, counters as if each port sent <paramref name="bytesPerPort"/> so far.</summary>
    public static TelemetryBatch Batch(FabricTopology t, string switchName, ulong sequence, DateTimeOffset at, ulong bytesPerPort, int? onlyPort = null)
    {
        var sw = t.FindSwitch(switchName);
        var b = new TelemetryBatch { SwitchName = switchName, AgentId = "agent-" + switchName, SessionId = 42, Sequence = sequence, SampleTimeUnixNanos = UnixNanos.From(at), BootId = 7 };
        for (var port = 1; port <= t.Switches[sw].Radix; port++)
        {
            if (onlyPort is { } op && op != port) continue;
            b.Ports.Add(new PortSample
            {
                Port = (uint)port,
                OperState = PortOperState.Up,
                TxBytes = bytesPerPort,
                RxBytes = bytesPerPort / 2,
                TxPackets = bytesPerPort / 4096,
                RxPackets = bytesPerPort / 8192,
                Optics = new OpticsReading { TemperatureC = 45, SupplyVoltageV = 3.3, PreFecBer = 1e-8, BiasCurrentMa = { 7, 7, 7, 7 }, TxPowerDbm = { 1, 1, 1, 1 }, RxPowerDbm = { -2, -2, -2, -2 } },
            });
        }
        return b;
    }

    public static ByteArrayContent Protobuf(byte[] bytes, string? agent = "agent-1", string type = "application/x-protobuf")
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = new MediaTypeHeaderValue(type);
        if (agent is not null) c.Headers.Add("X-Agent-Id", agent);
        return c;
    }

    public async Task<(int Status, JsonNode? Body)> PostBatchAsync(HttpClient client, IMessage batch, string? query = null)
    {
        using var r = await client.PostAsync("/api/v1/telemetry/batches" + query, Protobuf(batch.ToByteArray()));
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public static async Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string url)
    {
        using var r = await client.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    /// <summary>Moves the fake clock in steps of the snapshot period, letting the workers run between steps.</summary>
    public async Task AdvanceAsync(TimeSpan by, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromMilliseconds(100);
        for (var done = TimeSpan.Zero; done < by; done += s)
        {
            clock.Advance(s);
            await Task.Delay(5);
        }
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<string>> PartitionsAsync()
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'port_series' ORDER BY 1", conn);
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) list.Add(r.GetString(0));
        return list;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (real time, for background work), failing with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail($"timed out waiting for {what}");
    }
}
