using System.Text.Json;

namespace ControlPlane.Cli.Api;

/// <summary>A thin client of the telemetry query API v1. Errors become <see cref="ServerProblemException"/>.</summary>
public sealed class TelemetryClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Series of both ends of a link.</summary>
    public Task<SeriesReplyDto> LinkAsync(int link, string? fabric, string? since, string? until, CancellationToken ct) =>
        GetAsync($"api/v1/telemetry/links/{link}{Query(fabric, since, until)}", ct);

    /// <summary>Series of one switch port.</summary>
    public Task<SeriesReplyDto> PortAsync(string sw, string port, string? fabric, string? since, string? until, CancellationToken ct) =>
        GetAsync($"api/v1/telemetry/ports/{Uri.EscapeDataString(sw)}/{Uri.EscapeDataString(port)}{Query(fabric, since, until)}", ct);

    private static string Query(string? fabric, string? since, string? until)
    {
        var q = new List<string>();
        if (!string.IsNullOrEmpty(fabric)) q.Add("fabric=" + Uri.EscapeDataString(fabric));
        if (!string.IsNullOrEmpty(since)) q.Add("since=" + Uri.EscapeDataString(since));
        if (!string.IsNullOrEmpty(until)) q.Add("until=" + Uri.EscapeDataString(until));
        return q.Count == 0 ? "" : "?" + string.Join('&', q);
    }

    private async Task<SeriesReplyDto> GetAsync(string path, CancellationToken ct)
    {
        using var resp = await http.GetAsync(path, ct);
        var text = await resp.Content.ReadAsStringAsync(ct);
        if (!resp.IsSuccessStatusCode) throw ServerProblemException.From(resp.StatusCode, text);
        try
        {
            return JsonSerializer.Deserialize<SeriesReplyDto>(text, Json) ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new ServerProblemException(resp.StatusCode, "the server's answer is not what this fabricctl expects", ex.Message, new Dictionary<string, string[]>(), null);
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>A series query's answer.</summary>
public sealed record SeriesReplyDto(string Fabric, DateTimeOffset From, DateTimeOffset To, double BucketSeconds, int? LinkId, IReadOnlyList<PortSeriesDto> Series);

/// <summary>The series of one port.</summary>
public sealed record PortSeriesDto(string Switch, int SwitchId, int Port, int LinkId, IReadOnlyList<SeriesPointDto> Points);

/// <summary>One bucket: min/mean/max per metric, null when not measured.</summary>
public sealed record SeriesPointDto(DateTimeOffset Time, int Samples, IReadOnlyDictionary<string, MetricStatDto?> Metrics);

/// <summary>Min, mean, max.</summary>
public sealed record MetricStatDto(double Min, double Mean, double Max);
