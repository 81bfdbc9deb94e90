using ControlPlane.Distribution;
using ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ControlPlane.Routing.Service;

/// <summary>HTTP API of the routing service (read-only).</summary>
public static class RoutingEndpoints
{
    private const int MaxNameLength = 200;

    /// <summary>Maps the endpoints under /api/v1/routing.</summary>
    public static IEndpointRouteBuilder MapRoutingEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/routing");
        g.MapGet("/fabrics", (HttpRequest r, RoutingStatus status) => { NoQuery(r); return Results.Ok(new { fabrics = status.All(), unroutedPortEvents = Unrouted(status) }); });
        g.MapGet("/fabrics/{fabric}/status", (string fabric, HttpRequest r, RoutingStatus status) =>
        {
            NoQuery(r);
            Name("fabric", fabric);
            return Results.Ok(status.Get(fabric) ?? throw NotRouted(fabric, status));
        });
        g.MapGet("/fabrics/{fabric}/health", (string fabric, HttpRequest r, RoutingRegistry registry, RoutingStatus status) =>
        {
            NoQuery(r);
            var view = View(fabric, registry, status);
            var result = view.Current;
            return Results.Ok(new
            {
                fabric,
                routingVersion = result.Version,
                topologyVersion = result.Snapshot.Version,
                planes = result.PlaneHealth.Select(h => new PlaneHealthView(h.Plane, h.Name, h.SwitchLinkCapacityFraction, h.LiveSwitchFraction, h.UnreachablePairs, h.MinNodeCapacityFraction)),
            });
        });
        g.MapGet("/fabrics/{fabric}/tables/{switch}", (string fabric, string @switch, HttpRequest r, RoutingRegistry registry, RoutingStatus status) =>
        {
            NoQuery(r);
            Name("switch", @switch);
            var view = View(fabric, registry, status);
            var id = view.Topology.FindSwitch(@switch);
            if (id < 0) throw new RequestValidationException("switch", $"fabric '{fabric}' has no switch '{@switch}'", StatusCodes.Status404NotFound);
            var table = view.Tables[id] ?? throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Not computed yet", $"switch '{@switch}' has no table yet");
            var sw = view.Topology.Switches[id];
            var neighbor = MakeBeforeBreak.Neighbors(view.Topology);
            return Results.Ok(new
            {
                fabric,
                @switch = sw.Name,
                plane = sw.Plane,
                tier = sw.Tier.ToString().ToLowerInvariant(),
                routingVersion = view.Current.Version,
                digest = Convert.ToHexStringLower(table.Digest),
                groupSize = table.GroupSize,
                groups = table.Groups.Values.Select(gr => new
                {
                    id = gr.Id,
                    members = gr.Members.Select(m => new { port = m.Port, weight = m.Weight, neighbor = neighbor(sw.Name, m.Port) }),
                }),
                routes = table.Routes.Select(kv => new
                {
                    destination = kv.Key.Destination,
                    trafficClass = kv.Key.TrafficClass,
                    groupId = kv.Value.GroupId,
                    mode = kv.Value.Mode == SpreadMode.Spray ? "spray" : "hash",
                }),
            });
        });
        return app;
    }

    private static Dictionary<string, long> Unrouted(RoutingStatus status) =>
        status.Unrouted.ToDictionary(kv => FabricStatusEntry.Name(kv.Key), kv => kv.Value, StringComparer.Ordinal);

    private static RouterView View(string fabric, RoutingRegistry registry, RoutingStatus status)
    {
        Name("fabric", fabric);
        var router = registry.Find(fabric) ?? throw NotRouted(fabric, status);
        return router.View ?? throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Not computed yet",
            $"fabric '{fabric}' is loading ({status.Get(fabric)?.State ?? "loading"}); its tables are not computed yet");
    }

    private static RequestValidationException NotRouted(string fabric, RoutingStatus status)
    {
        var routed = status.Fabrics;
        return new RequestValidationException("fabric", $"fabric '{fabric}' is not routed here (routed: {(routed.Count == 0 ? "none" : string.Join(", ", routed))})", StatusCodes.Status404NotFound);
    }

    private static void Name(string field, string value)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new RequestValidationException(field, "must not be empty");
        if (value.Length > MaxNameLength) throw new RequestValidationException(field, $"must be at most {MaxNameLength} characters, got {value.Length}");
        if (value.Any(char.IsControl)) throw new RequestValidationException(field, "must not contain control characters");
    }

    private static void NoQuery(HttpRequest r)
    {
        if (r.Query.Count > 0)
            throw RequestValidationException.From(r.Query.Keys.Select(k => (k, "unknown query parameter (these endpoints take none)")));
    }
}
