using System.Collections.Concurrent;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Telemetry.Service;

/// <summary>The fabrics served, one <see cref="FabricShard"/> each, loaded from the inventory store at start and on TopologyChanged.</summary>
public sealed class ShardRegistry(
    IServiceScopeFactory scopes,
    IOptions<TelemetryServiceOptions> options,
    IOptions<TelemetryOptions> pipelineOptions,
    TelemetryMetrics metrics,
    TimeProvider time,
    IBus bus,
    SeriesWriter writer,
    ILoggerFactory logs) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FabricShard> _shards = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly ILogger _log = logs.CreateLogger<ShardRegistry>();

    /// <summary>True once the fabrics were loaded at least once.</summary>
    public bool Loaded { get; private set; }

    /// <summary>The shards, by fabric name.</summary>
    public IReadOnlyDictionary<string, FabricShard> Shards => _shards;

    /// <summary>The shard of a fabric, or null.</summary>
    public FabricShard? Find(string fabric) => _shards.GetValueOrDefault(fabric);

    /// <summary>True when the fabric is one this service is configured to serve.</summary>
    public bool Serves(string fabric) => options.Value.Fabrics.Count == 0 || options.Value.Fabrics.Contains(fabric, StringComparer.Ordinal);

    /// <summary>Loads every served fabric (the configured list, or every fabric in the store).</summary>
    public async Task LoadAllAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<IFabricReader>();
        var names = options.Value.Fabrics.Count > 0 ? options.Value.Fabrics : await reader.ListFabricsAsync(ct);
        foreach (var name in names) await ReloadAsync(name, ct);
        Loaded = true;
    }

    /// <summary>(Re)loads one fabric from the store; removes its shard when the fabric is gone.</summary>
    public async Task ReloadAsync(string fabric, CancellationToken ct)
    {
        if (!Serves(fabric)) return;
        await _reload.WaitAsync(ct);
        try
        {
            FabricSnapshot? snapshot;
            await using (var scope = scopes.CreateAsyncScope())
                snapshot = await scope.ServiceProvider.GetRequiredService<IFabricReader>().LoadSnapshotAsync(fabric, ct);
            var old = _shards.GetValueOrDefault(fabric);
            // Only the structure matters to the pipeline: a state change (drain, down) keeps the shard and its rates.
            if (snapshot is not null && old is not null && SameStructure(old.Topology, snapshot.Topology)) return;
            if (snapshot is null)
            {
                if (_shards.TryRemove(fabric, out var gone)) await gone.DisposeAsync();
                _log.LogInformation("telemetry: fabric {Fabric} is not in the inventory; not served", fabric);
                return;
            }
            var shard = new FabricShard(snapshot, pipelineOptions.Value, metrics, time, bus, writer, logs.CreateLogger<FabricShard>());
            _shards[fabric] = shard;
            if (old is not null) await old.DisposeAsync();
            _log.LogInformation("telemetry: serving fabric {Fabric}: {Switches} switches, {Links} links, {Planes} planes",
                fabric, snapshot.Topology.Switches.Count, snapshot.Topology.Links.Count, snapshot.Topology.Planes.Count);
        }
        finally
        {
            _reload.Release();
        }
    }

    private static bool SameStructure(FabricTopology a, FabricTopology b) =>
        a.Switches.Count == b.Switches.Count && a.Links.Count == b.Links.Count && a.Hosts.Count == b.Hosts.Count && a.Planes.Count == b.Planes.Count
        && a.Switches.Select(s => s.Name).SequenceEqual(b.Switches.Select(s => s.Name), StringComparer.Ordinal);

    /// <summary>Finds the shard for a batch: the named fabric, else the only served fabric holding the switch.</summary>
    public (FabricShard? Shard, string? Field, string? Error) Route(string? fabric, string switchName)
    {
        if (!string.IsNullOrEmpty(fabric))
            return _shards.TryGetValue(fabric, out var s) ? (s, null, null) : (null, "fabric", $"fabric '{fabric}' is not served by this telemetry ingest (served: {Served()})");
        if (_shards.Count == 0) return (null, "fabric", "no fabric is loaded yet; the inventory store may be unreachable");
        if (switchName.Length == 0) return (null, "switch_name", "switch_name is empty");
        FabricShard? found = null;
        var many = new List<string>();
        foreach (var sh in _shards.Values)
        {
            if (sh.Topology.FindSwitch(switchName) < 0) continue;
            many.Add(sh.Name);
            found = sh;
        }
        return many.Count switch
        {
            0 => (null, "switch_name", $"switch '{switchName}' is in no fabric served (served: {Served()})"),
            1 => (found, null, null),
            _ => (null, "fabric", $"switch '{switchName}' is in several fabrics ({string.Join(", ", many.Order())}); name one with ?fabric="),
        };
    }

    private string Served() => _shards.IsEmpty ? "none" : string.Join(", ", _shards.Keys.Order());

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var s in _shards.Values) await s.DisposeAsync();
        _shards.Clear();
    }
}

/// <summary>Loads the fabrics at start, retrying in the background while the inventory store is unreachable.</summary>
public sealed class TopologyLoader(ShardRegistry registry, IOptions<TelemetryServiceOptions> options, SeriesWriter writer, ILogger<TopologyLoader> logger) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _retry;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await writer.StartAsync(cancellationToken);
        try
        {
            await registry.LoadAllAsync(cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            logger.LogError(e, "telemetry: inventory store not reachable at startup; retrying in the background");
            _retry = RetryAsync(_stop.Token);
        }
    }

    private async Task RetryAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.TopologyRetryInterval, ct);
                await registry.LoadAllAsync(ct);
                return;
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning("telemetry: inventory store still not reachable: {Message}", e.Message);
            }
        }
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_retry is not null) await _retry;
        await registry.DisposeAsync();
        await writer.StopAsync(cancellationToken);
    }
}
