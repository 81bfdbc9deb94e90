using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Telemetry.Service;

/// <summary>
/// The ingest of one fabric: its queue, pipeline and snapshot builder, and the one worker that owns them.
/// Transports (HTTP, bus) only enqueue; the worker drains the queue when signalled and, every period of the
/// host's <see cref="TimeProvider"/>, builds one snapshot per plane, publishes them and hands downsampled rows to the store.
/// </summary>
public sealed class FabricShard : IAsyncDisposable
{
    private readonly TelemetryPipeline _pipeline;
    private readonly LinkLoadSnapshotBuilder _builder;
    private readonly TimeProvider _time;
    private readonly IBus _bus;
    private readonly SeriesWriter _writer;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<byte[], TaskCompletionSource<IngestResult>> _waiting = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drainLoop;
    private readonly Task _tickLoop;
    private double _lastLagMs;

    /// <summary>Creates and starts the worker of one fabric.</summary>
    public FabricShard(FabricSnapshot snapshot, TelemetryOptions options, TelemetryMetrics metrics, TimeProvider time, IBus bus, SeriesWriter writer, ILogger log)
    {
        Snapshot = snapshot;
        _pipeline = new TelemetryPipeline(snapshot.Topology, options, metrics);
        _builder = new LinkLoadSnapshotBuilder(_pipeline);
        Queue = new IngestQueue(options, metrics);
        _time = time;
        _bus = bus;
        _writer = writer;
        _log = log;
        _drainLoop = Task.Run(() => DrainLoopAsync(_stop.Token));
        _tickLoop = Task.Run(() => TickLoopAsync(_stop.Token));
    }

    /// <summary>The fabric as loaded from the inventory.</summary>
    public FabricSnapshot Snapshot { get; }

    /// <summary>Fabric name.</summary>
    public string Name => Snapshot.Topology.Name;

    /// <summary>Topology served.</summary>
    public FabricTopology Topology => Snapshot.Topology;

    /// <summary>The bounded queue transports write to.</summary>
    public IngestQueue Queue { get; }

    /// <summary>Snapshots published.</summary>
    public long SnapshotsPublished { get; private set; }

    /// <summary>Lag of the last snapshot built, ms.</summary>
    public double LastLagMs => _lastLagMs;

    /// <summary>Queues a batch; returns the shedding it caused (logged here) and, when <paramref name="wantResult"/>, a task completed with the worker's verdict.</summary>
    public (IReadOnlyList<Rejection> Refused, Task<IngestResult>? Result) Enqueue(byte[] payload, string agent, bool wantResult)
    {
        TaskCompletionSource<IngestResult>? tcs = null;
        if (wantResult)
        {
            tcs = new TaskCompletionSource<IngestResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting[payload] = tcs;
        }
        var refused = Queue.Enqueue(payload, agent, UnixNanos.Now(_time));
        foreach (var r in refused) LogRejection(r);
        if (payload.Length > _pipeline.Options.MaxBatchBytes) // refused at the door, never queued
        {
            _waiting.TryRemove(payload, out _);
            tcs?.TrySetResult(new IngestResult(0, 0, refused));
        }
        else
        {
            _signal.Release();
        }
        return (refused, tcs?.Task);
    }

    /// <summary>Forgets a waiter that gave up (its batch may have been shed).</summary>
    public void Forget(byte[] payload) => _waiting.TryRemove(payload, out _);

    private async Task DrainLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(ct);
            }
            catch (OperationCanceledException) { return; }
            lock (_gate)
            {
                while (Queue.TryDequeue(out var b))
                {
                    IngestResult result;
                    try
                    {
                        result = _pipeline.Ingest(b.Payload.Span, b.ReceiveUnixNanos, b.Agent);
                    }
                    catch (Exception e)
                    {
                        _log.LogError(e, "telemetry pipeline failed on a batch from agent {Agent} for fabric {Fabric}", b.Agent, Name);
                        result = new IngestResult(0, 0, [new Rejection(RejectReason.Malformed, b.Agent, "", 0, 0, "internal error while ingesting", true)]);
                    }
                    foreach (var r in result.Rejections) LogRejection(r);
                    if (MemoryMarshal.TryGetArray(b.Payload, out var seg) && seg.Array is { } arr && _waiting.TryRemove(arr, out var tcs))
                        tcs.TrySetResult(result);
                }
            }
        }
    }

    private async Task TickLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_pipeline.Options.Period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await TickAsync(ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e)
                {
                    _log.LogError(e, "telemetry snapshot of fabric {Fabric} failed", Name);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Builds and publishes the snapshots of the period just ended and hands finished downsampled rows to the writer.</summary>
    public async Task TickAsync(CancellationToken ct)
    {
        var now = UnixNanos.Now(_time);
        IReadOnlyList<LinkLoadSnapshot> snapshots;
        IReadOnlyList<PortSeriesRow> rows;
        lock (_gate)
        {
            snapshots = _builder.Build(now);
            _pipeline.Downsampler.Flush(now);
            rows = _pipeline.Downsampler.Drain();
        }
        if (snapshots.Count > 0) _lastLagMs = Math.Max(0, snapshots.Max(s => s.MaxLagMs));
        if (rows.Count > 0) _writer.Post(new SeriesBatch(Name, Topology, rows));
        foreach (var s in snapshots)
        {
            await _bus.Publish(s, ct);
            SnapshotsPublished++;
        }
    }

    private void LogRejection(in Rejection r)
    {
        if (r.WholeBatch)
            _log.LogWarning("telemetry batch rejected: {Reason} agent={Agent} fabric={Fabric} switch={Switch} samples={Samples}: {Detail}", r.Reason, r.Agent, Name, r.Switch, r.Samples, r.Detail);
        else
            _log.LogWarning("telemetry sample rejected: {Reason} agent={Agent} fabric={Fabric} switch={Switch} port={Port}: {Detail}", r.Reason, r.Agent, Name, r.Switch, r.Port, r.Detail);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_drainLoop, _tickLoop);
        foreach (var w in _waiting.Values) w.TrySetCanceled();
        _waiting.Clear();
    }
}
