using System.Text;
using System.Text.Json;

namespace ControlPlane.Cli.Api;

/// <summary>A thin client of the inventory REST API v1. Errors become <see cref="ServerProblemException"/>.</summary>
public sealed class InventoryClient(HttpClient http) : IDisposable
{
    /// <summary>Largest page the server hands out.</summary>
    public const int MaxPage = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<IReadOnlyList<FabricSummary>> FabricsAsync(CancellationToken ct) =>
        GetAsync<IReadOnlyList<FabricSummary>>("api/v1/fabrics", ct);

    public async Task<FabricSummary> ImportAsync(string fabric, string format, string body, CancellationToken ct)
    {
        using var content = new StringContent(body, Encoding.UTF8, format == "json" ? "application/json" : "text/plain");
        using var resp = await http.PostAsync($"api/v1/fabrics/{Uri.EscapeDataString(fabric)}/import?format={format}", content, ct);
        return await ReadAsync<FabricSummary>(resp, ct);
    }

    /// <summary>Every item of a paged list from <paramref name="offset"/>, up to <paramref name="limit"/> items (all when null).</summary>
    public async Task<Page<T>> PageAsync<T>(string path, IEnumerable<KeyValuePair<string, string?>> query, int offset, int? limit, CancellationToken ct)
    {
        var items = new List<T>();
        var total = 0;
        var at = offset;
        while (true)
        {
            var want = Math.Min(MaxPage, limit is { } l ? l - items.Count : MaxPage);
            if (want <= 0) break;
            var q = query.Where(kv => !string.IsNullOrEmpty(kv.Value)).Append(new("offset", at.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .Append(new("limit", want.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var page = await GetAsync<Page<T>>(path + "?" + string.Join('&', q.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value!)}")), ct);
            total = page.Total;
            items.AddRange(page.Items);
            at += page.Items.Count;
            if (page.Items.Count == 0 || at >= total) break;
        }
        return new Page<T>(items, total, offset, limit ?? items.Count);
    }

    public Task<IReadOnlyList<TopologyVersionDto>> VersionsAsync(string fabric, long? from, int? limit, CancellationToken ct)
    {
        var q = new List<string>();
        if (from is { } f) q.Add($"from={f}");
        if (limit is { } l) q.Add($"limit={l}");
        return GetAsync<IReadOnlyList<TopologyVersionDto>>($"api/v1/fabrics/{Uri.EscapeDataString(fabric)}/versions{(q.Count > 0 ? "?" + string.Join('&', q) : "")}", ct);
    }

    public Task<LinkStateResult> SetLinkStateAsync(string fabric, int link, StateChangeRequest body, CancellationToken ct) =>
        PostAsync<LinkStateResult>($"api/v1/fabrics/{Uri.EscapeDataString(fabric)}/links/{link}/state", body, ct);

    public Task<SwitchStateResult> SetSwitchStateAsync(string fabric, string name, StateChangeRequest body, CancellationToken ct) =>
        PostAsync<SwitchStateResult>($"api/v1/fabrics/{Uri.EscapeDataString(fabric)}/switches/{Uri.EscapeDataString(name)}/state", body, ct);

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var resp = await http.GetAsync(path, ct);
        return await ReadAsync<T>(resp, ct);
    }

    private async Task<T> PostAsync<T>(string path, object body, CancellationToken ct)
    {
        // A buffered body (with Content-Length) rather than a chunked stream: proxies and small servers handle it everywhere.
        using var content = new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json");
        using var resp = await http.PostAsync(path, content, ct);
        return await ReadAsync<T>(resp, ct);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage resp, CancellationToken ct)
    {
        var text = await resp.Content.ReadAsStringAsync(ct);
        if (!resp.IsSuccessStatusCode) throw ServerProblemException.From(resp.StatusCode, text);
        try
        {
            return JsonSerializer.Deserialize<T>(text, Json) ?? throw new JsonException("empty body");
        }
        catch (JsonException ex)
        {
            throw new ServerProblemException(resp.StatusCode, "the server's answer is not what this fabricctl expects", ex.Message, new Dictionary<string, string[]>(), null);
        }
    }

    public void Dispose() => http.Dispose();
}
