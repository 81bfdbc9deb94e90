using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Validation;
using ControlPlane.Fabric.Yaml;
using ControlPlane.Hosting;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ControlPlane.Inventory.Api;

/// <summary>POST /api/v1/fabrics/{name}/import and GET /api/v1/fabrics/{name}/export: spec JSON, spec YAML, ibnetdiscover.</summary>
public static class ImportExportEndpoints
{
    private static readonly string[] ImportFormats = ["json", "yaml", "ibnetdiscover"];

    // A fabric with cables missing is still a fabric an operator may want to load; everything else is an error.
    private static readonly HashSet<ProblemKind> Tolerated = [ProblemKind.UnconnectedEndpoint, ProblemKind.UnconnectedSwitch];

    public static IEndpointRouteBuilder MapImportExportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/fabrics/{name}/import", ImportAsync);
        app.MapGet("/api/v1/fabrics/{name}/export", ExportAsync);
        return app;
    }

    private static async Task<IResult> ImportAsync(string name, HttpRequest request, FabricRepository repo, TopologyEventPublisher events, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        var format = Format(request, ImportFormats);
        var nameErrors = new GeneratorParameters { Name = name }.Validate().Where(e => e.Field == "name").ToList();
        if (nameErrors.Count > 0) throw RequestValidationException.From(nameErrors.Select(e => (e.Field, e.Reason)));
        var bytes = await RequestBody.ReadBytesAsync(request, o.MaxRequestBodyBytes, ct);
        if (bytes.Length == 0) throw new RequestValidationException("body", $"the {format} text to import is required");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new RequestValidationException("body", $"is not valid UTF-8 text: {e.Message}");
        }

        FabricSnapshot parsed;
        try
        {
            parsed = format switch
            {
                "json" => FabricSpecJson.ParseSnapshot(text),
                "yaml" => FabricSpecYaml.ParseSnapshot(text),
                _ => FabricSnapshot.Initial(IbNetDiscover.Parse(text, name)),
            };
        }
        catch (FabricInputException e)
        {
            throw RequestValidationException.From(e.Errors.Select(x => (x.Field, x.Reason)));
        }

        var t = parsed.Topology;
        if (t.EndpointCount > o.MaxFabricEndpoints)
            throw new RequestValidationException("body", $"the fabric has {t.EndpointCount:N0} endpoints; this inventory accepts at most {o.MaxFabricEndpoints:N0} (Inventory:MaxFabricEndpoints)");
        var problems = TopologyValidator.Validate(t).Where(p => !Tolerated.Contains(p.Kind)).ToList();
        if (problems.Count > 0)
            throw RequestValidationException.From(problems.Take(100).Select(p => (p.Element, $"{p.Kind}: {p.Message}")));

        // The URL names the fabric; a spec written for another name is stored under this one.
        if (t.Name != name)
        {
            var renamed = new FabricTopology(name, t.Kind, t.Planes, t.Switches, t.Hosts, t.Links, t.Transceivers, t.Parameters is null ? null : t.Parameters with { Name = name });
            parsed = FabricSnapshot.Create(renamed, parsed.Version, parsed.LinkStates, parsed.SwitchStates);
            t = renamed;
        }
        var (row, ev) = await repo.CreateAsync(t, TopologyChangeKind.Imported, "api", $"imported from {format}", ct, parsed);
        await events.PublishAsync(ev);
        return Results.Created($"/api/v1/fabrics/{Uri.EscapeDataString(row.Name)}", InventoryEndpoints.Summary(row));
    }

    private static async Task<IResult> ExportAsync(string name, HttpRequest request, IFabricStore store, CancellationToken ct)
    {
        var format = Format(request, ImportFormats);
        var snap = await store.LoadSnapshotAsync(name, ct) ?? throw new ProblemException(404, "Fabric not found", $"no fabric named '{name}'");
        return format switch
        {
            "json" => Results.Text(FabricSpecJson.Write(snap.Topology, snap), "application/json", Encoding.UTF8),
            "yaml" => Results.Text(FabricSpecYaml.Write(snap.Topology, snap), "application/yaml", Encoding.UTF8),
            _ => Results.Text(IbNetDiscover.Write(snap.Topology), "text/plain", Encoding.UTF8),
        };
    }

    private static string Format(HttpRequest request, string[] allowed)
    {
        var raw = request.Query["format"].ToString();
        if (string.IsNullOrEmpty(raw)) throw new RequestValidationException("format", $"is required: one of {string.Join(", ", allowed)}");
        var f = raw.ToLowerInvariant();
        return allowed.Contains(f) ? f : throw new RequestValidationException("format", $"must be one of {string.Join(", ", allowed)}, got '{raw}'");
    }
}
