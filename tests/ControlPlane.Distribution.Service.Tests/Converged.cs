using System.Collections.Concurrent;
using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>Collects RoutesConverged events from a bus.</summary>
public sealed class Converged : IAsyncDisposable
{
    private HostReceiveEndpointHandle? _handle;

    public ConcurrentQueue<RoutesConverged> All { get; } = new();

    public static async Task<Converged> StartAsync(IBus bus)
    {
        var c = new Converged();
        c._handle = bus.ConnectReceiveEndpoint($"converged-{Guid.NewGuid():N}", cfg => cfg.Handler<RoutesConverged>(ctx =>
        {
            c.All.Enqueue(ctx.Message);
            return Task.CompletedTask;
        }));
        await c._handle.Ready;
        return c;
    }

    public async Task<RoutesConverged> WaitAsync(long routingVersion, int seconds = 20)
    {
        RoutesConverged? found = null;
        await DistributionApp.EventuallyAsync(() => (found = All.FirstOrDefault(c => c.RoutingVersion == routingVersion)) is not null,
            () => $"RoutesConverged v{routingVersion} (got {string.Join(", ", All.Select(c => "v" + c.RoutingVersion))})", seconds);
        return found!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_handle is not null) await _handle.StopAsync();
    }
}
