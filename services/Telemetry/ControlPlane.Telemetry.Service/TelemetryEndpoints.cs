using System.Globalization;
using ControlPlane.Hosting;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ControlPlane.Telemetry.Service;

/// <summary>HTTP API of telemetry ingest.</summary>
public static class TelemetryEndpoints
{
    /// <summary>Content type of an ingest body.</summary>
    public const string ProtobufContentType = "application/x-protobuf";

    /// <summary>Maps the endpoints under /api/v1/telemetry.</summary>
    public static IEndpointRouteBuilder MapTelemetryEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/telemetry");
        g.MapPost("/batches", IngestAsync);
        g.MapGet("/stats", Stats);
        g.MapGet("/ports/{switch}/{port}", PortSeriesAsync);
        g.MapGet("/links/{id}", LinkSeriesAsync);
        return app;
    }

    private static async Task<IResult> IngestAsync(HttpRequest request, ShardRegistry registry, TelemetryMetrics metrics,
        IOptions<TelemetryOptions> pipeline, IOptions<TelemetryServiceOptions> options, CancellationToken ct)
    {
        var agent = request.Headers[TelemetryServiceOptions.AgentHeader].ToString();
        if (string.IsNullOrWhiteSpace(agent))
            throw new RequestValidationException("x-agent-id", "the header naming the sending agent is required");
        var type = request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(type, ProtobufContentType, StringComparison.OrdinalIgnoreCase) && !string.Equals(type, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
            throw new RequestValidationException("content-type", $"must be {ProtobufContentType} (a fabric.v1.TelemetryBatch), got '{request.ContentType}'", StatusCodes.Status415UnsupportedMediaType);
        byte[] payload;
        try
        {
            payload = await RequestBody.ReadBytesAsync(request, pipeline.Value.MaxBatchBytes, ct);
        }
        catch (RequestValidationException e) when (e.Status == StatusCodes.Status413PayloadTooLarge)
        {
            metrics.Rejected(new Rejection(RejectReason.TooLarge, agent, "", 0, 0, e.Detail ?? "too large", true));
            throw;
        }
        if (payload.Length == 0) throw new RequestValidationException("body", "empty: a fabric.v1.TelemetryBatch is required");
        string name;
        try
        {
            name = BatchPeek.SwitchName(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            metrics.Rejected(new Rejection(RejectReason.Malformed, agent, "", 0, 0, e.Message, true));
            throw new RequestValidationException("body", $"not a valid fabric.v1.TelemetryBatch (truncated or corrupt protobuf, {payload.Length} bytes): {e.Message}");
        }
        var fabric = request.Query["fabric"].ToString();
        var (shard, field, error) = registry.Route(string.IsNullOrEmpty(fabric) ? null : fabric, name);
        if (shard is null)
        {
            metrics.Rejected(new Rejection(field == "switch_name" && name.Length > 0 ? RejectReason.UnknownSwitch : RejectReason.MissingField, agent, name, 0, 0, error!, true));
            throw new RequestValidationException(field!, error!);
        }
        var (_, pending) = shard.Enqueue(payload, agent, wantResult: true);
        IngestResult result;
        try
        {
            result = await pending!.WaitAsync(options.Value.ReplyTimeout, ct);
        }
        catch (TimeoutException)
        {
            shard.Forget(payload);
            return Results.Accepted(value: new IngestReply(shard.Name, true, null, null, []));
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            // The shard was replaced (topology reloaded) or the host is stopping before the batch was ingested.
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Fabric reloading", $"fabric '{shard.Name}' was reloaded before the batch was ingested; send it again");
        }
        if (result.BatchRejected) throw BatchProblem(result.Rejections[0]);
        var rejections = result.Rejections.Select(r => new RejectionDto(Reason(r.Reason), r.Switch, r.Port, r.Detail)).ToList();
        if (result.SamplesAccepted == 0 && result.SamplesRejected > 0)
            throw RequestValidationException.From(result.Rejections.Select(r => ($"ports[port={r.Port}]", $"{r.Reason}: {r.Detail}")));
        return Results.Accepted(value: new IngestReply(shard.Name, false, result.SamplesAccepted, result.SamplesRejected, rejections));
    }

    private static ProblemException BatchProblem(Rejection r)
    {
        var (field, status) = r.Reason switch
        {
            RejectReason.Malformed => ("body", 400),
            RejectReason.TooLarge => ("body", 413),
            RejectReason.UnknownSwitch => ("switch_name", 400),
            RejectReason.MissingField => (r.Detail.Split(' ')[0], 400),
            RejectReason.TimestampInFuture or RejectReason.TimestampTooOld => ("sample_time_unix_nanos", 400),
            RejectReason.DuplicateBatch or RejectReason.OutOfOrderBatch => ("sequence", 409),
            _ => ("body", 400),
        };
        return new RequestValidationException(new Dictionary<string, string[]> { [field] = [$"{r.Reason}: {r.Detail}"] }, $"{field}: {r.Reason}: {r.Detail}", status);
    }

    // Agent ids are keys: the API's camelCase dictionary policy must not rewrite them.
    private static readonly System.Text.Json.JsonSerializerOptions StatsJson = new(System.Text.Json.JsonSerializerDefaults.Web) { DictionaryKeyPolicy = null };

    private static string Reason(RejectReason r) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(r.ToString());

    private static IResult Stats(ShardRegistry registry, TelemetryMetrics metrics, SeriesWriter writer)
    {
        var m = metrics.Read();
        return Results.Json(new
        {
            samplesAccepted = m.SamplesAccepted,
            batchesAccepted = m.BatchesAccepted,
            samplesRejected = m.SamplesRejected.ToDictionary(kv => Reason(kv.Key), kv => kv.Value),
            batchesRejected = m.BatchesRejected.ToDictionary(kv => Reason(kv.Key), kv => kv.Value),
            agents = m.Agents.ToDictionary(kv => kv.Key, kv => new
            {
                samplesAccepted = kv.Value.SamplesAccepted,
                samplesRejected = kv.Value.SamplesRejected.ToDictionary(x => Reason(x.Key), x => x.Value),
                batchesRejected = kv.Value.BatchesRejected.ToDictionary(x => Reason(x.Key), x => x.Value),
            }),
            missedBatches = m.MissedBatches,
            counterWraps = m.CounterWraps,
            counterResets = m.CounterResets,
            rebaselines = m.Rebaselines,
            snapshots = m.Snapshots,
            lagMs = new { last = m.LastLagMs, max = m.MaxLagMs },
            fabrics = registry.Shards.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new
            {
                name = s.Name,
                queue = new { batches = s.Queue.Count, bytes = s.Queue.Bytes, enqueued = s.Queue.Enqueued, shedBatches = s.Queue.ShedBatches, shedBytes = s.Queue.ShedBytes, refusedTooLarge = s.Queue.RefusedTooLarge },
                snapshotsPublished = s.SnapshotsPublished,
                lastLagMs = s.LastLagMs,
            }).ToList(),
            store = new { rowsWritten = writer.RowsWritten, rowsDropped = writer.RowsDropped + m.RowsDropped, writeFailures = writer.WriteFailures, retentionDrops = writer.RetentionDrops },
        }, StatsJson);
    }

    private static async Task<IResult> PortSeriesAsync(string @switch, string port, HttpRequest request, ShardRegistry registry, ISeriesStore store,
        TimeProvider time, IOptions<TelemetryServiceOptions> options, IOptions<TelemetryOptions> pipeline, CancellationToken ct)
    {
        var (from, to) = Window(request, time.GetUtcNow(), options.Value.MaxQuerySpan);
        var fabric = request.Query["fabric"].ToString();
        var (shard, field, error) = registry.Route(string.IsNullOrEmpty(fabric) ? null : fabric, @switch);
        if (shard is null)
        {
            if (field == "switch_name") throw new ProblemException(404, "Switch not found", error);
            throw new RequestValidationException(field!, error!);
        }
        var sw = shard.Topology.FindSwitch(@switch);
        var radix = shard.Topology.Switches[sw].Radix;
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p < 1 || p > radix)
            throw new RequestValidationException("port", $"must be a port number between 1 and {radix} (the radix of {@switch}), got '{port}'");
        var series = await store.QueryAsync(shard.Name, sw, p, from, to, ct);
        return Results.Ok(new SeriesReply(shard.Name, from, to, pipeline.Value.DownsampleBucket.TotalSeconds, null, series));
    }

    private static async Task<IResult> LinkSeriesAsync(string id, HttpRequest request, ShardRegistry registry, ISeriesStore store,
        TimeProvider time, IOptions<TelemetryServiceOptions> options, IOptions<TelemetryOptions> pipeline, CancellationToken ct)
    {
        var (from, to) = Window(request, time.GetUtcNow(), options.Value.MaxQuerySpan);
        if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var linkId))
            throw new RequestValidationException("id", $"must be a link id (a non-negative whole number), got '{id}'");
        var shard = FabricFor(request, registry);
        if (linkId >= shard.Topology.Links.Count)
            throw new ProblemException(404, "Link not found", $"fabric '{shard.Name}' has links 0..{shard.Topology.Links.Count - 1}, not {linkId}");
        var series = await store.QueryAsync(shard.Name, linkId, null, from, to, ct);
        return Results.Ok(new SeriesReply(shard.Name, from, to, pipeline.Value.DownsampleBucket.TotalSeconds, linkId, series));
    }

    private static FabricShard FabricFor(HttpRequest request, ShardRegistry registry)
    {
        var fabric = request.Query["fabric"].ToString();
        if (!string.IsNullOrEmpty(fabric))
            return registry.Find(fabric) ?? throw new ProblemException(404, "Fabric not found", $"fabric '{fabric}' is not served by this telemetry ingest");
        var shards = registry.Shards.Values.ToList();
        return shards.Count switch
        {
            1 => shards[0],
            0 => throw new ProblemException(503, "No fabric loaded", "no fabric is loaded yet; the inventory store may be unreachable"),
            _ => throw new RequestValidationException("fabric", $"required when several fabrics are served ({string.Join(", ", shards.Select(s => s.Name).Order())})"),
        };
    }

    /// <summary>[since, until) from the query: each a duration back from now (90s, 15m, 1h, 2d) or an ISO 8601 time.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Window(HttpRequest request, DateTimeOffset now, TimeSpan maxSpan)
    {
        var errors = new List<(string, string)>();
        foreach (var key in request.Query.Keys)
            if (key is not ("since" or "until" or "fabric")) errors.Add((key, "unknown query parameter (expected since, until, fabric)"));
        var from = Moment(request.Query["since"].ToString(), "since", now, now - TimeSpan.FromHours(1), errors);
        var to = Moment(request.Query["until"].ToString(), "until", now, now, errors);
        if (errors.Count == 0 && from >= to) errors.Add(("since", $"must be before until ({to:O}), got {from:O}"));
        if (errors.Count == 0 && to - from > maxSpan) errors.Add(("since", $"the window {to - from} is longer than the limit {maxSpan}"));
        if (errors.Count > 0) throw RequestValidationException.From(errors);
        return (from, to);
    }

    private static DateTimeOffset Moment(string text, string field, DateTimeOffset now, DateTimeOffset absent, List<(string, string)> errors)
    {
        if (string.IsNullOrEmpty(text)) return absent;
        if (TryDuration(text, out var d)) return now - d;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) && text.Contains('T', StringComparison.Ordinal))
            return t;
        errors.Add((field, $"must be a duration back from now (e.g. 90s, 15m, 1h, 2d) or an ISO 8601 time (2026-11-23T10:00:00Z), got '{text}'"));
        return absent;
    }

    /// <summary>"90s", "15m", "1h", "2d" (a positive whole number and a unit).</summary>
    public static bool TryDuration(string text, out TimeSpan value)
    {
        value = default;
        if (text.Length < 2) return false;
        var unit = text[^1];
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 100_000) return false;
        value = unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.Zero,
        };
        return value > TimeSpan.Zero;
    }
}

/// <summary>Answer to an ingest: counts when the worker answered within the reply timeout, else queued.</summary>
public sealed record IngestReply(string Fabric, bool Queued, int? Accepted, int? Rejected, IReadOnlyList<RejectionDto> Rejections);

/// <summary>One refused sample.</summary>
public sealed record RejectionDto(string Reason, string Switch, int Port, string Detail);

/// <summary>Answer to a series query.</summary>
public sealed record SeriesReply(string Fabric, DateTimeOffset From, DateTimeOffset To, double BucketSeconds, int? LinkId, IReadOnlyList<PortSeries> Series);
