using System.Collections.Concurrent;
using System.Data.Common;
using ControlPlane.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Distribution.Service;

/// <summary>One switch's distribution state as stored: what it should hold and what it acknowledged.</summary>
public sealed class DistributionSwitchRow
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; set; }

    /// <summary>Switch name.</summary>
    public required string SwitchName { get; set; }

    /// <summary>Desired table version.</summary>
    public long DesiredVersion { get; set; }

    /// <summary>Desired table: protobuf fabric.v1.RouteTable.</summary>
    public byte[] DesiredTable { get; set; } = [];

    /// <summary>Version the agent acknowledged.</summary>
    public long AckedVersion { get; set; }

    /// <summary>Digest the agent read back with it.</summary>
    public byte[] AckedDigest { get; set; } = [];

    /// <summary>Last write, Unix milliseconds.</summary>
    public long UpdatedAtUnixMs { get; set; }
}

/// <summary>The distribution tables (one row per fabric and switch).</summary>
public sealed class DistributionDbContext(DbContextOptions<DistributionDbContext> options) : DbContext(options)
{
    /// <summary>Per-switch state.</summary>
    public DbSet<DistributionSwitchRow> Switches => Set<DistributionSwitchRow>();

    /// <inheritdoc/>
    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<DistributionSwitchRow>(e =>
        {
            e.ToTable("distribution_switches");
            e.HasKey(x => new { x.Fabric, x.SwitchName });
            e.Property(x => x.Fabric).HasColumnName("fabric");
            e.Property(x => x.SwitchName).HasColumnName("switch_name");
            e.Property(x => x.DesiredVersion).HasColumnName("desired_version");
            e.Property(x => x.DesiredTable).HasColumnName("desired_table");
            e.Property(x => x.AckedVersion).HasColumnName("acked_version");
            e.Property(x => x.AckedDigest).HasColumnName("acked_digest");
            e.Property(x => x.UpdatedAtUnixMs).HasColumnName("updated_at_ms");
        });
    }
}

/// <summary>A switch's state to write, captured by the fabric loop; the table is serialized by the writer, off the hot path.</summary>
/// <param name="Fabric">Fabric.</param>
/// <param name="SwitchName">Switch.</param>
/// <param name="Desired">Desired table (null when none yet).</param>
/// <param name="AckedVersion">Acknowledged version.</param>
/// <param name="AckedDigest">Acknowledged digest.</param>
/// <param name="At">When.</param>
public sealed record PersistedSwitch(string Fabric, string SwitchName, SwitchTable? Desired, ulong AckedVersion, byte[] AckedDigest, DateTimeOffset At);

/// <summary>
/// Reads the stored state at start and writes changes in batches after the fact: the fabric loops only mark switches
/// dirty (latest state wins), a background loop writes every <see cref="DistributionServiceOptions.PersistInterval"/>.
/// </summary>
public sealed class DistributionStore(IServiceScopeFactory scopes, IOptions<DistributionServiceOptions> options, ILogger<DistributionStore> logger) : IDistributionPersistence, IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string, string), PersistedSwitch> _dirty = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _flush = new(1, 1);
    private Task? _loop;
    private long _written;
    private long _failures;

    /// <summary>Rows written so far.</summary>
    public long RowsWritten => Interlocked.Read(ref _written);

    /// <summary>Failed batch writes so far (they are retried).</summary>
    public long WriteFailures => Interlocked.Read(ref _failures);

    /// <summary>Creates the table and index when missing (additive, like the other modules).</summary>
    public async Task EnsureSchemaAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DistributionDbContext>();
        // EnsureCreated does nothing when the database already has any table (the inventory's, in a shared database),
        // so the create script runs with IF NOT EXISTS as well.
        await db.Database.EnsureCreatedAsync(ct);
        var script = db.Database.GenerateCreateScript();
        script = System.Text.RegularExpressions.Regex.Replace(script, @"\bCREATE (UNIQUE )?(TABLE|INDEX) (?!IF NOT EXISTS)", "CREATE $1$2 IF NOT EXISTS ");
        await db.Database.ExecuteSqlRawAsync(script, ct);
        if (!db.Database.IsNpgsql()) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }

    /// <summary>The stored rows of a fabric.</summary>
    public async Task<List<DistributionSwitchRow>> LoadAsync(string fabric, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DistributionDbContext>();
        return await db.Switches.AsNoTracking().Where(r => r.Fabric == fabric).ToListAsync(ct);
    }

    /// <summary>Marks a switch's state to be written (never blocks).</summary>
    public void Mark(PersistedSwitch state) => _dirty[(state.Fabric, state.SwitchName)] = state;

    /// <summary>Starts the background writer.</summary>
    public void Start() => _loop ??= Task.Run(() => LoopAsync(_stop.Token));

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.PersistInterval, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await FlushAsync(CancellationToken.None);
        }
    }

    /// <summary>Writes every dirty switch now; on failure they stay dirty (unless newer state replaced them) and are tried again.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await _flush.WaitAsync(ct);
        try
        {
            if (_dirty.IsEmpty) return;
            var batch = new List<PersistedSwitch>(_dirty.Count);
            foreach (var key in _dirty.Keys)
            {
                if (_dirty.TryRemove(key, out var v)) batch.Add(v);
            }
            try
            {
                await WriteAsync(batch, ct);
                Interlocked.Add(ref _written, batch.Count);
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
            {
                Interlocked.Increment(ref _failures);
                logger.LogWarning("distribution: writing {Count} switch states failed, will retry: {Message}", batch.Count, e.Message);
                foreach (var v in batch) _dirty.TryAdd((v.Fabric, v.SwitchName), v);
            }
        }
        finally
        {
            _flush.Release();
        }
    }

    private async Task WriteAsync(List<PersistedSwitch> batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DistributionDbContext>();
        var conn = db.Database.GetDbConnection();
        if (conn.State != System.Data.ConnectionState.Open) await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The same upsert on PostgreSQL and SQLite (3.24+).
        const string sql = """
            INSERT INTO distribution_switches (fabric, switch_name, desired_version, desired_table, acked_version, acked_digest, updated_at_ms)
            VALUES (@f, @s, @dv, @dt, @av, @ad, @u)
            ON CONFLICT (fabric, switch_name) DO UPDATE SET desired_version = excluded.desired_version, desired_table = excluded.desired_table,
                acked_version = excluded.acked_version, acked_digest = excluded.acked_digest, updated_at_ms = excluded.updated_at_ms
            """;
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        var p = new[] { "f", "s", "dv", "dt", "av", "ad", "u" }.Select(n =>
        {
            var x = cmd.CreateParameter();
            x.ParameterName = n;
            cmd.Parameters.Add(x);
            return x;
        }).ToArray();
        foreach (var r in batch)
        {
            p[0].Value = r.Fabric;
            p[1].Value = r.SwitchName;
            p[2].Value = (long)(r.Desired?.Version ?? 0);
            p[3].Value = r.Desired is null ? Array.Empty<byte>() : Wire.TableCodec.EncodeTable(r.Desired);
            p[4].Value = (long)r.AckedVersion;
            p[5].Value = r.AckedDigest;
            p[6].Value = r.At.ToUnixTimeMilliseconds();
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>Stops the writer after a last flush.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        await FlushAsync(ct);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        if (_loop is not null) await _loop;
    }
}
