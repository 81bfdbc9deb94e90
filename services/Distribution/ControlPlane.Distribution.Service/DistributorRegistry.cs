using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.FabricStore;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Distribution.Service;

/// <summary>Sends and publishes on the bus; send endpoints are cached per queue.</summary>
public sealed class BusDistributionOutput(IBus bus) : IDistributionOutput
{
    private readonly ConcurrentDictionary<string, Task<ISendEndpoint>> _endpoints = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async Task SendAsync(string replyQueue, RouteUpdateOrdered update, CancellationToken cancellationToken)
    {
        var endpoint = await _endpoints.GetOrAdd(replyQueue, q => bus.GetSendEndpoint(new Uri("queue:" + q)));
        await endpoint.Send(update, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task SendBatchAsync(string replyQueue, RouteUpdatesOrdered updates, CancellationToken cancellationToken)
    {
        var endpoint = await _endpoints.GetOrAdd(replyQueue, q => bus.GetSendEndpoint(new Uri("queue:" + q)));
        await endpoint.Send(updates, cancellationToken);
    }

    /// <inheritdoc/>
    public Task PublishAsync(RoutesConverged converged, CancellationToken cancellationToken) => bus.Publish(converged, cancellationToken);
}

/// <summary>Counts of messages refused before they reached a fabric (unknown fabric, undecodable).</summary>
public sealed class DistributionIntake
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>Counts one refusal under <paramref name="reason"/>.</summary>
    public void Count(string reason) => _counts.AddOrUpdate(reason, 1, (_, n) => n + 1);

    /// <summary>Counts by reason.</summary>
    public IReadOnlyDictionary<string, long> Counts => _counts.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}

/// <summary>The fabrics served, one <see cref="FabricDistributor"/> each, loaded from the inventory store and the distribution store.</summary>
public sealed class DistributorRegistry(
    IServiceScopeFactory scopes,
    IOptions<DistributionServiceOptions> options,
    TimeProvider time,
    IBus bus,
    DistributionStore store,
    ILoggerFactory logs) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FabricDistributor> _fabrics = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _load = new(1, 1);
    private readonly ILogger _log = logs.CreateLogger<DistributorRegistry>();
    private readonly BusDistributionOutput _output = new(bus);

    /// <summary>The distributors by fabric.</summary>
    public IReadOnlyDictionary<string, FabricDistributor> Fabrics => _fabrics;

    /// <summary>True when this service serves the fabric (the configured list, or any).</summary>
    public bool Serves(string fabric) => options.Value.Fabrics.Count == 0 || options.Value.Fabrics.Contains(fabric, StringComparer.Ordinal);

    /// <summary>Loads every served fabric.</summary>
    public async Task LoadAllAsync(CancellationToken ct)
    {
        IReadOnlyList<string> names = options.Value.Fabrics;
        if (names.Count == 0)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                names = await scope.ServiceProvider.GetRequiredService<IFabricReader>().ListFabricsAsync(ct);
            }
            catch (System.Data.Common.DbException e) when (e.SqlState == "42P01" || e.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase))
            {
                _log.LogInformation("distribution: the inventory store has no fabric yet");
                return;
            }
        }
        foreach (var n in names) await GetAsync(n, ct);
    }

    /// <summary>The distributor of a fabric, loading it on first use; null when the fabric is not served or not in the inventory.</summary>
    public async Task<FabricDistributor?> GetAsync(string fabric, CancellationToken ct)
    {
        if (_fabrics.TryGetValue(fabric, out var d)) return d;
        if (!Serves(fabric)) return null;
        await _load.WaitAsync(ct);
        try
        {
            if (_fabrics.TryGetValue(fabric, out d)) return d;
            Fabric.FabricSnapshot? snapshot;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                snapshot = await scope.ServiceProvider.GetRequiredService<IFabricReader>().LoadSnapshotAsync(fabric, ct);
            }
            catch (System.Data.Common.DbException e) when (e.SqlState == "42P01" || e.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase))
            {
                // An inventory store without its tables yet holds no fabric (other store errors are real outages and surface).
                return null;
            }
            if (snapshot is null) return null;
            var rows = await store.LoadAsync(fabric, ct);
            d = new FabricDistributor(snapshot.Topology, options.Value, rows, time, _output, store, logs.CreateLogger<FabricDistributor>(), seed: fabric.GetHashCode(StringComparison.Ordinal));
            _fabrics[fabric] = d;
            _log.LogInformation("distribution: serving fabric {Fabric}: {Switches} switches, {Stored} stored switch states", fabric, snapshot.Topology.Switches.Count, rows.Count);
            return d;
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>Follows the inventory: a created or imported fabric is (re)loaded, keeping versions; a deleted one is dropped.</summary>
    public async Task OnTopologyChangedAsync(TopologyChanged change, CancellationToken ct)
    {
        if (!Serves(change.FabricName)) return;
        switch (change.Kind)
        {
            case TopologyChangeKind.Deleted:
                if (_fabrics.TryRemove(change.FabricName, out var gone))
                {
                    await gone.DisposeAsync();
                    _log.LogInformation("distribution: fabric {Fabric} deleted; no longer served", change.FabricName);
                }
                break;
            case TopologyChangeKind.Created or TopologyChangeKind.Imported:
                if (_fabrics.TryGetValue(change.FabricName, out var existing))
                {
                    Fabric.FabricSnapshot? snapshot;
                    await using (var scope = scopes.CreateAsyncScope())
                        snapshot = await scope.ServiceProvider.GetRequiredService<IFabricReader>().LoadSnapshotAsync(change.FabricName, ct);
                    if (snapshot is not null) existing.SetTopology(snapshot.Topology);
                }
                else
                {
                    await GetAsync(change.FabricName, ct);
                }
                break;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var d in _fabrics.Values) await d.DisposeAsync();
        _fabrics.Clear();
    }
}

