using Microsoft.Data.Sqlite;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>The embedded default: a plain SQLite table, queried the same way, retention deleting by time.</summary>
public sealed class SqliteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("telemetry-sqlite-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<long> CountAsync()
    {
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, "telemetry.db")}");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM port_series";
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Rows_are_stored_queried_and_deleted_after_the_retention()
    {
        await using var app = await TelemetryApp.StartOnSqliteAsync(_dir, "sq", ("Telemetry:Retention", "01:00:00"), ("Telemetry:RetentionCheckInterval", "00:20:00"));
        var client = app.CreateClient();
        var t = TelemetryApp.SmallFt2("sq");
        var leaf = t.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;
        ulong bytes = 0;
        for (var i = 0; i < 12; i++)
        {
            bytes += 15_000_000_000; // 30% of 400 Gb/s
            var (s, body) = await app.PostBatchAsync(client, TelemetryApp.Batch(t, leaf, (ulong)i + 1, app.Clock.GetUtcNow(), bytes));
            Assert.True(s == 202, body?.ToJsonString());
            await app.AdvanceAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        }
        await TelemetryApp.EventuallyAsync(async () => await CountAsync() >= 8, "rows in SQLite");

        var (ps, port) = await TelemetryApp.GetAsync(client, $"/api/v1/telemetry/ports/{leaf}/3?since=1h");
        Assert.True(ps == 200, port?.ToJsonString());
        var point = port!["series"]!.AsArray().Single()!["points"]!.AsArray().First()!;
        Assert.Equal(TelemetryApp.Start, DateTimeOffset.Parse((string)point["time"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange((double)point["metrics"]!["txUtil"]!["mean"]!, 0.25, 0.35);

        await app.AdvanceAsync(TimeSpan.FromHours(2), TimeSpan.FromMinutes(10));
        await TelemetryApp.EventuallyAsync(async () => await CountAsync() == 0, "retention to delete the rows");
        var (_, stats) = await TelemetryApp.GetAsync(client, "/api/v1/telemetry/stats");
        Assert.True((long)stats!["store"]!["retentionDrops"]! >= 1, stats.ToJsonString());
    }
}
