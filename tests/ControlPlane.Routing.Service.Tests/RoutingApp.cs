using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using ControlPlane.Testing;
using Google.Protobuf;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>One PostgreSQL server and one RabbitMQ node for the whole run.</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "servers";
}

/// <summary>Records every RoutesComputed the service publishes (from the first one on), then publishes it on the bus.</summary>
public sealed class RecordingPublisher(IBus bus) : IRoutesPublisher
{
    private readonly List<RoutesComputed> _all = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<RoutesComputed> All
    {
        get { lock (_gate) return _all.ToList(); }
    }

    public async Task PublishAsync(RoutesComputed message, CancellationToken cancellationToken)
    {
        lock (_gate) _all.Add(message);
        await bus.Publish(message, cancellationToken);
    }
}

/// <summary>The routing host in memory on a fake clock, reading a fabric written through the inventory repository into a fresh PostgreSQL database.</summary>
public sealed class RoutingApp(IReadOnlyDictionary<string, string?> settings, FakeTimeProvider clock) : WebApplicationFactory<Program>
{
    public const string Key = "test-credential-key-0123456789";
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    public static readonly AgentCredentials Credentials = AgentCredentials.FromText(Key);

    public FakeTimeProvider Clock => clock;

    public string ConnectionString => settings["ConnectionStrings:inventory"]!;

    public RecordingPublisher Published => Services.GetRequiredService<RecordingPublisher>();

