using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Hosting;

/// <summary>An error with an HTTP status that becomes an RFC 7807 problem (404, 409, 413, ...).</summary>
public class ProblemException(int status, string title, string? detail = null) : Exception(detail ?? title)
{
    /// <summary>HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>Short, human-readable summary.</summary>
    public string Title { get; } = title;

    /// <summary>Explanation specific to this occurrence.</summary>
    public string? Detail { get; } = detail;
}

/// <summary>Bad input: a 400 ValidationProblemDetails listing each field and why.</summary>
public sealed class RequestValidationException : ProblemException
{
    /// <summary>Creates the exception from field errors.</summary>
    public RequestValidationException(IReadOnlyDictionary<string, string[]> errors, string? detail = null, int status = StatusCodes.Status400BadRequest)
        : base(status, "One or more validation errors occurred.", detail ?? string.Join("; ", errors.SelectMany(kv => kv.Value.Select(v => $"{kv.Key}: {v}"))))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception from one field error.</summary>
    public RequestValidationException(string field, string reason, int status = StatusCodes.Status400BadRequest)
        : this(new Dictionary<string, string[]> { [field] = [reason] }, null, status)
    {
    }

    /// <summary>Field name to reasons.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>Groups (field, reason) pairs.</summary>
    public static RequestValidationException From(IEnumerable<(string Field, string Reason)> errors) =>
        new(errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray()));
}

/// <summary>Turns every exception into problem+json: ours with their status, bad requests with 400/413, the store down with 503, the rest 500.</summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    /// <inheritdoc/>
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails details;
        switch (exception)
        {
            case RequestValidationException v:
                details = new ValidationProblemDetails(v.Errors.ToDictionary(kv => kv.Key, kv => kv.Value)) { Status = v.Status, Title = v.Title, Detail = v.Detail };
                break;
            case ProblemException p:
                details = new ProblemDetails { Status = p.Status, Title = p.Title, Detail = p.Detail };
                break;
            case BadHttpRequestException { InnerException: JsonException je }:
                details = JsonProblem(je);
                break;
            case BadHttpRequestException b:
                details = new ProblemDetails { Status = b.StatusCode, Title = b.StatusCode == 413 ? "Request body too large" : "Bad request", Detail = b.Message };
                break;
            case JsonException je:
                details = JsonProblem(je);
                break;
            case var _ when IsStoreDown(exception):
                logger.LogError(exception, "store unavailable");
                details = new ProblemDetails { Status = 503, Title = "Store unavailable", Detail = exception.Message };
                break;
            default:
                logger.LogError(exception, "unhandled error");
                details = new ProblemDetails { Status = 500, Title = "Internal error", Detail = "an unexpected error occurred; see the service log" };
                break;
        }
        httpContext.Response.StatusCode = details.Status ?? 500;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception });
    }

    /// <summary>True when the error (or one it wraps, as EF Core's execution strategy does) says the database cannot be reached.</summary>
    private static bool IsStoreDown(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            // A server-side error (bad SQL, constraint) is a bug, not an outage: only connection, shutdown and resource states count.
            if (x is Npgsql.PostgresException pe) return pe.SqlState.StartsWith("08", StringComparison.Ordinal) || pe.SqlState.StartsWith("57P", StringComparison.Ordinal) || pe.SqlState.StartsWith("53", StringComparison.Ordinal);
            if (x is DbException or TimeoutException or System.Net.Sockets.SocketException) return true;
        }
        return false;
    }

    /// <summary>A 400 naming the JSON path of a malformed, mistyped or unknown field.</summary>
    public static ValidationProblemDetails JsonProblem(JsonException je)
    {
        var field = JsonField(je.Path);
        return new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [JsonReason(je)] })
        {
            Status = 400,
            Title = "Malformed JSON body",
            Detail = $"{field}: {JsonReason(je)}",
        };
    }

    /// <summary>"$.generator.radix" becomes "generator.radix"; the root becomes "body".</summary>
    public static string JsonField(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "body";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static string Expected(string typeText)
    {
        var t = typeText.Split([' ', '|'], 2)[0].TrimEnd('.');
        var inner = System.Text.RegularExpressions.Regex.Match(t, @"Nullable`1\[(.+)\]$");
        if (inner.Success) t = inner.Groups[1].Value;
        return t switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "an integer",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            _ when Type.GetType(t) is null && t.Contains('.') => EnumNames(t),
            _ => t,
        };
    }

    private static string EnumNames(string typeName)
    {
        var type = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(x => x is not null);
        return type is { IsEnum: true }
            ? "one of " + string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName))
            : $"a {typeName.Split('.').Last()}";
    }

    private static string JsonReason(JsonException je)
    {
        var m = je.Message;
        if (m.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            m = "unknown field: it is not part of this request";
        else if (m.IndexOf("could not be converted to ", StringComparison.Ordinal) is var at and >= 0)
            m = $"wrong type: expected {Expected(m[(at + "could not be converted to ".Length)..])}";
        // The serializer appends "Path: ... | LineNumber ..." which the field already says.
        var cut = m.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut > 0) m = m[..cut];
        if (je.LineNumber is { } line) m += $" (line {line + 1}, byte {je.BytePositionInLine + 1})";
        return m;
    }
}

/// <summary>Reads request bodies with a size limit and the API's JSON rules.</summary>
public static class RequestBody
{
    /// <summary>Reads the whole body as bytes, failing with 413 past <paramref name="maxBytes"/> (checked while reading, so chunked bodies count too).</summary>
    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        if (request.ContentLength is { } declared && declared > maxBytes) throw TooLarge(declared, maxBytes);
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (ms.Length + n > maxBytes) throw TooLarge(ms.Length + n, maxBytes);
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    /// <summary>Reads and deserializes a JSON body; an empty, malformed, mistyped or unknown field gives a 400 naming it.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        var bytes = await ReadBytesAsync(request, maxBytes, ct);
        if (bytes.Length == 0) throw new RequestValidationException("body", "a JSON body is required");
        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, options) ?? throw new RequestValidationException("body", "must be a JSON object, got null");
        }
        catch (JsonException je)
        {
            var p = ProblemExceptionHandler.JsonProblem(je);
            throw new RequestValidationException(p.Errors.ToDictionary(kv => kv.Key, kv => kv.Value), p.Detail);
        }
    }

    private static RequestValidationException TooLarge(long size, long max) =>
        new("body", $"the body is larger than the limit of {max:N0} bytes (got at least {size:N0})", StatusCodes.Status413PayloadTooLarge);
}
