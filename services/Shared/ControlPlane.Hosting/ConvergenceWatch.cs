using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Contracts;
using MassTransit;

namespace ControlPlane.Hosting;

/// <summary>
/// Follows RoutesConverged events by trigger id: how benchmarks and end-to-end tests learn that a failure they
/// injected has been routed around on every affected switch. Register <see cref="ConvergenceProbe"/> as a consumer.
/// </summary>
public sealed class ConvergenceWatch
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<(RoutesConverged Event, long Ticks)>> _waiters = new(StringComparer.Ordinal);

    /// <summary>Every event seen.</summary>
    public ConcurrentQueue<RoutesConverged> Seen { get; } = new();

    /// <summary>A task completed by the first RoutesConverged carrying the trigger id (register before injecting).</summary>
    public Task<(RoutesConverged Event, long Ticks)> WaitFor(string triggerId) =>
        _waiters.GetOrAdd(triggerId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    internal void On(RoutesConverged m)
    {
        var now = Stopwatch.GetTimestamp();
        Seen.Enqueue(m);
        foreach (var id in m.TriggerIds)
            if (_waiters.TryRemove(id, out var w)) w.TrySetResult((m, now));
    }
}

/// <summary>Feeds <see cref="ConvergenceWatch"/>.</summary>
public sealed class ConvergenceProbe(ConvergenceWatch watch) : IConsumer<RoutesConverged>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<RoutesConverged> context)
    {
        watch.On(context.Message);
        return Task.CompletedTask;
    }
}