    public IBus Bus => Services.GetRequiredService<IBus>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Bus:Transport", "InMemory");
        foreach (var (k, v) in settings) builder.UseSetting(k, v);
        builder.ConfigureTestServices(s =>
        {
            s.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock));
            s.AddSingleton<RecordingPublisher>();
            s.Replace(ServiceDescriptor.Singleton<IRoutesPublisher>(sp => sp.GetRequiredService<RecordingPublisher>()));
        });
    }

    public static async Task<RoutingApp> StartAsync(PostgresServer pg, string fabric, params (string Key, string? Value)[] extra)
    {
        var cs = await pg.CreateDatabaseAsync("routing");
        await CreateFabricAsync(cs, SmallFt2(fabric));
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:inventory"] = cs,
            ["Agents:CredentialKey"] = Key,
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new RoutingApp(s, new FakeTimeProvider(Start));
        _ = app.Server;
        return app;
    }

    /// <summary>The embedded default: the inventory's tables in a SQLite file under <paramref name="dir"/>, written before or after the start.</summary>
    public static RoutingApp StartOnSqlite(string dir, params (string Key, string? Value)[] extra)
    {
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Sqlite",
            ["ConnectionStrings:inventory"] = $"Data Source={Path.Combine(dir, "inventory.db")}",
            ["Agents:CredentialKey"] = Key,
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new RoutingApp(s, new FakeTimeProvider(Start));
        _ = app.Server;
        return app;
    }

    public static async Task CreateSqliteFabricAsync(string dir, FabricTopology t)
    {
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseSqlite($"Data Source={Path.Combine(dir, "inventory.db")}").Options;
        await using var db = new InventoryDbContext(options);
        var repo = new FabricRepository(db, TimeProvider.System);
        await repo.EnsureSchemaAsync();
        await repo.CreateAsync(t, TopologyChangeKind.Created, "test", null);
    }

    public static FabricTopology SmallFt2(string name) =>
        FabricGenerator.Generate(new GeneratorParameters { Name = name, Kind = TopologyKind.Ft2, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });

    public static async Task CreateFabricAsync(string cs, FabricTopology t)
    {
        await using var db = Db(cs);
        var repo = new FabricRepository(db, TimeProvider.System);
        await repo.EnsureSchemaAsync();
        await repo.CreateAsync(t, TopologyChangeKind.Created, "test", null);
    }

    public static InventoryDbContext Db(string cs) => new(new DbContextOptionsBuilder<InventoryDbContext>().UseNpgsql(cs).Options);

    /// <summary>A port event envelope, signed with the credential of <paramref name="signedAs"/> (default the switch itself).</summary>
    public static PortStateReported PortEvent(string fabric, string switchName, int port, bool up, string? trigger, string? signedAs = null, long nanos = 0) => new()
    {
        Fabric = fabric,
        TriggerId = trigger,
        Payload = new Pb.PortStateEvent
        {
            SwitchName = switchName,
            Port = (uint)port,
            Up = up,
            TimeUnixNanos = nanos,
            Reason = up ? "up" : "los",
            AgentId = "agent-" + switchName,
            Credential = Credentials.Issue(fabric, signedAs ?? switchName),
        }.ToByteArray(),
    };

    /// <summary>
    /// Decodes and checks every table of a message: version 0, valid for the switch's radix. Deltas are applied to the
    /// tables in <paramref name="held"/> (what a receiver holds from the messages before); the digest check makes sure
    /// the result is routing's table.
    /// </summary>
    public static Dictionary<string, SwitchTable> Decode(FabricTopology t, RoutesComputed m, IReadOnlyDictionary<string, SwitchTable>? held = null)
    {
        var tables = new Dictionary<string, SwitchTable>(StringComparer.Ordinal);
        void Check(SwitchTable table)
        {
            Assert.Equal(0UL, table.Version);
            var sw = t.FindSwitch(table.SwitchName);
            Assert.True(sw >= 0, $"unknown switch {table.SwitchName}");
            var problems = table.Validate(t.Switches[sw].Radix);
            Assert.True(problems.Count == 0, $"{table.SwitchName}: {string.Join("; ", problems)}");
            Assert.True(tables.TryAdd(table.SwitchName, table), $"{table.SwitchName} listed twice");
        }
        foreach (var bytes in m.Tables) Check(TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(bytes)));
        foreach (var bytes in m.Deltas)
        {
            var d = TableCodec.DecodeDelta(bytes);
            Assert.Equal((ulong)m.RoutingVersion, d.Version);
            Assert.True(held is not null && held.ContainsKey(d.SwitchName), $"a delta for {d.SwitchName} but no table held for it");
            var applied = d.ApplyTo(held![d.SwitchName].WithVersion(d.BaseVersion));
            Assert.True(applied.Applied, $"{d.SwitchName}: {applied.Reason}");
            Check(applied.Table!.WithVersion(0));
        }
        return tables;
    }

    /// <summary>The complete initial tables of a fabric (every plane's complete message).</summary>
    public async Task<Dictionary<string, SwitchTable>> InitialTablesAsync(FabricTopology t)
    {
        Dictionary<string, SwitchTable>? all = null;
        await EventuallyAsync(() =>
        {
            var complete = Published.All.Where(m => m.Fabric == t.Name && m.Complete).ToList();
            var merged = new Dictionary<string, SwitchTable>(StringComparer.Ordinal);
            foreach (var m in complete)
                foreach (var (k, v) in Decode(t, m)) merged[k] = v;
            if (merged.Count < t.Switches.Count) return Task.FromResult(false);
            all = merged;
            return Task.FromResult(true);
        }, $"complete tables of {t.Name}");
        return all!;
    }

    /// <summary>Waits for the first published message matching <paramref name="match"/>.</summary>
    public async Task<RoutesComputed> WaitForAsync(Func<RoutesComputed, bool> match, string what)
    {
        RoutesComputed? found = null;
        await EventuallyAsync(() =>
        {
            found = Published.All.FirstOrDefault(match);
            return Task.FromResult(found is not null);
        }, what);
        return found!;
    }

    /// <summary>Every (source, destination leaf, class) walk over the installed tables reaches the destination: no loop, no hole.</summary>
    public static void AssertLoopAndHoleFree(FabricTopology t, IReadOnlyDictionary<string, SwitchTable> installed, IReadOnlyCollection<string>? skipSources = null)
    {
        var neighbor = MakeBeforeBreak.Neighbors(t);
        // Planes are separate fabrics: a switch routes to the leaves of its own plane.
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).ToLookup(s => s.Plane, s => s.Name);
        var classes = installed.Values.SelectMany(x => x.Routes.Keys.Select(k => k.TrafficClass)).Distinct().ToList();
        Assert.NotEmpty(classes);
        foreach (var src in t.Switches.Where(s => skipSources?.Contains(s.Name) != true))
            foreach (var dest in leaves[src.Plane])
                foreach (var c in classes)
                {
                    var problem = ForwardingCheck.Walk(installed, neighbor, src.Name, new RouteKey(dest, c));
                    Assert.True(problem is null, problem?.ToString());
                }
    }

    public static async Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string url)
    {
        using var r = await client.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public static async Task<JsonNode> StatusAsync(HttpClient client, string fabric)
    {
        var (code, body) = await GetAsync(client, $"/api/v1/routing/fabrics/{fabric}/status");
        Assert.True(code == 200, body?.ToJsonString());
        return body!;
    }

    public static long Count(JsonNode status, string map, string key) => status[map]?[key] is { } n ? (long)n : 0;

    /// <summary>Polls until <paramref name="condition"/> holds (real time, for background work), failing with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(20);
        }
        Assert.Fail($"timed out waiting for {what}");
    }
}
