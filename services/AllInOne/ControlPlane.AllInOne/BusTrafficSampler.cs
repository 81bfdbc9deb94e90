using System.Collections.Concurrent;

namespace ControlPlane.AllInOne;

/// <summary>Messages of one type consumed from the bus, and their serialized size.</summary>
public sealed record BusTraffic(string MessageType, long Messages, double Megabytes);

/// <summary>Counts what the bus delivers, by message type and serialized bytes (what each consumer had to deserialize).</summary>
public sealed class BusTrafficSampler : MassTransit.IReceiveObserver
{
    private readonly ConcurrentDictionary<string, (long Count, long Bytes)> _byType = new(StringComparer.Ordinal);
    private volatile bool _recording;

    /// <summary>Starts counting.</summary>
    public void Start() => _recording = true;

    /// <summary>Stops counting.</summary>
    public void Stop() => _recording = false;

    /// <summary>Message types by bytes, largest first.</summary>
    public IReadOnlyList<BusTraffic> Top(int count) =>
        _byType.OrderByDescending(kv => kv.Value.Bytes).Take(count).Select(kv => new BusTraffic(kv.Key, kv.Value.Count, kv.Value.Bytes / 1e6)).ToList();

    /// <inheritdoc/>
    public Task PostConsume<T>(MassTransit.ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class
    {
        if (!_recording) return Task.CompletedTask;
        var bytes = context.ReceiveContext.Body.Length ?? context.ReceiveContext.Body.GetBytes().Length;
        _byType.AddOrUpdate(typeof(T).Name, (1, bytes), (_, v) => (v.Count + 1, v.Bytes + bytes));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task PreReceive(MassTransit.ReceiveContext context) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task PostReceive(MassTransit.ReceiveContext context) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task ConsumeFault<T>(MassTransit.ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;

    /// <inheritdoc/>
    public Task ReceiveFault(MassTransit.ReceiveContext context, Exception exception) => Task.CompletedTask;
}
