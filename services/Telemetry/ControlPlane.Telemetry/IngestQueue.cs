namespace ControlPlane.Telemetry;

/// <summary>An encoded batch waiting for the pipeline.</summary>
/// <param name="Payload">The protobuf bytes.</param>
/// <param name="Agent">Who the transport says sent it.</param>
/// <param name="ReceiveUnixNanos">When it was received (host clock): the pipeline's skew checks use this, not the dequeue time.</param>
public readonly record struct QueuedBatch(ReadOnlyMemory<byte> Payload, string Agent, long ReceiveUnixNanos);

/// <summary>
/// Bounded queue between the transports (bus consumers, HTTP endpoint) and the single pipeline thread.
/// <para>
/// Shedding rule: the queue holds at most <see cref="TelemetryOptions.QueueCapacityBatches"/> batches and
/// <see cref="TelemetryOptions.QueueCapacityBytes"/> bytes. A batch over <see cref="TelemetryOptions.MaxBatchBytes"/>
/// is refused at the door (<see cref="RejectReason.TooLarge"/>). When a new batch does not fit, the <b>oldest</b>
/// queued batches are dropped until it does (<see cref="RejectReason.Shed"/>), never the newest: counters are
/// cumulative, so the next batch of the same switch covers the dropped interval and only time resolution is lost,
/// while fresh data is what routing needs. Every drop is counted here and in <see cref="TelemetryMetrics"/>
/// (per agent) and returned to the caller to log.
/// </para>
/// Thread-safe: any number of producers, one consumer.
/// </summary>
public sealed class IngestQueue
{
    private readonly Queue<QueuedBatch> _queue = new();
    private readonly Lock _lock = new();
    private readonly int _maxBatches;
    private readonly long _maxBytes;
    private readonly int _maxBatchBytes;
    private readonly TelemetryMetrics _metrics;
    private long _bytes;

    /// <summary>Creates the queue with the limits of <paramref name="options"/>.</summary>
    public IngestQueue(TelemetryOptions options, TelemetryMetrics metrics)
    {
        options.ThrowIfInvalid();
        _maxBatches = options.QueueCapacityBatches;
        _maxBytes = options.QueueCapacityBytes;
        _maxBatchBytes = options.MaxBatchBytes;
        _metrics = metrics;
    }

    /// <summary>Batches queued.</summary>
    public int Count { get { lock (_lock) return _queue.Count; } }

    /// <summary>Bytes queued.</summary>
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>Batches accepted into the queue.</summary>
    public long Enqueued { get; private set; }

    /// <summary>Batches dropped to make room.</summary>
    public long ShedBatches { get; private set; }

    /// <summary>Bytes dropped to make room.</summary>
    public long ShedBytes { get; private set; }

    /// <summary>Batches refused at the door for their size.</summary>
    public long RefusedTooLarge { get; private set; }

    /// <summary>
    /// Queues a batch. Returns the refusals this caused (empty when none): the batch itself when too large, or the
    /// older batches shed to make room, each naming its agent.
    /// </summary>
    public IReadOnlyList<Rejection> Enqueue(ReadOnlyMemory<byte> payload, string agent, long receiveUnixNanos)
    {
        if (payload.Length > _maxBatchBytes)
        {
            var r = new Rejection(RejectReason.TooLarge, agent, "", 0, 0, $"batch is {payload.Length} bytes, limit {_maxBatchBytes}; refused before queueing", WholeBatch: true);
            lock (_lock) RefusedTooLarge++;
            _metrics.Rejected(r);
            return [r];
        }
        List<Rejection>? shed = null;
        lock (_lock)
        {
            while (_queue.Count > 0 && (_queue.Count + 1 > _maxBatches || _bytes + payload.Length > _maxBytes))
            {
                var old = _queue.Dequeue();
                _bytes -= old.Payload.Length;
                ShedBatches++;
                ShedBytes += old.Payload.Length;
                (shed ??= []).Add(new Rejection(RejectReason.Shed, old.Agent, "", 0, 0,
                    $"ingest queue full ({_maxBatches} batches / {_maxBytes} bytes); dropped the oldest batch ({old.Payload.Length} bytes, received {old.ReceiveUnixNanos})", WholeBatch: true));
            }
            _queue.Enqueue(new QueuedBatch(payload, agent, receiveUnixNanos));
            _bytes += payload.Length;
            Enqueued++;
        }
        if (shed is null) return [];
        foreach (var r in shed) _metrics.Rejected(r);
        return shed;
    }

    /// <summary>
    /// Feeds up to <paramref name="maxBatches"/> queued batches, oldest first, to the pipeline on the calling thread
    /// (the pipeline's one consumer). Every refusal is passed to <paramref name="onRejected"/> for logging.
    /// </summary>
    /// <returns>Batches taken from the queue.</returns>
    public int DrainInto(TelemetryPipeline pipeline, int maxBatches, Action<Rejection>? onRejected = null)
    {
        var n = 0;
        while (n < maxBatches && TryDequeue(out var b))
        {
            n++;
            var r = pipeline.Ingest(b.Payload.Span, b.ReceiveUnixNanos, b.Agent);
            if (onRejected is not null) foreach (var x in r.Rejections) onRejected(x);
        }
        return n;
    }

    /// <summary>Takes the oldest batch, if any.</summary>
    public bool TryDequeue(out QueuedBatch batch)
    {
        lock (_lock)
        {
            if (!_queue.TryDequeue(out batch)) return false;
            _bytes -= batch.Payload.Length;
            return true;
        }
    }
}
