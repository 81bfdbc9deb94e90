using ControlPlane.Fabric;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Inventory.Tests;

/// <summary>Two SREs change the same link at once on PostgreSQL: exactly one wins, the other gets 409, nothing is half-written.</summary>
[Collection(ServersCollection.Name)]
public sealed class ConcurrencyTests(PostgresFixture pg) : IAsyncLifetime
{
    private InventoryApp _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _app = await InventoryApp.OnPostgresAsync(pg.Server);
        _client = _app.CreateClient();
        await _app.CreateAsync(_client, InventoryApp.SmallFt2("c"));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Two_changes_that_both_read_the_same_version_race_and_exactly_one_commits()
    {
        // Hold the fabric row so both requests read version 1 and then queue on the optimistic UPDATE;
        // releasing it lets one through and the other finds the version gone: the race path, not the early check.
        await using var blocker = new NpgsqlConnection(_app.ConnectionString);
        await blocker.OpenAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand("SELECT version FROM fabrics WHERE name = 'c' FOR UPDATE", blocker, tx))
            Assert.Equal(1L, (long)(await lockCmd.ExecuteScalarAsync())!);

        var alice = InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/c/links/7/state", """{"status":"drained","reason":"alice: CRC errors","by":"alice"}""");
        var bob = InventoryApp.SendAsync(_client, HttpMethod.Post, "/api/v1/fabrics/c/links/7/state", """{"status":"maintenance","reason":"bob: reseat optic","by":"bob"}""");
        await WaitForLockWaitersAsync(2);
        await tx.CommitAsync();

        var results = await Task.WhenAll(alice, bob);
        Assert.Equal([200, 409], results.Select(r => r.Status).Order().ToArray());
        var loser = results.Single(r => r.Status == 409);
        Assert.Equal("application/problem+json", loser.ContentType);
        Assert.Contains("concurrent change", (string?)loser.Body!["detail"]);

        var winner = results.Single(r => r.Status == 200).Body!;
        var counts = await _app.CountRowsAsync();
        Assert.Equal(2, counts["versions"]);
        var snap = await _app.LoadAsync("c");
        Assert.Equal(2, snap!.Version);
        var state = snap.LinkState(7);
        Assert.Equal((string?)winner["link"]!["status"], state.Status == ElementStatus.Drained ? "drained" : "maintenance");
        Assert.Equal((string?)winner["link"]!["by"], state.By);
        // The history row belongs to the winner, not a mix of both.
        var history = await InventoryApp.GetAsync<System.Text.Json.Nodes.JsonArray>(_client, "/api/v1/fabrics/c/versions?from=2");
        Assert.Equal(state.By, (string?)history.Single()!["by"]);
        Assert.Equal(state.Reason, (string?)history.Single()!["reason"]);
    }

    [Fact]
    public async Task Many_concurrent_changes_with_the_same_expected_version_commit_exactly_once()
    {
        var bodies = Enumerable.Range(0, 8).Select(i =>
            $$"""{"status":"{{(i % 2 == 0 ? "drained" : "down")}}","reason":"sre {{i}}","by":"sre-{{i}}","expectedVersion":1}""").ToArray();
        var tasks = bodies.Select((b, i) => InventoryApp.SendAsync(_client, HttpMethod.Post, $"/api/v1/fabrics/c/links/{i % 2}/state", b)).ToArray();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, results.Count(r => r.Status == 200));
        Assert.Equal(7, results.Count(r => r.Status == 409));
        var snap = await _app.LoadAsync("c");
        Assert.Equal(2, snap!.Version);
        Assert.Equal(1, snap.LinkStates.Count(s => s.Status != ElementStatus.Up));
        Assert.Equal(2, (await _app.CountRowsAsync())["versions"]);
    }

    private async Task WaitForLockWaitersAsync(int count)
    {
        await using var conn = new NpgsqlConnection(_app.ConnectionString);
        await conn.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", conn);
            var waiting = (long)(await cmd.ExecuteScalarAsync())!;
            if (waiting >= count) return;
            Assert.True(DateTime.UtcNow < deadline, $"only {waiting} of {count} requests reached the version update within 30 s");
            await Task.Delay(20);
        }
    }
}
