using System.Net;
using System.Text.Json;

namespace ControlPlane.Cli.Api;

/// <summary>The server answered with an error; carries the RFC 7807 problem details when there are any.</summary>
public sealed class ServerProblemException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors, string? rawBody)
    : Exception($"{(int)status} {status}: {title ?? detail ?? rawBody}")
{
    public HttpStatusCode Status { get; } = status;
    public string? Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    /// <summary>Reads a problem+json body (or any body) into the exception.</summary>
    public static ServerProblemException From(HttpStatusCode status, string body)
    {
        string? title = null, detail = null;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var r = doc.RootElement;
            if (r.ValueKind == JsonValueKind.Object)
            {
                if (r.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String) title = t.GetString();
                if (r.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String) detail = d.GetString();
                if (r.TryGetProperty("errors", out var es) && es.ValueKind == JsonValueKind.Object)
                {
                    foreach (var f in es.EnumerateObject())
                    {
                        errors[f.Name] = f.Value.ValueKind == JsonValueKind.Array
                            ? f.Value.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() ?? "" : x.ToString()).ToArray()
                            : [f.Value.ToString()];
                    }
                }
                return new ServerProblemException(status, title, detail, errors, null);
            }
        }
        catch (JsonException)
        {
            // Not JSON: show the start of the body as it is.
        }
        return new ServerProblemException(status, null, null, errors, body.Length > 500 ? body[..500] + "..." : body);
    }

    /// <summary>Writes "error: 409 Conflict: title", the detail and one line per field error.</summary>
    public void WriteTo(TextWriter err)
    {
        err.WriteLine($"error: {(int)Status} {Phrase(Status)}: {Title ?? "request failed"}");
        if (!string.IsNullOrWhiteSpace(Detail) && Detail != Title) err.WriteLine($"  {Detail}");
        foreach (var (field, reasons) in Errors)
            foreach (var r in reasons) err.WriteLine($"  {field}: {r}");
        if (Title is null && !string.IsNullOrWhiteSpace(RawBodyText)) err.WriteLine($"  {RawBodyText}");
    }

    // "BadRequest" -> "Bad Request".
    private static string Phrase(HttpStatusCode s) =>
        string.Concat(s.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? " " + ch : ch.ToString()));

    private string? RawBodyText { get; } = rawBody;
}
