using ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ControlPlane.Distribution.Service;

/// <summary>HTTP API of route distribution (read-only status).</summary>
public static class DistributionEndpoints
{
    /// <summary>Maps the endpoints under /api/v1/distribution.</summary>
    public static IEndpointRouteBuilder MapDistributionEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/distribution");
        g.MapGet("/fabrics/{fabric}/status", FabricStatusAsync);
        g.MapGet("/fabrics/{fabric}/switches/{switch}", SwitchAsync);
        g.MapGet("/fabrics/{fabric}/lagging", LaggingAsync);
        g.MapGet("/status", (DistributionStatus status) => Results.Ok(new { fabrics = status.Summaries, intake = status.Intake }));
        return app;
    }

    private static async Task<IResult> FabricStatusAsync(string fabric, DistributionStatus status, CancellationToken ct)
    {
        CheckName("fabric", fabric);
        return Results.Ok(await status.FabricAsync(fabric, ct) ?? throw NoFabric(fabric));
    }

    private static async Task<IResult> SwitchAsync(string fabric, string @switch, DistributionStatus status, CancellationToken ct)
    {
        CheckName("fabric", fabric);
        CheckName("switch", @switch);
        var (found, view) = await status.SwitchAsync(fabric, @switch, ct);
        if (!found) throw NoFabric(fabric);
        return Results.Ok(view ?? throw new RequestValidationException("switch", $"fabric '{fabric}' has no switch '{@switch}'", StatusCodes.Status404NotFound));
    }

    private static async Task<IResult> LaggingAsync(string fabric, DistributionStatus status, TimeProvider time, CancellationToken ct)
    {
        CheckName("fabric", fabric);
        return Results.Ok(await status.LaggingAsync(fabric, time, ct) ?? throw NoFabric(fabric));
    }

    private static RequestValidationException NoFabric(string fabric) =>
        new("fabric", $"fabric '{fabric}' is not served by route distribution (not in the inventory, or not in Distribution:Fabrics)", StatusCodes.Status404NotFound);

    // Names of fabrics and switches are short printable text; anything else is a client error, not a lookup.
    private static void CheckName(string field, string value)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new RequestValidationException(field, "must not be empty");
        if (value.Length > 128) throw new RequestValidationException(field, $"must be at most 128 characters, got {value.Length}");
        if (value.Any(char.IsControl)) throw new RequestValidationException(field, "must not contain control characters");
    }
}