/// <summary>
/// The distribution status for hosts and the API: one light summary per fabric readable from any thread, and detailed
/// views computed on the fabric's loop.
/// </summary>
public sealed class DistributionStatus(DistributorRegistry registry, DistributionIntake intake)
{
    /// <summary>One summary per served fabric.</summary>
    public IReadOnlyList<DistributionSummary> Summaries => [.. registry.Fabrics.Values.Select(d => d.Summary).OrderBy(s => s.Fabric, StringComparer.Ordinal)];

    /// <summary>Messages refused before reaching a fabric, by reason.</summary>
    public IReadOnlyDictionary<string, long> Intake => intake.Counts;

    /// <summary>One line for a console.</summary>
    public override string ToString() => Summaries.Count == 0 ? "distribution: no fabric" : "distribution: " + string.Join("; ", Summaries);

    /// <summary>A fabric's status, or null when it is not served.</summary>
    public async Task<FabricStatusView?> FabricAsync(string fabric, CancellationToken ct = default) =>
        await registry.GetAsync(fabric, ct) is { } d ? await d.QueryAsync(x => x.StatusView()) : null;

    /// <summary>A switch's state; (false, null) when the fabric is not served, (true, null) when it has no such switch.</summary>
    public async Task<(bool FabricFound, SwitchView? Switch)> SwitchAsync(string fabric, string switchName, CancellationToken ct = default) =>
        await registry.GetAsync(fabric, ct) is { } d ? (true, await d.QueryAsync(x => x.SwitchView(switchName))) : (false, null);

    /// <summary>The lagging switches of a fabric, or null when it is not served.</summary>
    public async Task<IReadOnlyList<LaggingSwitch>?> LaggingAsync(string fabric, TimeProvider time, CancellationToken ct = default) =>
        await registry.GetAsync(fabric, ct) is { } d ? await d.QueryAsync(x => x.LaggingView(time.GetUtcNow())) : null;
}

/// <summary>Creates the schema, loads the fabrics and runs the batch writer; on stop, flushes it.</summary>
public sealed class DistributionStartup(DistributionStore store, DistributorRegistry registry, ILogger<DistributionStartup> logger) : IHostedService
{
    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.EnsureSchemaAsync(cancellationToken);
        store.Start();
        try
        {
            await registry.LoadAllAsync(cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            // Fabrics load on first use as well (a message or a request naming them).
            logger.LogError(e, "distribution: inventory store not reachable at startup; fabrics load on first use");
        }
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await registry.DisposeAsync();
        await store.StopAsync(cancellationToken);
    }
}

/// <summary>
/// Asks routing for the complete tables of every fabric from which none have arrived since this service started: tables
/// published before this service listened (it started later, or the bus was not up yet) are not lost, they are sent again.
/// </summary>
public sealed class RoutesRequester(DistributorRegistry registry, IBus bus, IOptions<DistributionServiceOptions> options, TimeProvider time, ILogger<RoutesRequester> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.RequestTablesInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(every, time, stoppingToken);
                foreach (var (fabric, d) in registry.Fabrics)
                {
                    int missing;
                    try
                    {
                        missing = await d.SwitchesWithoutTablesAsync().WaitAsync(stoppingToken);
                    }
                    catch (ObjectDisposedException)
                    {
                        continue; // the fabric was dropped meanwhile
                    }
                    if (d.HasReceivedTables && missing == 0) continue;
                    // Also when only some planes' tables arrived: messages published before our queue existed are lost.
                    var reason = d.HasReceivedTables ? $"{missing} switches have no table yet" : "no tables received since distribution started";
                    try
                    {
                        await bus.Publish(new RoutesRequested { Fabric = fabric, Reason = reason, RequestedAt = time.GetUtcNow() }, stoppingToken);
                        logger.LogInformation("distribution {Fabric}: {Reason}; asked routing for complete tables", fabric, reason);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        logger.LogWarning("distribution {Fabric}: could not ask routing for tables ({Message}); retrying", fabric, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
