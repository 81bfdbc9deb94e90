using System.Globalization;
using ControlPlane.Fabric;
using ControlPlane.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Telemetry.Service;

/// <summary>The telemetry store's DbContext: only for the connection, the store health check and the engine choice; the series table is written with COPY.</summary>
public sealed class TelemetryDbContext(DbContextOptions<TelemetryDbContext> options) : DbContext(options);

/// <summary>Downsampled rows of one fabric, ready to store.</summary>
/// <param name="Fabric">Fabric name.</param>
/// <param name="Topology">Its topology (switch names for the rows).</param>
/// <param name="Rows">The rows.</param>
public sealed record SeriesBatch(string Fabric, FabricTopology Topology, IReadOnlyList<PortSeriesRow> Rows);

/// <summary>One point of a stored series: a bucket's min/mean/max per metric (null when not measured).</summary>
public sealed record SeriesPoint(DateTimeOffset Time, int Samples, IReadOnlyDictionary<string, MetricStat?> Metrics);

/// <summary>Min, mean and max of a metric over a bucket.</summary>
public sealed record MetricStat(double Min, double Mean, double Max);

/// <summary>The stored series of one port.</summary>
public sealed record PortSeries(string Switch, int SwitchId, int Port, int LinkId, IReadOnlyList<SeriesPoint> Points);

/// <summary>Where downsampled rows live: a time-partitioned PostgreSQL table, or a plain SQLite table.</summary>
public interface ISeriesStore
{
    /// <summary>Creates the table (and, on PostgreSQL, the partitions around <paramref name="now"/>).</summary>
    Task EnsureSchemaAsync(DateTimeOffset now, CancellationToken ct);

    /// <summary>Writes rows in one batch; returns rows written (rows older than the retention are skipped).</summary>
    Task<int> WriteAsync(SeriesBatch batch, DateTimeOffset now, CancellationToken ct);

    /// <summary>Drops data older than the retention; returns what was dropped (partition names, or "N rows").</summary>
    Task<IReadOnlyList<string>> ApplyRetentionAsync(DateTimeOffset now, CancellationToken ct);

    /// <summary>Rows of one port, or (port null) of both ends of a link (<paramref name="id"/> is then the link id), in [from, to).</summary>
    Task<IReadOnlyList<PortSeries>> QueryAsync(string fabric, int id, int? port, DateTimeOffset from, DateTimeOffset to, CancellationToken ct);
}

/// <summary>Column layout shared by both engines.</summary>
internal static class SeriesColumns
{
    public static readonly string[] Metrics = ["txUtil", "rxUtil", "fecUncorrectedRate", "dropRate", "preFecBer", "temperatureC", "rxPowerMinDbm"];
    public static readonly string[] MetricColumns = ["tx_util", "rx_util", "fec_uncorrected_rate", "drop_rate", "pre_fec_ber", "temperature_c", "rx_power_min_dbm"];
    public static readonly string[] Fixed = ["fabric", "bucket", "switch_id", "switch_name", "port", "link_id", "samples"];

    public static IEnumerable<string> StatColumns() => MetricColumns.SelectMany(m => new[] { m + "_min", m + "_mean", m + "_max" });

    public static string All => string.Join(", ", Fixed.Concat(StatColumns()));

    public static SeriesStat?[] Stats(PortSeriesRow r) => [r.TxUtil, r.RxUtil, r.FecUncorrectedRate, r.DropRate, r.PreFecBer, r.TemperatureC, r.RxPowerMinDbm];

    public static string MetricsDdl(string real) => string.Join(", ", StatColumns().Select(c => $"{c} {real}"));

