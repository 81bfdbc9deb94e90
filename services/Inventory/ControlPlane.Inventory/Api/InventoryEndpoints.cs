using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.Hosting;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Inventory.Api;

/// <summary>Publishes topology events after commit; a bus failure is logged, never undoes the committed change.</summary>
public sealed class TopologyEventPublisher(IPublishEndpoint publish, IOptions<InventoryOptions> options, ILogger<TopologyEventPublisher> logger)
{
    public async Task PublishAsync(TopologyChanged ev)
    {
        using var cts = new CancellationTokenSource(options.Value.PublishTimeout);
        try
        {
            await publish.Publish(ev, cts.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "could not publish TopologyChanged {Fabric} v{Version}; consumers will catch up on the next change", ev.FabricName, ev.Version);
        }
    }
}

/// <summary>The REST endpoints of the inventory (v1).</summary>
public static class InventoryEndpoints
{
    private const string DefaultBy = "api";

    public static IEndpointRouteBuilder MapInventoryEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/api/v1/fabrics");
        g.MapPost("", CreateAsync);
        g.MapGet("", ListAsync);
        g.MapGet("/{name}", GetAsync);
        g.MapDelete("/{name}", DeleteAsync);
        g.MapGet("/{name}/switches", SwitchesAsync);
        g.MapGet("/{name}/switches/{switchName}", SwitchAsync);
        g.MapPost("/{name}/switches/{switchName}/state", SwitchStateAsync);
        g.MapGet("/{name}/links", LinksAsync);
        g.MapGet("/{name}/links/{id}", LinkAsync);
        g.MapPost("/{name}/links/{id}/state", LinkStateAsync);
        g.MapGet("/{name}/endpoints", EndpointsAsync);
        g.MapGet("/{name}/transceivers", TransceiversAsync);
        g.MapGet("/{name}/versions", VersionsAsync);
        return app;
    }

    internal static FabricSummary Summary(FabricRow f) =>
        new(f.Name, f.Kind, f.Version, f.Planes, f.SwitchCount, f.HostCount, f.EndpointCount, f.LinkCount, f.SwitchLinkCount, f.TransceiverCount, f.CreatedAt, f.UpdatedAt);

    private static async Task<IResult> CreateAsync(HttpRequest request, FabricRepository repo, TopologyEventPublisher events, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        var body = await RequestBody.ReadJsonAsync<CreateFabricRequest>(request, o.MaxRequestBodyBytes, ct);
        var errors = new List<(string, string)>();
        if (body.Name is null) errors.Add(("name", "is required"));
        if (body.Generator is null) errors.Add(("generator", "is required (an object with kind, radix, ...); use /import for spec files"));
        if (errors.Count > 0) throw RequestValidationException.From(errors);
        var p = body.Generator!.ToParameters(body.Name!);
        var fieldErrors = p.Validate();
        if (fieldErrors.Count > 0) throw RequestValidationException.From(fieldErrors.Select(e => (e.Field, e.Reason)));
        var estimate = p.EndpointsEstimate();
        if (estimate > o.MaxFabricEndpoints)
            throw new RequestValidationException(p.Kind == TopologyKind.Mpft ? "planes" : "radix",
                $"the fabric would have {estimate:N0} endpoints; this inventory accepts at most {o.MaxFabricEndpoints:N0} (Inventory:MaxFabricEndpoints)");
        var topology = FabricGenerator.Generate(p);
        var (row, ev) = await repo.CreateAsync(topology, TopologyChangeKind.Created, DefaultBy, $"generated {p.Kind}", ct);
        await events.PublishAsync(ev);
        return Results.Created($"/api/v1/fabrics/{Uri.EscapeDataString(row.Name)}", Summary(row));
    }

    private static async Task<IResult> ListAsync(FabricRepository repo, CancellationToken ct)
    {
        var rows = await repo.Db.Fabrics.AsNoTracking().OrderBy(f => f.Name).ToListAsync(ct);
        return Results.Ok(rows.Select(Summary).ToList());
    }

    private static async Task<IResult> GetAsync(string name, FabricRepository repo, CancellationToken ct) =>
        Results.Ok(Summary(await FabricAsync(repo, name, ct)));

    private static async Task<IResult> DeleteAsync(string name, FabricRepository repo, TopologyEventPublisher events, CancellationToken ct)
    {
        var ev = await repo.DeleteAsync(name, ct);
        await events.PublishAsync(ev);
        return Results.NoContent();
    }

    private static async Task<IResult> SwitchesAsync(string name, HttpRequest request, FabricRepository repo, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var q = new Query(request, options.Value);
        var plane = q.Int("plane", 0, GeneratorParameters.MaxPlanes);
        var tier = q.Enum<SwitchTier>("tier");
        var status = q.Enum<ElementStatus>("status");
        var text = q.Text("q");
        var (offset, limit) = q.Paging();
        q.ThrowIfInvalid();
        await FabricAsync(repo, name, ct);
        var rows = repo.Db.Switches.AsNoTracking().Where(s => s.Fabric == name);
        if (plane is { } pl) rows = rows.Where(s => s.Plane == pl);
        if (tier is { } t) rows = rows.Where(s => s.Tier == t);
        if (status is { } st) rows = rows.Where(s => s.Status == st);
        if (!string.IsNullOrEmpty(text)) rows = rows.Where(s => s.Name.Contains(text));
        var total = await rows.CountAsync(ct);
        var items = await rows.OrderBy(s => s.Id).Skip(offset).Take(limit).ToListAsync(ct);
        return Results.Ok(new Page<SwitchDto>(items.Select(ToDto).ToList(), total, offset, limit));
    }

    private static async Task<IResult> SwitchAsync(string name, string switchName, FabricRepository repo, CancellationToken ct)
    {
        await FabricAsync(repo, name, ct);
        var sw = await repo.Db.Switches.AsNoTracking().FirstOrDefaultAsync(s => s.Fabric == name && s.Name == switchName, ct)
            ?? throw new ProblemException(404, "Switch not found", $"fabric '{name}' has no switch '{switchName}'");
        return Results.Ok(ToDto(sw));
    }

    private static async Task<IResult> LinksAsync(string name, HttpRequest request, FabricRepository repo, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var q = new Query(request, options.Value);
        var plane = q.Int("plane", 0, GeneratorParameters.MaxPlanes);
        var role = q.Enum<LinkRole>("role");
        var status = q.Enum<ElementStatus>("status");
        var switchName = q.Text("switch");
        var (offset, limit) = q.Paging();
        q.ThrowIfInvalid();
        await FabricAsync(repo, name, ct);
        var rows = repo.Db.Links.AsNoTracking().Where(l => l.Fabric == name);
        if (plane is { } pl) rows = rows.Where(l => l.Plane == pl);
        if (role is { } r) rows = rows.Where(l => l.Role == r);
        if (status is { } st) rows = rows.Where(l => l.Status == st);
        if (!string.IsNullOrEmpty(switchName))
        {
            var sw = await repo.Db.Switches.AsNoTracking().Where(s => s.Fabric == name && s.Name == switchName).Select(s => (int?)s.Id).FirstOrDefaultAsync(ct)
                ?? throw new RequestValidationException("switch", $"fabric '{name}' has no switch '{switchName}'");
            rows = rows.Where(l => (!l.AIsHost && l.ADevice == sw) || (!l.BIsHost && l.BDevice == sw));
        }
        var total = await rows.CountAsync(ct);
        var items = await rows.OrderBy(l => l.Id).Skip(offset).Take(limit).ToListAsync(ct);
        var names = await NamesAsync(repo, name, items, ct);
        return Results.Ok(new Page<LinkDto>(items.Select(l => ToDto(l, names)).ToList(), total, offset, limit));
    }

    private static async Task<IResult> LinkAsync(string name, string id, FabricRepository repo, CancellationToken ct)
    {
        var linkId = ParseLinkId(id);
        await FabricAsync(repo, name, ct);
        var link = await repo.Db.Links.AsNoTracking().FirstOrDefaultAsync(l => l.Fabric == name && l.Id == linkId, ct)
            ?? throw new ProblemException(404, "Link not found", $"fabric '{name}' has no link {linkId}");
        return Results.Ok(ToDto(link, await NamesAsync(repo, name, [link], ct)));
    }

    private static async Task<IResult> LinkStateAsync(string name, string id, HttpRequest request, FabricRepository repo, TopologyEventPublisher events, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var linkId = ParseLinkId(id);
        var change = await ReadStateChangeAsync(request, options.Value, ct);
        var (result, _) = await repo.ChangeLinkStateAsync(name, linkId, change, ct);
        await events.PublishAsync(result.Event);
        var link = await repo.Db.Links.AsNoTracking().FirstAsync(l => l.Fabric == name && l.Id == linkId, ct);
        return Results.Ok(new LinkStateResult(result.Version, ToDto(link, await NamesAsync(repo, name, [link], ct))));
    }

    private static async Task<IResult> SwitchStateAsync(string name, string switchName, HttpRequest request, FabricRepository repo, TopologyEventPublisher events, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var change = await ReadStateChangeAsync(request, options.Value, ct);
        var (result, sw) = await repo.ChangeSwitchStateAsync(name, switchName, change, ct);
        await events.PublishAsync(result.Event);
        var fresh = await repo.Db.Switches.AsNoTracking().FirstAsync(s => s.Fabric == name && s.Id == sw.Id, ct);
        return Results.Ok(new SwitchStateResult(result.Version, ToDto(fresh)));
    }

    private static async Task<IResult> EndpointsAsync(string name, HttpRequest request, FabricRepository repo, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var q = new Query(request, options.Value);
        var plane = q.Int("plane", 0, GeneratorParameters.MaxPlanes);
        var text = q.Text("q");
        var (offset, limit) = q.Paging();
        q.ThrowIfInvalid();
        await FabricAsync(repo, name, ct);
        var db = repo.Db;
        var hosts = db.Hosts.AsNoTracking().Where(h => h.Fabric == name);
        if (!string.IsNullOrEmpty(text)) hosts = hosts.Where(h => h.Name.Contains(text));
        if (plane is { } pl) hosts = hosts.Where(h => db.Nics.Any(n => n.Fabric == name && n.HostId == h.Id && n.Plane == pl));
        var total = await hosts.CountAsync(ct);
        var page = await hosts.OrderBy(h => h.Id).Skip(offset).Take(limit).ToListAsync(ct);
        var ids = page.Select(h => h.Id).ToList();
        var nics = await db.Nics.AsNoTracking().Where(n => n.Fabric == name && ids.Contains(n.HostId)).ToListAsync(ct);
        var hostLinks = await db.Links.AsNoTracking().Where(l => l.Fabric == name && l.AIsHost && ids.Contains(l.ADevice)).ToListAsync(ct);
        var names = await NamesAsync(repo, name, hostLinks, ct);
        var peer = hostLinks.ToDictionary(l => (l.ADevice, l.APort), l => Describe(l.BIsHost, l.BDevice, l.BPort, names));
        var items = page.Select(h => new HostDto(h.Id, h.Name, h.Gpus,
            nics.Where(n => n.HostId == h.Id).OrderBy(n => n.NicIndex)
                .Select(n => new NicDto(n.NicIndex, n.Plane, n.SpeedGbps, peer.GetValueOrDefault((h.Id, n.NicIndex))))
                .ToList())).ToList();
        return Results.Ok(new Page<HostDto>(items, total, offset, limit));
    }

    private static async Task<IResult> TransceiversAsync(string name, HttpRequest request, FabricRepository repo, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var q = new Query(request, options.Value);
        var kind = q.Enum<MediumKind>("kind");
        var link = q.Int("link", 0, int.MaxValue);
        var (offset, limit) = q.Paging();
        q.ThrowIfInvalid();
        await FabricAsync(repo, name, ct);
        var rows = repo.Db.Transceivers.AsNoTracking().Where(x => x.Fabric == name);
        if (kind is { } k) rows = rows.Where(x => x.Kind == k);
        if (link is { } l) rows = rows.Where(x => x.LinkId == l);
        var total = await rows.CountAsync(ct);
        var items = await rows.OrderBy(x => x.Id).Skip(offset).Take(limit)
            .Select(x => new TransceiverDto(x.Id, x.Serial, x.Kind, x.LinkId, x.Side, x.Vendor, x.PartNumber, x.Firmware, x.PowerW, x.PicojoulesPerBit))
            .ToListAsync(ct);
        return Results.Ok(new Page<TransceiverDto>(items, total, offset, limit));
    }

    private static async Task<IResult> VersionsAsync(string name, HttpRequest request, FabricRepository repo, IOptions<InventoryOptions> options, CancellationToken ct)
    {
        var q = new Query(request, options.Value);
        var from = q.Long("from", 0, long.MaxValue) ?? 0;
        var limit = q.Int("limit", 1, options.Value.MaxPageSize) ?? options.Value.DefaultPageSize;
        q.ThrowIfInvalid();
        await FabricAsync(repo, name, ct);
        var rows = await repo.Db.Versions.AsNoTracking().Where(v => v.Fabric == name && v.Version >= from).OrderBy(v => v.Version).Take(limit).ToListAsync(ct);
        return Results.Ok(rows.Select(v => new TopologyVersionDto(v.Version, v.At, v.By, v.Reason,
            (JsonSerializer.Deserialize<List<ElementChange>>(v.Changes, FabricRepository.StoreJson) ?? [])
                .Select(c => new VersionChangeDto(c.Element, c.Id, c.Name, c.From, c.To)).ToList())).ToList());
    }

    private static async Task<StateChange> ReadStateChangeAsync(HttpRequest request, InventoryOptions o, CancellationToken ct)
    {
        var body = await RequestBody.ReadJsonAsync<StateChangeRequest>(request, o.MaxRequestBodyBytes, ct);
        var errors = new List<(string, string)>();
        if (body.Status is null) errors.Add(("status", "is required: one of up, down, drained, maintenance"));
        if (body.Status is not null and not ElementStatus.Up && string.IsNullOrWhiteSpace(body.Reason))
            errors.Add(("reason", $"is required to set status '{FabricRepository.StatusName(body.Status.Value)}'"));
        if (body.Reason is { Length: > 500 }) errors.Add(("reason", $"must be at most 500 characters, got {body.Reason.Length}"));
        if (body.By is { } by && (string.IsNullOrWhiteSpace(by) || by.Length > 100)) errors.Add(("by", "must be 1 to 100 characters"));
        if (body.ExpectedVersion is < 1) errors.Add(("expectedVersion", $"must be at least 1, got {body.ExpectedVersion}"));
        if (errors.Count > 0) throw RequestValidationException.From(errors);
        return new StateChange(body.Status!.Value, string.IsNullOrWhiteSpace(body.Reason) ? null : body.Reason, body.By ?? DefaultBy, body.ExpectedVersion);
    }

    private static int ParseLinkId(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new RequestValidationException("id", $"a link id is a non-negative integer, got '{id}'");

    private static async Task<FabricRow> FabricAsync(FabricRepository repo, string name, CancellationToken ct) =>
        await repo.Db.Fabrics.AsNoTracking().FirstOrDefaultAsync(f => f.Name == name, ct)
            ?? throw new ProblemException(404, "Fabric not found", $"no fabric named '{name}'");

    private sealed record EndNames(Dictionary<int, string> Switches, Dictionary<int, string> Hosts);

    private static async Task<EndNames> NamesAsync(FabricRepository repo, string fabric, IReadOnlyCollection<LinkRow> links, CancellationToken ct)
    {
        var sw = links.SelectMany(l => new[] { (l.AIsHost, l.ADevice), (l.BIsHost, l.BDevice) }).Where(e => !e.Item1).Select(e => e.Item2).Distinct().ToList();
        var hs = links.SelectMany(l => new[] { (l.AIsHost, l.ADevice), (l.BIsHost, l.BDevice) }).Where(e => e.Item1).Select(e => e.Item2).Distinct().ToList();
        var swNames = sw.Count == 0 ? [] : await repo.Db.Switches.AsNoTracking().Where(s => s.Fabric == fabric && sw.Contains(s.Id)).ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        var hNames = hs.Count == 0 ? [] : await repo.Db.Hosts.AsNoTracking().Where(h => h.Fabric == fabric && hs.Contains(h.Id)).ToDictionaryAsync(h => h.Id, h => h.Name, ct);
        return new EndNames(swNames, hNames);
    }

    private static string Describe(bool isHost, int device, int port, EndNames names) =>
        isHost
            ? $"{names.Hosts.GetValueOrDefault(device, $"host#{device}")}/mlx5_{port}"
            : $"{names.Switches.GetValueOrDefault(device, $"switch#{device}")}/{port}";

    private static SwitchDto ToDto(SwitchRow s) =>
        new(s.Id, s.Name, s.Plane, s.Tier, s.Radix, s.PortSpeedGbps, s.Model, s.Group, s.Status, s.Reason, s.By, s.Since);

    private static LinkDto ToDto(LinkRow l, EndNames names) =>
        new(l.Id, Describe(l.AIsHost, l.ADevice, l.APort, names), Describe(l.BIsHost, l.BDevice, l.BPort, names),
            l.SpeedGbps, l.Role, l.Medium, l.LengthM, l.Plane, l.Status, l.Reason, l.By, l.Since);

    /// <summary>Query-string parsing that collects every bad parameter before failing.</summary>
    private sealed class Query(HttpRequest request, InventoryOptions options)
    {
        private readonly List<(string, string)> _errors = [];

        public int? Int(string key, int min, int max)
        {
            var v = Long(key, min, max);
            return v is null ? null : (int)v.Value;
        }

        public long? Long(string key, long min, long max)
        {
            var raw = Raw(key);
            if (raw is null) return null;
            if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)) { _errors.Add((key, $"must be an integer, got '{raw}'")); return null; }
            if (v < min || v > max) { _errors.Add((key, $"must be between {min} and {max}, got {v}")); return null; }
            return v;
        }

        public T? Enum<T>(string key) where T : struct, System.Enum
        {
            var raw = Raw(key);
            if (raw is null) return null;
            foreach (var value in System.Enum.GetValues<T>())
                if (string.Equals(JsonNamingPolicy.CamelCase.ConvertName(value.ToString()), raw, StringComparison.OrdinalIgnoreCase)) return value;
            _errors.Add((key, $"must be one of {string.Join(", ", System.Enum.GetValues<T>().Select(v => JsonNamingPolicy.CamelCase.ConvertName(v.ToString())))}, got '{raw}'"));
            return null;
        }

        public string? Text(string key)
        {
            var raw = Raw(key);
            if (raw is { Length: > 200 }) { _errors.Add((key, "must be at most 200 characters")); return null; }
            return raw;
        }

        public (int Offset, int Limit) Paging() =>
            (Int("offset", 0, int.MaxValue) ?? 0, Int("limit", 1, options.MaxPageSize) ?? options.DefaultPageSize);

        public void ThrowIfInvalid()
        {
            if (_errors.Count > 0) throw RequestValidationException.From(_errors);
        }

        private string? Raw(string key)
        {
            if (!request.Query.TryGetValue(key, out var values) || values.Count == 0) return null;
            if (values.Count > 1) { _errors.Add((key, "must be given once")); return null; }
            return values[0];
        }
    }
}
