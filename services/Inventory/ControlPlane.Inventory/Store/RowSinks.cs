using System.Data;
using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Inventory.Store;

/// <summary>Writes rows of one table, value by value. Begin a row, write its columns in order, end it.</summary>
public abstract class RowSink : IAsyncDisposable
{
    /// <summary>Rows written so far.</summary>
    public long Rows { get; protected set; }

    public abstract void BeginRow();
    public abstract void Int(int v);
    public abstract void Long(long v);
    public abstract void Double(double v);
    public abstract void Bool(bool v);
    public abstract void Text(string? v);
    public abstract void Time(DateTimeOffset? v);
    public abstract ValueTask EndRowAsync(CancellationToken ct);

    /// <summary>Finishes the table (for COPY: commits the stream into the transaction).</summary>
    public abstract ValueTask CompleteAsync(CancellationToken ct);

    public abstract ValueTask DisposeAsync();
}

/// <summary>PostgreSQL binary COPY: the fast path for big fabrics.</summary>
public sealed class CopySink : RowSink
{
    private readonly NpgsqlBinaryImporter _importer;

    private CopySink(NpgsqlBinaryImporter importer) => _importer = importer;

    /// <summary>Starts a COPY ... FROM STDIN (FORMAT BINARY) on the connection (inside its current transaction).</summary>
    public static async Task<CopySink> StartAsync(NpgsqlConnection conn, string table, IReadOnlyList<string> columns, CancellationToken ct) =>
        new(await conn.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", ct));

    public override void BeginRow() { _importer.StartRow(); Rows++; }
    public override void Int(int v) => _importer.Write(v, NpgsqlDbType.Integer);
    public override void Long(long v) => _importer.Write(v, NpgsqlDbType.Bigint);
    public override void Double(double v) => _importer.Write(v, NpgsqlDbType.Double);
    public override void Bool(bool v) => _importer.Write(v, NpgsqlDbType.Boolean);

    public override void Text(string? v)
    {
        if (v is null) _importer.WriteNull();
        else _importer.Write(v, NpgsqlDbType.Text);
    }

    public override void Time(DateTimeOffset? v)
    {
        if (v is null) _importer.WriteNull();
        else _importer.Write(v.Value.UtcDateTime, NpgsqlDbType.TimestampTz);
    }

    public override ValueTask EndRowAsync(CancellationToken ct) => ValueTask.CompletedTask;

    public override async ValueTask CompleteAsync(CancellationToken ct) => await _importer.CompleteAsync(ct);

    public override ValueTask DisposeAsync() => _importer.DisposeAsync();
}

/// <summary>
/// One prepared INSERT executed per row. On SQLite (in process, inside one transaction) this is the fast path;
/// on PostgreSQL it is the row-by-row baseline the benchmark compares COPY with.
/// </summary>
public sealed class CommandSink : RowSink
{
    private readonly DbCommand _cmd;
    private readonly DbParameter[] _params;
    private int _col;

    private CommandSink(DbCommand cmd, DbParameter[] ps)
    {
        _cmd = cmd;
        _params = ps;
    }

    /// <summary>Prepares an INSERT of every column on the connection and transaction.</summary>
    public static async Task<CommandSink> StartAsync(DbConnection conn, DbTransaction? tx, string table, IReadOnlyList<string> columns, CancellationToken ct)
    {
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})";
        var ps = new DbParameter[columns.Count];
        for (var i = 0; i < ps.Length; i++)
        {
            ps[i] = cmd.CreateParameter();
            ps[i].ParameterName = $"p{i}";
            ps[i].Value = DBNull.Value;
            cmd.Parameters.Add(ps[i]);
        }
        return new CommandSink(cmd, ps);
    }

    public override void BeginRow() => _col = 0;
    public override void Int(int v) => Set(v, DbType.Int32);
    public override void Long(long v) => Set(v, DbType.Int64);
    public override void Double(double v) => Set(v, DbType.Double);
    public override void Bool(bool v) => Set(v, DbType.Boolean);
    public override void Text(string? v) => Set(v, DbType.String);
    public override void Time(DateTimeOffset? v) => Set(v?.ToUniversalTime(), DbType.DateTimeOffset);

    private void Set(object? v, DbType type)
    {
        var p = _params[_col++];
        p.DbType = type;
        p.Value = v ?? DBNull.Value;
    }

    public override async ValueTask EndRowAsync(CancellationToken ct)
    {
        if (_col != _params.Length) throw new InvalidOperationException($"row has {_col} values, the table {_params.Length} columns");
        if (Rows == 0) await _cmd.PrepareAsync(ct);
        await _cmd.ExecuteNonQueryAsync(ct);
        Rows++;
    }

    public override ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;

    public override ValueTask DisposeAsync() => _cmd.DisposeAsync();
}