    /// <summary>Reads rows ordered by switch, port, bucket into series.</summary>
    public static async Task<IReadOnlyList<PortSeries>> ReadAsync(System.Data.Common.DbDataReader r, Func<object, DateTimeOffset> time, CancellationToken ct)
    {
        var result = new List<PortSeries>();
        List<SeriesPoint>? points = null;
        (int Sw, int Port) key = (-1, -1);
        string name = "";
        var link = -1;
        while (await r.ReadAsync(ct))
        {
            var sw = r.GetInt32(2);
            var port = r.GetInt32(4);
            if ((sw, port) != key)
            {
                if (points is not null) result.Add(new PortSeries(name, key.Sw, key.Port, link, points));
                points = [];
                key = (sw, port);
                name = r.GetString(3);
                link = r.GetInt32(5);
            }
            var m = new Dictionary<string, MetricStat?>(Metrics.Length);
            for (var i = 0; i < Metrics.Length; i++)
            {
                var c = Fixed.Length + 3 * i;
                m[Metrics[i]] = r.IsDBNull(c) ? null : new MetricStat(r.GetDouble(c), r.GetDouble(c + 1), r.GetDouble(c + 2));
            }
            points!.Add(new SeriesPoint(time(r.GetValue(1)), r.GetInt32(6), m));
        }
        if (points is not null) result.Add(new PortSeries(name, key.Sw, key.Port, link, points));
        return result;
    }
}

/// <summary>
/// PostgreSQL: <c>port_series</c> partitioned by range on <c>bucket</c>, one partition per hour or day named
/// <c>port_series_yyyyMMddHH</c> / <c>port_series_yyyyMMdd</c>, created ahead by the writer; retention drops whole partitions.
/// Rows go in with binary COPY.
/// </summary>
public sealed class PostgresSeriesStore(string connectionString, TelemetryServiceOptions options) : ISeriesStore
{
    /// <summary>Parent table.</summary>
    public const string Table = "port_series";

    private readonly HashSet<DateTimeOffset> _created = [];
    private readonly Lock _lock = new();

