using ControlPlane.Contracts;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>The embedded default store: state written in batches to SQLite and read back by a restarted host.</summary>
public sealed class SqliteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dist-sqlite-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task On_SQLite_versions_survive_a_restart()
    {
        Directory.CreateDirectory(_dir);
        var inventory = $"Data Source={Path.Combine(_dir, "inventory.db")}";
        await using (var db = new InventoryDbContext(new DbContextOptionsBuilder<InventoryDbContext>().UseSqlite(inventory).Options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            await repo.EnsureSchemaAsync();
            await repo.CreateAsync(DistributionApp.SmallFt2("lite"), TopologyChangeKind.Created, "test", null);
        }
        var settings = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Sqlite",
            ["ConnectionStrings:inventory"] = inventory,
            ["ConnectionStrings:distribution"] = $"Data Source={Path.Combine(_dir, "distribution.db")}",
            ["Agents:CredentialKey"] = DistributionApp.Key,
            ["Distribution:PersistInterval"] = "00:00:00.050",
        };
        Dictionary<string, ulong> versions;
        TestAgents agents;
        await using (var app = new DistributionApp(settings))
        {
            _ = app.Server;
            var (_, a, converged) = await ClosedLoopTests.ConvergedFabricAsync(app, "lite");
            agents = a;
            versions = DistributionApp.SmallFt2("lite").Switches.ToDictionary(s => s.Name, s => agents.Current(s.Name).Version);
            await converged.DisposeAsync();
            await agents.DisposeAsync();
        }
        Task<DistributionApp> starting;
        using (ExecutionContext.SuppressFlow()) starting = Task.Run(() =>
        {
            var again = new DistributionApp(settings);
            _ = again.Server;
            return again;
        });
        await using var restarted = await starting;
        foreach (var (sw, v) in versions)
        {
            var view = (await restarted.Status.SwitchAsync("lite", sw)).Switch!;
            Assert.Equal(v, view.DesiredVersion);
            Assert.Equal(v, view.AckedVersion);
            Assert.True(view.InSync);
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
