using ControlPlane.Fabric;
using ControlPlane.Hosting;
using ControlPlane.Inventory.Api;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Inventory;

/// <summary>Composes the inventory into a host: <c>builder.AddInventory()</c> and <c>app.MapInventory()</c>.</summary>
public static class InventoryModule
{
    /// <summary>Registers options, the store (ConnectionStrings:inventory), the repository, the event publisher and the schema/seed initializer.</summary>
    public static IHostApplicationBuilder AddInventory(this IHostApplicationBuilder builder)
    {
        builder.AddControlPlaneOptions<InventoryOptions>(InventoryOptions.Section, o => o.Problems());
        // The store and its health check come from the shared reader, once per host whichever module asks first.
        builder.AddFabricReader(InventoryOptions.ConnectionName);
        builder.Services.AddScoped<FabricRepository>();
        builder.Services.AddScoped<IFabricStore>(sp => sp.GetRequiredService<FabricRepository>());
        builder.Services.AddScoped<TopologyEventPublisher>();
        builder.Services.AddHostedService<InventoryInitializer>();
        return builder;
    }

    /// <summary>Maps the REST API under /api/v1/fabrics.</summary>
    public static WebApplication MapInventory(this WebApplication app)
    {
        app.MapInventoryEndpoints();
        app.MapImportExportEndpoints();
        return app;
    }
}

/// <summary>
/// Creates the schema at startup and seeds a generated fabric when configured and the store is empty.
/// An unreachable store does not stop the host: it keeps retrying in the background while /readyz reports it.
/// </summary>
public sealed class InventoryInitializer(IServiceScopeFactory scopes, IOptions<InventoryOptions> options, ILogger<InventoryInitializer> logger) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _retry;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await InitializeAsync(cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            logger.LogError(e, "inventory store not reachable at startup; retrying in the background");
            _retry = RetryAsync(_stop.Token);
        }
    }

    private async Task RetryAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
                await InitializeAsync(ct);
                logger.LogInformation("inventory store initialized");
                return;
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                logger.LogWarning("inventory store still not reachable: {Message}", e.Message);
            }
        }
    }

    private async Task InitializeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var repo = scope.ServiceProvider.GetRequiredService<FabricRepository>();
        await repo.EnsureSchemaAsync(ct);
        var seed = options.Value.Seed;
        if (!seed.Enabled || (await repo.ListFabricsAsync(ct)).Count > 0) return;
        var p = new GeneratorParameters { Name = seed.Name, Kind = seed.Kind, Radix = seed.Radix, Planes = seed.Planes, PortSpeedGbps = seed.PortSpeedGbps };
        var errors = p.Validate();
        if (errors.Count > 0) throw new OptionsValidationException("Inventory:Seed", typeof(InventoryOptions.SeedOptions), errors.Select(e => $"Inventory:Seed: {e}"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (row, _) = await repo.CreateAsync(FabricGenerator.Generate(p), Contracts.TopologyChangeKind.Created, "seed", "startup seed", ct);
        logger.LogInformation("seeded fabric {Fabric} ({Kind}): {Switches} switches, {Endpoints} endpoints, {Links} links in {Ms} ms",
            row.Name, row.Kind, row.SwitchCount, row.EndpointCount, row.LinkCount, sw.ElapsedMilliseconds);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Not disposed: a test host may be stopped twice, and the token has no unmanaged state.
        await _stop.CancelAsync();
        if (_retry is not null) await _retry;
    }
}

