using ControlPlane.Contracts;
using ControlPlane.FabricStore;
using ControlPlane.Hosting;
using ControlPlane.Inventory;
using ControlPlane.Inventory.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>
/// An all-in-one host composing the inventory and telemetry ingest in one process, in either order: the fabric store and
/// its health check are registered once, the host gets ready, and both modules read the same fabric.
/// </summary>
public sealed class ComposedHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("telemetry-composed-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Inventory_and_telemetry_compose_in_either_order_with_one_store_health_check(bool inventoryFirst)
    {
        var inventory = $"Data Source={Path.Combine(_dir, "inventory.db")}";
        await using (var db = new InventoryDbContext(new DbContextOptionsBuilder<InventoryDbContext>().UseSqlite(inventory).Options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            await repo.EnsureSchemaAsync();
            await repo.CreateAsync(TelemetryApp.SmallFt2("both"), TopologyChangeKind.Created, "test", null);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Bus:Transport"] = "InMemory",
            ["Store:Provider"] = "Sqlite",
            ["ConnectionStrings:inventory"] = inventory,
            ["ConnectionStrings:telemetry"] = $"Data Source={Path.Combine(_dir, "telemetry.db")}",
        });
        builder.AddServiceDefaults();
        if (inventoryFirst)
        {
            builder.AddInventory();
            builder.AddTelemetryIngest();
        }
        else
        {
            builder.AddTelemetryIngest();
            builder.AddInventory();
        }
        builder.AddControlPlaneBus();
        await using var app = builder.Build();
        app.MapServiceDefaults();
        app.MapInventory();
        app.MapTelemetryIngest();
        await app.StartAsync();

        var checks = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name).ToList();
        Assert.Single(checks, n => n == "store-inventory");
        Assert.Single(checks, n => n == "store-telemetry");
        Assert.Single(app.Services.GetServices<IFabricReader>());

        var client = app.GetTestClient();
        await TelemetryApp.EventuallyAsync(async () => (await client.GetAsync("/readyz")).IsSuccessStatusCode, "the composed host to be ready");
        var (listStatus, list) = await TelemetryApp.GetAsync(client, "/api/v1/fabrics");
        Assert.True(listStatus == 200, list?.ToJsonString());
        Assert.Contains("\"both\"", list!.ToJsonString(), StringComparison.Ordinal);
        var shards = app.Services.GetRequiredService<ShardRegistry>();
        await TelemetryApp.EventuallyAsync(() => Task.FromResult(shards.Find("both") is not null), "telemetry to load the fabric through the shared reader");
        Assert.Equal(TelemetryApp.SmallFt2("both").Links.Count, shards.Find("both")!.Topology.Links.Count);
        await app.StopAsync();
    }
}
