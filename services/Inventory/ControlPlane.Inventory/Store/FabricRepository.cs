using System.Data.Common;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Hosting;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ControlPlane.Inventory.Store;

/// <summary>Loads fabrics from the inventory store: the shared <see cref="IFabricReader"/> as the inventory names it.</summary>
public interface IFabricStore : IFabricReader;

/// <summary>A requested state change of a link or switch.</summary>
/// <param name="Status">New status.</param>
/// <param name="Reason">Why (required for anything but up).</param>
/// <param name="By">Who.</param>
/// <param name="ExpectedVersion">The fabric version the client saw; null means the version read at the start of the request.</param>
public sealed record StateChange(ElementStatus Status, string? Reason, string By, long? ExpectedVersion);

/// <summary>The result of a committed change: the new version, and the event to publish.</summary>
public sealed record ChangeResult(long Version, TopologyChanged Event);

/// <summary>
/// The inventory store. Bulk writes go through PostgreSQL binary COPY (or batched prepared inserts on SQLite)
/// inside one transaction with the fabric row, so a failure leaves nothing; snapshot loads read raw rows.
/// State changes bump the fabric version with an optimistic check in the same transaction as the state and history rows.
/// </summary>
public sealed class FabricRepository(InventoryDbContext db, TimeProvider time) : IFabricStore
{
    // The column lists and JSON live with the shared reader; kept here under their old names for the writers and the benchmark.
    public static readonly string[] SwitchColumns = FabricTables.SwitchColumns;
    public static readonly string[] HostColumns = FabricTables.HostColumns;
    public static readonly string[] NicColumns = FabricTables.NicColumns;
    public static readonly string[] LinkColumns = FabricTables.LinkColumns;
    public static readonly string[] TransceiverColumns = FabricTables.TransceiverColumns;
    public static readonly string[] DomThresholdsColumns = FabricTables.DomThresholdsColumns;

    /// <summary>JSON for stored documents (see <see cref="FabricTables.StoreJson"/>).</summary>
    public static readonly JsonSerializerOptions StoreJson = FabricTables.StoreJson;

    private readonly FabricReader _reader = new(db);

    /// <summary>Per-step durations of the last bulk create or snapshot load (table name to time), for benchmarks and logs.</summary>
    public List<(string Step, TimeSpan Elapsed)> LastTimings { get; } = [];

    /// <summary>The EF context (for paged reads).</summary>
    public InventoryDbContext Db => db;

    private bool IsPostgres => db.Database.IsNpgsql();

