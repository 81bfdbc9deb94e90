using System.Net.Http.Json;
using System.Text.Json;

namespace ControlPlane.Cli.Api;

/// <summary>
/// A thin client of the closed loop's APIs (routing, distribution, emulated fabric), which the all-in-one host serves
/// together. Answers are kept as JSON documents: `-o json` passes them through unchanged (their schemas are the services'),
/// the table views read the fields they show. Errors become <see cref="ServerProblemException"/>.
/// </summary>
public sealed class LoopClient(HttpClient http) : IDisposable
{
    /// <summary>GET a JSON document.</summary>
    public async Task<JsonElement> GetAsync(string path, CancellationToken ct)
    {
        using var resp = await http.GetAsync(path, ct);
        return await ReadAsync(resp, ct);
    }

    /// <summary>POST a JSON body and read the JSON answer.</summary>
    public async Task<JsonElement> PostAsync(string path, object body, CancellationToken ct)
    {
        using var resp = await http.PostAsJsonAsync(path, body, ct);
        return await ReadAsync(resp, ct);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage resp, CancellationToken ct)
    {
        var text = await resp.Content.ReadAsStringAsync(ct);
        if (!resp.IsSuccessStatusCode) throw ServerProblemException.From(resp.StatusCode, text);
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ServerProblemException(resp.StatusCode, "the server's answer is not JSON", ex.Message, new Dictionary<string, string[]>(), null);
        }
    }

    public void Dispose() => http.Dispose();
}
