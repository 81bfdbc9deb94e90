using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Routing.Service;

/// <summary>The fabrics routed here, one <see cref="FabricRouter"/> each.</summary>
public sealed class RoutingRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FabricRouter> _routers = new(StringComparer.Ordinal);
    private readonly IServiceScopeFactory _scopes;
    private readonly IRoutesPublisher _publisher;
    private readonly RoutingServiceOptions _options;
    private readonly RoutingStatus _status;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly Func<string, CancellationToken, Task<FabricSnapshot?>> _load;
    private readonly Lock _ensure = new();

    /// <summary>Creates the registry (DI).</summary>
    public RoutingRegistry(IServiceScopeFactory scopes, IRoutesPublisher publisher, IOptions<RoutingServiceOptions> options, RoutingStatus status, TimeProvider time, ILoggerFactory logs)
        : this(null, publisher, options.Value, status, time, logs)
    {
        _scopes = scopes;
    }

    /// <summary>Creates a registry loading fabrics with <paramref name="load"/> (benchmarks, tests without a store).</summary>
    public RoutingRegistry(Func<string, CancellationToken, Task<FabricSnapshot?>>? load, IRoutesPublisher publisher, RoutingServiceOptions options, RoutingStatus status, TimeProvider time, ILoggerFactory logs)
    {
        _scopes = null!;
        _publisher = publisher;
        _options = options;
        _status = status;
        _time = time;
        _logs = logs;
        _log = logs.CreateLogger<RoutingRegistry>();
        _load = load ?? LoadFromStoreAsync;
    }

    /// <summary>Names of the fabrics routed (or loading).</summary>
    public IReadOnlyCollection<string> Fabrics => _routers.Keys.ToList();

    /// <summary>True when this service is configured to route the fabric.</summary>
    public bool Serves(string fabric) => _options.Fabrics.Count == 0 || _options.Fabrics.Contains(fabric, StringComparer.Ordinal);

    internal FabricRouter? Find(string fabric) => _routers.GetValueOrDefault(fabric);

    /// <summary>Starts routing a fabric (loading it from the store) unless it is already routed; false when not served.</summary>
    public bool Ensure(string fabric, string reason = "initial")
    {
        if (!Serves(fabric)) return false;
        // A lock rather than GetOrAdd's factory, which may run twice and leave a second router's loop running.
        lock (_ensure)
        {
            if (_routers.ContainsKey(fabric)) return true;
            var router = new FabricRouter(fabric, _load, _publisher, _options, _status.Entry(fabric), _time, _logs.CreateLogger<FabricRouter>(), Gone);
            _routers[fabric] = router;
            router.Post(new LoadWork(reason));
        }
        return true;
    }

    /// <summary>Lists the store and starts routing every served fabric not yet routed. Throws when the store is unreadable.</summary>
    public async Task ScanAsync(CancellationToken ct)
    {
        IReadOnlyList<string> names;
        if (_scopes is null) names = _options.Fabrics;
        else
        {
            await using var scope = _scopes.CreateAsyncScope();
            names = await scope.ServiceProvider.GetRequiredService<IFabricReader>().ListFabricsAsync(ct);
        }
        foreach (var n in names) Ensure(n);
    }

    /// <summary>Hands a port event to its fabric's router; false when the fabric is not routed here.</summary>
    internal bool Post(string fabric, RouterWork work) => _routers.TryGetValue(fabric, out var r) && r.Post(work);

    /// <summary>Reacts to an inventory change.</summary>
    public async Task TopologyChangedAsync(TopologyChanged ev)
    {
        if (!Serves(ev.FabricName)) return;
        if (ev.Kind == TopologyChangeKind.Deleted)
        {
            await RemoveAsync(ev.FabricName);
            return;
        }
        if (_routers.TryGetValue(ev.FabricName, out var r)) r.Post(new TopologyWork(ev));
        else Ensure(ev.FabricName);
    }

    /// <summary>Stops routing a fabric and drops its state.</summary>
    public async Task RemoveAsync(string fabric)
    {
        if (_routers.TryRemove(fabric, out var r))
        {
            _status.Remove(fabric);
            _log.LogInformation("routing: fabric {Fabric} dropped", fabric);
            await r.DisposeAsync();
        }
    }

    private void Gone(FabricRouter router)
    {
        // Called from the router's own loop: remove it, and let the loop end without awaiting itself.
        if (_routers.TryRemove(new KeyValuePair<string, FabricRouter>(router.Fabric, router)))
        {
            _status.Remove(router.Fabric);
            _ = Task.Run(() => router.DisposeAsync().AsTask());
        }
    }

    private async Task<FabricSnapshot?> LoadFromStoreAsync(string fabric, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IFabricReader>().LoadSnapshotAsync(fabric, ct);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var name in _routers.Keys.ToList()) await RemoveAsync(name);
    }
}

/// <summary>Publishes on the bus.</summary>
public sealed class BusRoutesPublisher(IBus bus) : IRoutesPublisher
{
    /// <inheritdoc/>
    public Task PublishAsync(RoutesComputed message, CancellationToken cancellationToken) => bus.Publish(message, cancellationToken);
}

/// <summary>Starts routing every fabric in the store, waiting while the store is unreadable, and rescans for fabrics that appear later.</summary>
public sealed class RoutingWorker(RoutingRegistry registry, IOptions<RoutingServiceOptions> options, TimeProvider time, ILogger<RoutingWorker> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var failing = false;
        var wait = o.StoreRetryMs;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await registry.ScanAsync(stoppingToken);
                if (failing) logger.LogInformation("routing: fabric store readable again");
                failing = false;
                wait = o.StoreRetryMs;
                if (o.RescanMs == 0) return;
                await Task.Delay(TimeSpan.FromMilliseconds(o.RescanMs), time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Expected while the inventory has not created its tables yet, or the database is down.
                if (!failing) logger.LogWarning("routing: fabric store not readable ({Message}); retrying from every {Ms} ms, backing off", e.Message, o.StoreRetryMs);
                failing = true;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait), time, stoppingToken);
                    wait = Math.Min(wait * 2, o.StoreRetryMs * 16);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await registry.DisposeAsync();
    }
}
