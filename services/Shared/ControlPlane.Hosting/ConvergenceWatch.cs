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
    private sealed record Waiter(Func<RoutesConverged, bool> Accept, TaskCompletionSource<(RoutesConverged Event, long Ticks)> Done);

    private readonly ConcurrentDictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);

    /// <summary>Every event seen.</summary>
    public ConcurrentQueue<RoutesConverged> Seen { get; } = new();

    /// <summary>
    /// A task completed by the first RoutesConverged carrying the trigger id that <paramref name="accept"/> takes (by
    /// default one that changed some switch: a link's two ends report separately and only one of the reports changes
    /// the tables). Register before injecting.
    /// </summary>
    public Task<(RoutesConverged Event, long Ticks)> WaitFor(string triggerId, Func<RoutesConverged, bool>? accept = null) =>
        _waiters.GetOrAdd(triggerId, _ => new(accept ?? (m => m.Switches > 0), new(TaskCreationOptions.RunContinuationsAsynchronously))).Done.Task;

    internal void On(RoutesConverged m)
    {
        var now = Stopwatch.GetTimestamp();
        Seen.Enqueue(m);
        foreach (var id in m.TriggerIds)
            if (_waiters.TryGetValue(id, out var w) && w.Accept(m) && _waiters.TryRemove(id, out _)) w.Done.TrySetResult((m, now));
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
