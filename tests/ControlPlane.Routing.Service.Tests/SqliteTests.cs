using ControlPlane.Fabric;

namespace ControlPlane.Routing.Service.Tests;

/// <summary>The embedded default: the inventory's SQLite store, not there yet when the service starts.</summary>
public sealed class SqliteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("routing-sqlite-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task The_service_waits_for_the_inventory_store_and_routes_the_MPFT_it_finds()
    {
        // Started before the inventory created its tables: the first scans fail, the retry (on the fake clock) finds the fabric.
        await using var app = RoutingApp.StartOnSqlite(_dir, ("Routing:StoreRetryMs", "100"));
        var t = FabricGenerator.Generate(new GeneratorParameters { Name = "lite", Kind = TopologyKind.Mpft, Radix = 8, PortSpeedGbps = 400, GpusPerNode = 8, NicsPerNode = 8 });
        await RoutingApp.CreateSqliteFabricAsync(_dir, t);
        await RoutingApp.EventuallyAsync(() =>
        {
            app.Clock.Advance(TimeSpan.FromMilliseconds(1600));
            return Task.FromResult(app.Published.All.Any(m => m.Fabric == "lite"));
        }, "the fabric to be found");
        var tables = await app.InitialTablesAsync(t);
        Assert.Equal(t.Planes.Count, app.Published.All.Count(m => m.Complete && m.Fabric == "lite"));
        Assert.Equal(t.Planes.Count, app.Published.All.Where(m => m.Complete).Select(m => m.Plane).Distinct().Count());
        RoutingApp.AssertLoopAndHoleFree(t, tables);
    }
}
