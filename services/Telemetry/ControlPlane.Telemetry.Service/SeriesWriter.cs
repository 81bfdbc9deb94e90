using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Telemetry.Service;

/// <summary>
/// Writes downsampled rows off the workers' threads, so a slow store never stalls ingest: workers post batches to a
/// bounded channel (the oldest is dropped and counted when the store falls behind); one loop writes them, and a timer of
/// the host's <see cref="TimeProvider"/> applies the retention.
/// </summary>
public sealed class SeriesWriter(ISeriesStore store, IOptions<TelemetryServiceOptions> options, TimeProvider time, ILogger<SeriesWriter> logger)
{
    private readonly Channel<SeriesBatch> _channel = Channel.CreateBounded<SeriesBatch>(new BoundedChannelOptions(256)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly CancellationTokenSource _stop = new();
    private Task? _writeLoop, _retentionLoop;
    private bool _schemaReady;
    private long _rowsWritten, _rowsDropped, _writeFailures, _partitionsDropped;

    /// <summary>Rows written to the store.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>Rows dropped: the channel was full, or the store failed.</summary>
    public long RowsDropped => Interlocked.Read(ref _rowsDropped);

    /// <summary>Failed writes.</summary>
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    /// <summary>Partitions (or row sets on SQLite) dropped by retention.</summary>
    public long RetentionDrops => Interlocked.Read(ref _partitionsDropped);

    /// <summary>Hands rows to the writer; never blocks.</summary>
    public void Post(SeriesBatch batch)
    {
        if (!_channel.Writer.TryWrite(batch)) Interlocked.Add(ref _rowsDropped, batch.Rows.Count);
    }

    /// <summary>Starts the loops (called by the topology loader at host start).</summary>
    public Task StartAsync(CancellationToken ct)
    {
        _writeLoop ??= Task.Run(() => WriteLoopAsync(_stop.Token));
        _retentionLoop ??= Task.Run(() => RetentionLoopAsync(_stop.Token));
        return Task.CompletedTask;
    }

    /// <summary>Creates the schema if it is not there yet; false when the store is unreachable.</summary>
    public async Task<bool> EnsureSchemaAsync(CancellationToken ct)
    {
        if (_schemaReady) return true;
        try
        {
            await store.EnsureSchemaAsync(time.GetUtcNow(), ct);
            _schemaReady = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "telemetry series store: cannot create the schema");
        }
        return _schemaReady;
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        await EnsureSchemaAsync(ct);
        try
        {
            await foreach (var batch in _channel.Reader.ReadAllAsync(ct))
            {
                try
                {
                    if (!await EnsureSchemaAsync(ct)) throw new InvalidOperationException("series schema not created");
                    var n = await store.WriteAsync(batch, time.GetUtcNow(), ct);
                    Interlocked.Add(ref _rowsWritten, n);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Interlocked.Increment(ref _writeFailures);
                    Interlocked.Add(ref _rowsDropped, batch.Rows.Count);
                    logger.LogError(e, "telemetry series store: writing {Rows} rows of fabric {Fabric} failed; dropped", batch.Rows.Count, batch.Fabric);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task RetentionLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionCheckInterval, time);
        try
        {
            do
            {
                try
                {
                    if (!await EnsureSchemaAsync(ct)) continue;
                    var dropped = await store.ApplyRetentionAsync(time.GetUtcNow(), ct);
                    Interlocked.Add(ref _partitionsDropped, dropped.Count);
                    if (dropped.Count > 0) logger.LogInformation("telemetry retention ({Retention}): dropped {Dropped}", options.Value.Retention, string.Join(", ", dropped));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "telemetry retention failed");
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Stops the loops.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _stop.CancelAsync();
        if (_writeLoop is not null) await _writeLoop;
        if (_retentionLoop is not null) await _retentionLoop;
    }
}