    /// <summary>
    /// Creates missing tables and indexes. EnsureCreated does nothing once any table exists, so a store made by an
    /// earlier version would lack newer tables; EF's create script with IF NOT EXISTS adds them (additive changes
    /// only: there are no migrations, a changed column needs a fresh store).
    /// </summary>
    public async Task EnsureSchemaAsync(CancellationToken ct = default)
    {
        await db.Database.EnsureCreatedAsync(ct);
        var script = db.Database.GenerateCreateScript();
        script = System.Text.RegularExpressions.Regex.Replace(script, @"\bCREATE (UNIQUE )?(TABLE|INDEX) (?!IF NOT EXISTS)", "CREATE $1$2 IF NOT EXISTS ");
        await db.Database.ExecuteSqlRawAsync(script, ct);
        if (!IsPostgres) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListFabricsAsync(CancellationToken cancellationToken = default) => _reader.ListFabricsAsync(cancellationToken);

    /// <summary>
    /// Stores a whole fabric as version 1, every element up unless <paramref name="states"/> (an imported snapshot) says otherwise.
    /// Throws 409 when the name is taken.
    /// </summary>
    public async Task<(FabricRow Row, TopologyChanged Event)> CreateAsync(FabricTopology t, TopologyChangeKind kind, string by, string? reason, CancellationToken ct = default, FabricSnapshot? states = null)
    {
        if (states is not null && !ReferenceEquals(states.Topology, t)) throw new ArgumentException("the states must belong to the topology stored", nameof(states));
        LastTimings.Clear();
        var now = time.GetUtcNow();
        var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = new FabricRow
        {
            Name = t.Name,
            Kind = t.Kind,
            Version = 1,
            Parameters = t.Parameters is null ? null : JsonSerializer.Serialize(t.Parameters, StoreJson),
            Planes = t.Planes.Count,
            SwitchCount = t.Switches.Count,
            HostCount = t.Hosts.Count,
            EndpointCount = t.EndpointCount,
            LinkCount = t.Links.Count,
            SwitchLinkCount = t.SwitchLinkCount,
            TransceiverCount = t.Transceivers.Count,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var inserted = await ExecAsync(conn, tx, ct,
            "INSERT INTO fabrics (name, kind, version, parameters, planes, switch_count, host_count, endpoint_count, link_count, switch_link_count, transceiver_count, created_at, updated_at) " +
            "VALUES (@name, @kind, 1, @parameters, @planes, @sw, @hosts, @ep, @links, @swl, @tx, @now, @now) ON CONFLICT (name) DO NOTHING",
            ("name", row.Name), ("kind", (int)row.Kind), ("parameters", row.Parameters), ("planes", row.Planes), ("sw", row.SwitchCount), ("hosts", row.HostCount),
            ("ep", row.EndpointCount), ("links", row.LinkCount), ("swl", row.SwitchLinkCount), ("tx", row.TransceiverCount), ("now", now));
        if (inserted == 0) throw new ProblemException(409, "Fabric exists", $"a fabric named '{t.Name}' already exists");

        await WriteElementsAsync(conn, tx, t, states, ct);
        var ev = new TopologyChanged
        {
            FabricName = t.Name,
            Version = 1,
            PreviousVersion = 0,
            Kind = kind,
            Changes = [new ElementChange { Element = "fabric", Id = t.Name, Name = t.Name, From = null, To = kind == TopologyChangeKind.Imported ? "imported" : "created", Reason = reason, By = by }],
            At = now,
        };
        await InsertVersionAsync(conn, tx, ev, by, reason, ct);
        var commit = System.Diagnostics.Stopwatch.StartNew();
        await tx.CommitAsync(ct);
        LastTimings.Add(("commit", commit.Elapsed));
        return (row, ev);
    }

    /// <summary>Writes switches, hosts, NICs, links and transceivers: COPY on PostgreSQL, prepared inserts on SQLite.</summary>
    private async Task WriteElementsAsync(DbConnection conn, DbTransaction tx, FabricTopology t, FabricSnapshot? states, CancellationToken ct)
    {
        var f = t.Name;
        await WriteTableAsync(conn, tx, "switches", SwitchColumns, t.Switches, async (s, x) =>
        {
            s.BeginRow();
            s.Text(f); s.Int(x.Id); s.Text(x.Name); s.Int(x.Plane); s.Int((int)x.Tier); s.Int(x.Radix); s.Int(x.PortSpeedGbps); s.Text(x.Model); s.Int(x.Group); s.Text(x.Guid);
            WriteState(s, states?.SwitchState(x.Id));
            await s.EndRowAsync(ct);
        }, ct);
        await WriteTableAsync(conn, tx, "hosts", HostColumns, t.Hosts, async (s, h) =>
        {
            s.BeginRow();
            s.Text(f); s.Int(h.Id); s.Text(h.Name); s.Int(h.Gpus);
            await s.EndRowAsync(ct);
        }, ct);
        await WriteTableAsync(conn, tx, "nics", NicColumns, t.Hosts.SelectMany(h => h.Nics.Select(n => (h.Id, n))), async (s, hn) =>
        {
            s.BeginRow();
            s.Text(f); s.Int(hn.Id); s.Int(hn.n.Index); s.Int(hn.n.Plane); s.Int(hn.n.SpeedGbps); s.Text(hn.n.Guid);
            await s.EndRowAsync(ct);
        }, ct);
        await WriteLinksAsync(conn, tx, f, t.Links, states, ct);
        // Threshold sets are shared by every module of a part: stored once each, referenced by id.
        var sets = new Dictionary<DomThresholds, int>();
        var setIds = new int[t.Transceivers.Count];
        for (var i = 0; i < t.Transceivers.Count; i++)
        {
            var d = t.Transceivers[i].Thresholds;
            if (!sets.TryGetValue(d, out var id)) sets[d] = id = sets.Count;
            setIds[i] = id;
        }
        await WriteTableAsync(conn, tx, "dom_thresholds", DomThresholdsColumns, sets, async (s, kv) =>
        {
            var d = kv.Key;
            s.BeginRow();
            s.Text(f); s.Int(kv.Value);
            s.Double(d.TempHighAlarmC); s.Double(d.TempHighWarnC); s.Double(d.VccLowAlarmV); s.Double(d.VccHighAlarmV); s.Double(d.BiasHighAlarmMa);
            s.Double(d.TxPowerLowAlarmDbm); s.Double(d.RxPowerLowAlarmDbm); s.Double(d.RxPowerLowWarnDbm); s.Double(d.RxPowerHighAlarmDbm); s.Double(d.PreFecBerWarn); s.Double(d.PreFecBerAlarm);
            await s.EndRowAsync(ct);
        }, ct);
        await WriteTableAsync(conn, tx, "transceivers", TransceiverColumns, t.Transceivers, async (s, x) =>
        {
            s.BeginRow();
            s.Text(f); s.Int(x.Id); s.Text(x.Serial); s.Int((int)x.Kind); s.Int(x.Link); s.Int((int)x.Side); s.Text(x.Vendor); s.Text(x.PartNumber); s.Text(x.Firmware);
            s.Double(x.PowerW); s.Double(x.PicojoulesPerBit); s.Int(setIds[x.Id]);
            await s.EndRowAsync(ct);
        }, ct);
    }

    /// <summary>Writes link rows (all up unless <paramref name="states"/> says otherwise) through the given sink; shared by the bulk path and the benchmark's row-by-row baseline.</summary>
    public static async Task WriteLinkRowsAsync(RowSink s, string fabric, IEnumerable<Link> links, CancellationToken ct, FabricSnapshot? states = null)
    {
        foreach (var l in links)
        {
            s.BeginRow();
            s.Text(fabric); s.Int(l.Id);
            s.Bool(l.A.IsHost); s.Int(l.A.Device); s.Int(l.A.Port);
            s.Bool(l.B.IsHost); s.Int(l.B.Device); s.Int(l.B.Port);
            s.Int(l.SpeedGbps); s.Int((int)l.Role); s.Int((int)l.Medium); s.Double(l.LengthM); s.Int(l.Plane);
            WriteState(s, states?.LinkState(l.Id));
            await s.EndRowAsync(ct);
        }
        await s.CompleteAsync(ct);
    }

    private static void WriteState(RowSink s, ElementState? state)
    {
        state ??= ElementState.InitialUp;
        s.Int((int)state.Status); s.Text(state.Reason); s.Text(state.By); s.Time(state.Since);
    }

    private async Task WriteLinksAsync(DbConnection conn, DbTransaction tx, string fabric, IReadOnlyList<Link> links, FabricSnapshot? states, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await using (var sink = await OpenSinkAsync(conn, tx, "links", LinkColumns, ct))
            await WriteLinkRowsAsync(sink, fabric, links, ct, states);
        LastTimings.Add(("links", sw.Elapsed));
    }

    private async Task WriteTableAsync<T>(DbConnection conn, DbTransaction tx, string table, string[] columns, IEnumerable<T> items, Func<RowSink, T, ValueTask> write, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await using (var sink = await OpenSinkAsync(conn, tx, table, columns, ct))
        {
            foreach (var item in items) await write(sink, item);
            await sink.CompleteAsync(ct);
        }
        LastTimings.Add((table, sw.Elapsed));
    }

    private async Task<RowSink> OpenSinkAsync(DbConnection conn, DbTransaction tx, string table, string[] columns, CancellationToken ct) =>
        IsPostgres
            ? await CopySink.StartAsync((NpgsqlConnection)conn, table, columns, ct)
            : await CommandSink.StartAsync(conn, tx, table, columns, ct);

    /// <inheritdoc/>
    /// <remarks>The shared reader loads it (one loader for every service); its step timings are copied to <see cref="LastTimings"/>.</remarks>
    public async Task<FabricSnapshot?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        var snapshot = await _reader.LoadSnapshotAsync(name, cancellationToken);
        if (snapshot is not null)
        {
            LastTimings.Clear();
            LastTimings.AddRange(_reader.LastTimings);
        }
        return snapshot;
    }

    /// <summary>Changes a link's status. 404 for an unknown fabric or link, 409 when the version moved.</summary>
    public Task<(ChangeResult Result, LinkRow Link)> ChangeLinkStateAsync(string fabric, int linkId, StateChange change, CancellationToken ct = default) =>
        ChangeStateAsync(fabric, change, ct, async (conn, tx) =>
        {
            var link = await db.Links.AsNoTracking().FirstOrDefaultAsync(l => l.Fabric == fabric && l.Id == linkId, ct)
                ?? throw new ProblemException(404, "Link not found", $"fabric '{fabric}' has no link {linkId}");
            var name = $"{await DescribeEndAsync(conn, tx, fabric, link.AIsHost, link.ADevice, link.APort, ct)} <-> {await DescribeEndAsync(conn, tx, fabric, link.BIsHost, link.BDevice, link.BPort, ct)}";
            return (link.Status, "links", "id = @id", ("id", (object)linkId), new ElementChange { Element = "link", Id = linkId.ToString(System.Globalization.CultureInfo.InvariantCulture), Name = name }, link);
        });

    /// <summary>Changes a switch's status. 404 for an unknown fabric or switch, 409 when the version moved.</summary>
    public Task<(ChangeResult Result, SwitchRow Switch)> ChangeSwitchStateAsync(string fabric, string switchName, StateChange change, CancellationToken ct = default) =>
        ChangeStateAsync(fabric, change, ct, async (conn, tx) =>
        {
            var sw = await db.Switches.AsNoTracking().FirstOrDefaultAsync(s => s.Fabric == fabric && s.Name == switchName, ct)
                ?? throw new ProblemException(404, "Switch not found", $"fabric '{fabric}' has no switch '{switchName}'");
            return (sw.Status, "switches", "id = @id", ("id", (object)sw.Id), new ElementChange { Element = "switch", Id = sw.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Name = sw.Name }, sw);
        });

    private async Task<(ChangeResult, TRow)> ChangeStateAsync<TRow>(
        string fabric, StateChange change, CancellationToken ct,
        Func<DbConnection, DbTransaction, Task<(ElementStatus From, string Table, string Where, (string, object) Key, ElementChange Change, TRow Row)>> find)
        where TRow : class
    {
        var now = time.GetUtcNow();
        var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await db.Database.UseTransactionAsync(tx, ct);
        try
        {
            var current = await ScalarAsync<long?>(conn, tx, ct, "SELECT version FROM fabrics WHERE name = @f", ("f", fabric))
                ?? throw new ProblemException(404, "Fabric not found", $"no fabric named '{fabric}'");
            var (from, table, where, key, element, row) = await find(conn, tx);
            var expected = change.ExpectedVersion ?? current;
            if (expected != current)
                throw new ProblemException(409, "Version conflict", $"expectedVersion {expected} is not the current version {current} of fabric '{fabric}'; reload and retry");
            var bumped = await ExecAsync(conn, tx, ct, "UPDATE fabrics SET version = version + 1, updated_at = @now WHERE name = @f AND version = @expected",
                ("f", fabric), ("expected", expected), ("now", now));
            if (bumped == 0)
                throw new ProblemException(409, "Version conflict", $"a concurrent change to fabric '{fabric}' won the race (version {expected} is gone); reload and retry");
            var updated = await ExecAsync(conn, tx, ct, $"UPDATE {table} SET status = @s, reason = @r, changed_by = @by, since = @now WHERE fabric = @f AND {where}",
                ("s", (int)change.Status), ("r", change.Reason), ("by", change.By), ("now", now), ("f", fabric), key);
            if (updated != 1) throw new InvalidOperationException($"expected to update one row of {table}, updated {updated}");
            var ev = new TopologyChanged
            {
                FabricName = fabric,
                Version = expected + 1,
                PreviousVersion = expected,
                Kind = TopologyChangeKind.StateChanged,
                Changes = [element with { From = StatusName(from), To = StatusName(change.Status), Reason = change.Reason, By = change.By }],
                At = now,
            };
            await InsertVersionAsync(conn, tx, ev, change.By, change.Reason, ct);
            await tx.CommitAsync(ct);
            return (new ChangeResult(ev.Version, ev), row);
        }
        finally
        {
            await db.Database.UseTransactionAsync(null, ct);
        }
    }

    /// <summary>Deletes a fabric and everything in it. 404 when unknown.</summary>
    public async Task<TopologyChanged> DeleteAsync(string name, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var version = await ScalarAsync<long?>(conn, tx, ct, "SELECT version FROM fabrics WHERE name = @f", ("f", name))
            ?? throw new ProblemException(404, "Fabric not found", $"no fabric named '{name}'");
        foreach (var table in new[] { "transceivers", "dom_thresholds", "links", "nics", "hosts", "switches", "versions" })
            await ExecAsync(conn, tx, ct, $"DELETE FROM {table} WHERE fabric = @f", ("f", name));
        await ExecAsync(conn, tx, ct, "DELETE FROM fabrics WHERE name = @f", ("f", name));
        await tx.CommitAsync(ct);
        return new TopologyChanged
        {
            FabricName = name,
            Version = version + 1,
            PreviousVersion = version,
            Kind = TopologyChangeKind.Deleted,
            Changes = [new ElementChange { Element = "fabric", Id = name, Name = name, From = "present", To = null }],
            At = now,
        };
    }

    /// <summary>Display name of a link end from the stored names, e.g. "p0-leaf-3/12" or "node-00001/mlx5_2".</summary>
    private static async Task<string> DescribeEndAsync(DbConnection conn, DbTransaction tx, string fabric, bool isHost, int device, int port, CancellationToken ct)
    {
        var n = await ScalarAsync<string?>(conn, tx, ct, isHost ? "SELECT name FROM hosts WHERE fabric = @f AND id = @d" : "SELECT name FROM switches WHERE fabric = @f AND id = @d", ("f", fabric), ("d", device));
        return isHost ? $"{n ?? $"host#{device}"}/mlx5_{port}" : $"{n ?? $"switch#{device}"}/{port}";
    }

    private static Task InsertVersionAsync(DbConnection conn, DbTransaction tx, TopologyChanged ev, string? by, string? reason, CancellationToken ct) =>
        ExecAsync(conn, tx, ct, "INSERT INTO versions (fabric, version, at, changed_by, reason, kind, changes) VALUES (@f, @v, @at, @by, @r, @k, @c)",
            ("f", ev.FabricName), ("v", ev.Version), ("at", ev.At), ("by", by), ("r", reason), ("k", (int)ev.Kind), ("c", JsonSerializer.Serialize(ev.Changes, StoreJson)));

    /// <summary>Status as the API spells it ("up", "drained", ...).</summary>
    public static string StatusName(ElementStatus s) => JsonNamingPolicy.CamelCase.ConvertName(s.ToString());

    private Task<DbConnection> OpenAsync(CancellationToken ct) => FabricTables.OpenAsync(db, ct);

    private static DbCommand Command(DbConnection conn, DbTransaction? tx, string sql, params (string Name, object? Value)[] ps) => FabricTables.Command(conn, tx, sql, ps);

    private static async Task<int> ExecAsync(DbConnection conn, DbTransaction? tx, CancellationToken ct, string sql, params (string, object?)[] ps)
    {
        await using var cmd = Command(conn, tx, sql, ps);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T?> ScalarAsync<T>(DbConnection conn, DbTransaction? tx, CancellationToken ct, string sql, params (string, object?)[] ps)
    {
        await using var cmd = Command(conn, tx, sql, ps);
        var v = await cmd.ExecuteScalarAsync(ct);
        if (v is null or DBNull) return default;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(v, target, System.Globalization.CultureInfo.InvariantCulture);
    }
}
