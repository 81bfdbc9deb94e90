using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using ControlPlane.Routing;
using ControlPlane.Testing;
using Google.Protobuf;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>One PostgreSQL server and one RabbitMQ node for the whole run.</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "servers";
}

/// <summary>The distribution host in memory (real clock: latency is part of what it does), its tables and the inventory in one PostgreSQL database.</summary>
public sealed class DistributionApp(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public const string Key = "test-credential-key-0123456789";

    public static readonly AgentCredentials Credentials = AgentCredentials.FromText(Key);

    public string ConnectionString => settings["ConnectionStrings:distribution"]!;

    public IReadOnlyDictionary<string, string?> Settings => settings;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Bus:Transport", "InMemory");
        foreach (var (k, v) in settings) builder.UseSetting(k, v);
    }

    public IBus Bus => Services.GetRequiredService<IBus>();

    public DistributionStatus Status => Services.GetRequiredService<DistributionStatus>();

    /// <summary>A small FT2 (radix 8) in the inventory tables of a fresh database, then the host started on it.</summary>
    public static async Task<DistributionApp> StartAsync(PostgresServer pg, string fabric, params (string Key, string? Value)[] extra)
    {
        var cs = await pg.CreateDatabaseAsync("dist");
        await CreateFabricAsync(cs, fabric);
        return Start(cs, extra);
    }

    /// <summary>The host on an existing database (a restart).</summary>
    public static DistributionApp Start(string cs, params (string Key, string? Value)[] extra)
    {
        var s = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Postgres",
            ["ConnectionStrings:distribution"] = cs,
            ["ConnectionStrings:inventory"] = cs,
            ["Agents:CredentialKey"] = Key,
            ["Distribution:PriorityWaveTimeout"] = "00:00:05",
            ["Distribution:CongestionWaveTimeout"] = "00:00:05",
            ["Distribution:ConvergenceTimeout"] = "00:00:10",
            ["Distribution:PersistInterval"] = "00:00:00.050",
        };
        foreach (var (k, v) in extra) s[k] = v;
        var app = new DistributionApp(s);
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

    public static async Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string url)
    {
        using var r = await client.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, Func<string> what, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return;
            await Task.Delay(20);
        }
        Assert.Fail($"timed out waiting for {what()}");
    }

    public static Task EventuallyAsync(Func<bool> condition, Func<string> what, int seconds = 20) => EventuallyAsync(() => Task.FromResult(condition()), what, seconds);
}

/// <summary>Routing as the routing service would do it: tables from the engine, RoutesComputed with the changed ones at version 0.</summary>
public sealed class RoutingDriver(FabricTopology topology)
{
    private readonly Dictionary<string, (long Version, SwitchTable Table)> _sent = new(StringComparer.Ordinal);
    private long _version;

    public FabricSnapshot Snapshot { get; private set; } = FabricSnapshot.Initial(topology);

    public RoutingResult Result { get; private set; } = RoutingEngine.Compute(FabricSnapshot.Initial(topology), TrafficPolicy.Default);

    public IReadOnlyDictionary<string, SwitchTable> Tables { get; private set; } = new Dictionary<string, SwitchTable>();

    public IReadOnlyList<string> Classes => [.. Result.Policy.Classes.Select(c => c.Name)];

    /// <summary>The first full set.</summary>
    public RoutesComputed Initial()
    {
        Tables = RoutingExport.All(Result);
        return Message(Tables.Values, priority: true, complete: true, "initial");
    }

    /// <summary>A state change (link down, drain...): the switches whose tables changed.</summary>
    public RoutesComputed Change(FabricSnapshot next, bool priority, string reason, string? trigger = null)
    {
        Snapshot = next;
        Result = RoutingEngine.Compute(next, TrafficPolicy.Default);
        var tables = RoutingExport.All(Result, Tables);
        var changed = tables.Values.Where(t => !Tables[t.SwitchName].SameContents(t)).ToList();
        Tables = tables;
        return Message(changed, priority, complete: false, reason, trigger);
    }

    /// <summary>Given tables as they are (e.g. weights changed by hand for a congestion change).</summary>
    public RoutesComputed Custom(IEnumerable<SwitchTable> tables, bool priority, string reason)
    {
        var list = tables.ToList();
        Tables = new Dictionary<string, SwitchTable>(Tables.Concat(list.Select(t => KeyValuePair.Create(t.SwitchName, t))).GroupBy(kv => kv.Key).Select(g => g.Last()));
        return Message(list, priority, complete: false, reason);
    }

    /// <summary>As <see cref="Change"/>, with each changed table as a delta from the one last sent (what routing sends by default).</summary>
    public RoutesComputed ChangeAsDeltas(FabricSnapshot next, bool priority, string reason, string? trigger = null)
    {
        var sent = new Dictionary<string, (long Version, SwitchTable Table)>(_sent, StringComparer.Ordinal);
        var whole = Change(next, priority, reason, trigger);
        var deltas = Tables.Values.Where(t => !sent[t.SwitchName].Table.SameContents(t)).Select(t =>
        {
            var (v, before) = sent[t.SwitchName];
            return TableCodec.EncodeDelta(TableDiff.Compute(before.WithVersion((ulong)v), t.WithVersion((ulong)whole.RoutingVersion)));
        }).ToList();
        return whole with { Tables = [], Deltas = deltas };
    }

    public RoutesComputed Message(IEnumerable<SwitchTable> tables, bool priority, bool complete, string reason, string? trigger = null)
    {
        var list = tables.ToList();
        var version = ++_version;
        foreach (var t in list) _sent[t.SwitchName] = (version, t);
        return Message(list, version, priority, complete, reason, trigger);
    }

    private RoutesComputed Message(List<SwitchTable> tables, long version, bool priority, bool complete, string reason, string? trigger) => new()
    {
        Fabric = topology.Name,
        RoutingVersion = version,
        TopologyVersion = Snapshot.Version,
        Priority = priority,
        Complete = complete,
        Reason = reason,
        TriggerIds = trigger is null ? [] : [trigger],
        TriggeredAt = trigger is null ? null : DateTimeOffset.UtcNow,
        ComputedAt = DateTimeOffset.UtcNow,
        Tables = [.. tables.Select(t => TableWire.ToProto(t.WithVersion(0)).ToByteArray())],
    };
}