    private TimeSpan Interval => options.Partition == PartitionInterval.Day ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);

    private DateTimeOffset PartitionStart(DateTimeOffset t)
    {
        var u = t.ToUniversalTime();
        return options.Partition == PartitionInterval.Day
            ? new DateTimeOffset(u.Year, u.Month, u.Day, 0, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(u.Year, u.Month, u.Day, u.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Name of the partition starting at <paramref name="start"/>.</summary>
    public string PartitionName(DateTimeOffset start) =>
        Table + "_" + start.UtcDateTime.ToString(options.Partition == PartitionInterval.Day ? "yyyyMMdd" : "yyyyMMddHH", CultureInfo.InvariantCulture);

    private bool TryParsePartition(string name, out DateTimeOffset start)
    {
        start = default;
        if (!name.StartsWith(Table + "_", StringComparison.Ordinal)) return false;
        var s = name[(Table.Length + 1)..];
        return s.Length is 8 or 10 && DateTimeOffset.TryParseExact(s, s.Length == 8 ? "yyyyMMdd" : "yyyyMMddHH", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out start);
    }

    /// <inheritdoc/>
    public async Task EnsureSchemaAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using (var cmd = new NpgsqlCommand($"""
            CREATE TABLE IF NOT EXISTS {Table} (
              fabric text NOT NULL, bucket timestamptz NOT NULL, switch_id integer NOT NULL, switch_name text NOT NULL,
              port integer NOT NULL, link_id integer NOT NULL, samples integer NOT NULL, {SeriesColumns.MetricsDdl("double precision")}
            ) PARTITION BY RANGE (bucket);
            CREATE INDEX IF NOT EXISTS ix_{Table}_port ON {Table} (fabric, switch_id, port, bucket);
            CREATE INDEX IF NOT EXISTS ix_{Table}_link ON {Table} (fabric, link_id, bucket);
            """, conn))
            await cmd.ExecuteNonQueryAsync(ct);
        await EnsurePartitionsAsync(conn, PartitionStart(now), now, ct);
    }

    private async Task EnsurePartitionsAsync(NpgsqlConnection conn, DateTimeOffset from, DateTimeOffset now, CancellationToken ct)
    {
        var last = PartitionStart(now) + Interval * options.PartitionsAhead;
        for (var p = PartitionStart(from); p <= last; p += Interval)
        {
            lock (_lock) if (_created.Contains(p)) continue;
            var sql = $"CREATE TABLE IF NOT EXISTS {PartitionName(p)} PARTITION OF {Table} FOR VALUES FROM ('{p.UtcDateTime:yyyy-MM-ddTHH:mm:ss}+00') TO ('{(p + Interval).UtcDateTime:yyyy-MM-ddTHH:mm:ss}+00')";
            await using var cmd = new NpgsqlCommand(sql, conn);
            try
            {
                await cmd.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.UniqueViolation)
            {
                // Another writer created it between our check and our statement.
            }
            lock (_lock) _created.Add(p);
        }
    }

    /// <inheritdoc/>
    public async Task<int> WriteAsync(SeriesBatch batch, DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now - options.Retention;
        var rows = batch.Rows.Where(r => UnixNanos.ToDateTimeOffset(r.BucketStartUnixNanos) >= cutoff).ToList();
        if (rows.Count == 0) return 0;
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        var oldest = UnixNanos.ToDateTimeOffset(rows.Min(r => r.BucketStartUnixNanos));
        var newest = UnixNanos.ToDateTimeOffset(rows.Max(r => r.BucketStartUnixNanos));
        await EnsurePartitionsAsync(conn, oldest, newest > now ? newest : now, ct);
        await using var copy = await conn.BeginBinaryImportAsync($"COPY {Table} ({SeriesColumns.All}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var r in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(batch.Fabric, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(UnixNanos.ToDateTimeOffset(r.BucketStartUnixNanos).UtcDateTime, NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(r.SwitchId, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(batch.Topology.Switches[r.SwitchId].Name, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Port, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.LinkId, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.Samples, NpgsqlDbType.Integer, ct);
            foreach (var s in SeriesColumns.Stats(r))
            {
                if (s is { } v)
                {
                    await copy.WriteAsync(v.Min, NpgsqlDbType.Double, ct);
                    await copy.WriteAsync(v.Mean, NpgsqlDbType.Double, ct);
                    await copy.WriteAsync(v.Max, NpgsqlDbType.Double, ct);
                }
                else
                {
                    await copy.WriteNullAsync(ct);
                    await copy.WriteNullAsync(ct);
                    await copy.WriteNullAsync(ct);
                }
            }
        }
        await copy.CompleteAsync(ct);
        return rows.Count;
    }

    /// <summary>Partitions of the series table, oldest first.</summary>
    public async Task<IReadOnlyList<string>> ListPartitionsAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        return await ListPartitionsAsync(conn, ct);
    }

    private static async Task<List<string>> ListPartitionsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = '{Table}' ORDER BY c.relname
            """, conn);
        var names = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) names.Add(r.GetString(0));
        return names;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ApplyRetentionAsync(DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now - options.Retention;
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        // Also keeps the partitions ahead in place when no rows have come in for a while.
        await EnsurePartitionsAsync(conn, now, now, ct);
        var dropped = new List<string>();
        foreach (var name in await ListPartitionsAsync(conn, ct))
        {
            // Whole partitions only: one whose end is past the cutoff still holds rows within the retention.
            if (!TryParsePartition(name, out var start) || start + Interval > cutoff) continue;
            await using var cmd = new NpgsqlCommand($"DROP TABLE IF EXISTS {name}", conn);
            await cmd.ExecuteNonQueryAsync(ct);
            lock (_lock) _created.Remove(start);
            dropped.Add(name);
        }
        return dropped;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<PortSeries>> QueryAsync(string fabric, int id, int? port, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        var where = port is null ? "link_id = @id" : "switch_id = @id AND port = @port";
        await using var cmd = new NpgsqlCommand(
            $"SELECT {SeriesColumns.All} FROM {Table} WHERE fabric = @fabric AND {where} AND bucket >= @from AND bucket < @to ORDER BY switch_id, port, bucket", conn);
        cmd.Parameters.AddWithValue("fabric", fabric);
        cmd.Parameters.AddWithValue("id", id);
        if (port is { } p) cmd.Parameters.AddWithValue("port", p);
        cmd.Parameters.AddWithValue("from", from.UtcDateTime);
        cmd.Parameters.AddWithValue("to", to.UtcDateTime);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await SeriesColumns.ReadAsync(r, v => new DateTimeOffset(DateTime.SpecifyKind((DateTime)v, DateTimeKind.Utc)), ct);
    }
}

/// <summary>SQLite (embedded default): a plain <c>port_series</c> table, bucket as unix nanoseconds; retention deletes by time.</summary>
public sealed class SqliteSeriesStore(string connectionString, TelemetryServiceOptions options) : ISeriesStore
{
    /// <inheritdoc/>
    public async Task EnsureSchemaAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"""
            CREATE TABLE IF NOT EXISTS port_series (
              fabric TEXT NOT NULL, bucket INTEGER NOT NULL, switch_id INTEGER NOT NULL, switch_name TEXT NOT NULL,
              port INTEGER NOT NULL, link_id INTEGER NOT NULL, samples INTEGER NOT NULL, {SeriesColumns.MetricsDdl("REAL")});
            CREATE INDEX IF NOT EXISTS ix_port_series_port ON port_series (fabric, switch_id, port, bucket);
            CREATE INDEX IF NOT EXISTS ix_port_series_link ON port_series (fabric, link_id, bucket);
            CREATE INDEX IF NOT EXISTS ix_port_series_bucket ON port_series (bucket);
            """;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <inheritdoc/>
    public async Task<int> WriteAsync(SeriesBatch batch, DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = UnixNanos.From(now - options.Retention);
        await using var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var tx = conn.BeginTransaction();
        await using var cmd = conn.CreateCommand();
        var names = SeriesColumns.Fixed.Concat(SeriesColumns.StatColumns()).ToArray();
        cmd.CommandText = $"INSERT INTO port_series ({string.Join(", ", names)}) VALUES ({string.Join(", ", names.Select(n => "$" + n))})";
        var ps = names.Select(n => cmd.Parameters.Add(new SqliteParameter("$" + n, null))).ToArray();
        var n = 0;
        foreach (var r in batch.Rows)
        {
            if (r.BucketStartUnixNanos < cutoff) continue;
            ps[0].Value = batch.Fabric;
            ps[1].Value = r.BucketStartUnixNanos;
            ps[2].Value = r.SwitchId;
            ps[3].Value = batch.Topology.Switches[r.SwitchId].Name;
            ps[4].Value = r.Port;
            ps[5].Value = r.LinkId;
            ps[6].Value = r.Samples;
            var i = 7;
            foreach (var s in SeriesColumns.Stats(r))
            {
                ps[i++].Value = s is { } v ? v.Min : DBNull.Value;
                ps[i++].Value = s is { } w ? w.Mean : DBNull.Value;
                ps[i++].Value = s is { } x ? x.Max : DBNull.Value;
            }
            await cmd.ExecuteNonQueryAsync(ct);
            n++;
        }
        await tx.CommitAsync(ct);
        return n;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ApplyRetentionAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "DELETE FROM port_series WHERE bucket < $cutoff";
        cmd.Parameters.AddWithValue("$cutoff", UnixNanos.From(now - options.Retention));
        var n = await cmd.ExecuteNonQueryAsync(ct);
        return n > 0 ? [$"{n} rows"] : [];
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<PortSeries>> QueryAsync(string fabric, int id, int? port, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        var where = port is null ? "link_id = $id" : "switch_id = $id AND port = $port";
        cmd.CommandText = $"SELECT {SeriesColumns.All} FROM port_series WHERE fabric = $fabric AND {where} AND bucket >= $from AND bucket < $to ORDER BY switch_id, port, bucket";
        cmd.Parameters.AddWithValue("$fabric", fabric);
        cmd.Parameters.AddWithValue("$id", id);
        if (port is { } p) cmd.Parameters.AddWithValue("$port", p);
        cmd.Parameters.AddWithValue("$from", UnixNanos.From(from));
        cmd.Parameters.AddWithValue("$to", UnixNanos.From(to));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await SeriesColumns.ReadAsync(r, v => UnixNanos.ToDateTimeOffset(Convert.ToInt64(v, CultureInfo.InvariantCulture)), ct);
    }
}
