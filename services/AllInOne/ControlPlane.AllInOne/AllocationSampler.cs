using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace ControlPlane.AllInOne;

/// <summary>Bytes allocated of one type, as sampled by the runtime (one sample about every 100 KB allocated).</summary>
public sealed record AllocatedType(string Type, double Megabytes, double Share);

/// <summary>
/// Samples the runtime's allocation ticks (the GC's AllocationTick event, one per ~100 KB allocated, naming the type
/// of the object that crossed the mark) to tell which types a run allocates most. In process, no tracing tool needed;
/// the volume per type is an estimate (samples x 100 KB), good for ranking.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const int AllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    /// <summary>Starts counting (the listener is enabled from construction, counting only between Start and Stop).</summary>
    public void Start() => _recording = true;

    /// <summary>Stops counting.</summary>
    public void Stop() => _recording = false;

    /// <summary>The types allocated most, largest first.</summary>
    public IReadOnlyList<AllocatedType> Top(int count)
    {
        var total = Math.Max(1, _bytes.Values.Sum());
        return _bytes.OrderByDescending(kv => kv.Value).Take(count)
            .Select(kv => new AllocatedType(kv.Key, kv.Value / 1e6, (double)kv.Value / total)).ToList();
    }

    /// <inheritdoc/>
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // GC keyword (0x1) at verbose level carries AllocationTick.
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
    }

    /// <inheritdoc/>
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventId != AllocationTickEventId || e.PayloadNames is null || e.Payload is null) return;
        string? type = null;
        long amount = 0;
        for (var i = 0; i < e.PayloadNames.Count; i++)
        {
            switch (e.PayloadNames[i])
            {
                case "TypeName": type = e.Payload[i] as string; break;
                case "AllocationAmount64": amount = Convert.ToInt64(e.Payload[i], System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
        if (type is not null) _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }
}
