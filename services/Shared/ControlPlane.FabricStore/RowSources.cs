using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.FabricStore;

/// <summary>Reads rows of one query column by column, in order; the mirror of <see cref="RowSink"/>.</summary>
public abstract class RowSource : IAsyncDisposable
{
    /// <summary>Moves to the next row; false at the end.</summary>
    public abstract ValueTask<bool> NextAsync(CancellationToken ct);
    public abstract int Int();
    public abstract long Long();
    public abstract double Double();
    public abstract bool Bool();
    public abstract string Text();
    public abstract string? TextOrNull();
    public abstract DateTimeOffset? TimeOrNull();
    public abstract ValueTask DisposeAsync();

    /// <summary>Opens the fastest source for the connection: binary COPY out on PostgreSQL, a data reader elsewhere.</summary>
    public static async Task<RowSource> OpenAsync(DbConnection conn, DbTransaction tx, string table, IReadOnlyList<string> columns, string fabric, CancellationToken ct)
    {
        if (conn is NpgsqlConnection npg)
        {
            // COPY cannot take parameters: the fabric name is quoted as a literal (names are validated, quotes doubled anyway).
            var literal = "'" + fabric.Replace("'", "''", StringComparison.Ordinal) + "'";
            var exporter = await npg.BeginBinaryExportAsync($"COPY (SELECT {string.Join(", ", columns)} FROM {table} WHERE fabric = {literal}) TO STDOUT (FORMAT BINARY)", ct);
            return new CopySource(exporter);
        }
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT {string.Join(", ", columns)} FROM {table} WHERE fabric = @f";
        var p = cmd.CreateParameter();
        p.ParameterName = "f";
        p.Value = fabric;
        cmd.Parameters.Add(p);
        return new ReaderSource(cmd, await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct));
    }
}

/// <summary>PostgreSQL binary COPY TO STDOUT.</summary>
internal sealed class CopySource(NpgsqlBinaryExporter x) : RowSource
{
    // Synchronous on purpose: the async row step costs more than the row itself, and the exporter reads ahead in
    // large buffers, so the thread blocks only when a buffer runs dry.
    // Measured on the FT3 load: 1.1-1.3 s synchronous against 1.6-1.7 s with StartRowAsync.
    public override ValueTask<bool> NextAsync(CancellationToken ct)
    {
        return ValueTask.FromResult(x.StartRow() >= 0);
    }
    public override int Int() => x.Read<int>(NpgsqlDbType.Integer);
    public override long Long() => x.Read<long>(NpgsqlDbType.Bigint);
    public override double Double() => x.Read<double>(NpgsqlDbType.Double);
    public override bool Bool() => x.Read<bool>(NpgsqlDbType.Boolean);
    public override string Text() => x.Read<string>(NpgsqlDbType.Text);

    public override string? TextOrNull()
    {
        if (!x.IsNull) return x.Read<string>(NpgsqlDbType.Text);
        x.Skip();
        return null;
    }

    public override DateTimeOffset? TimeOrNull()
    {
        if (!x.IsNull) return new DateTimeOffset(x.Read<DateTime>(NpgsqlDbType.TimestampTz), TimeSpan.Zero);
        x.Skip();
        return null;
    }

    public override ValueTask DisposeAsync() => x.DisposeAsync();
}

/// <summary>Any ADO.NET data reader (SQLite).</summary>
internal sealed class ReaderSource(DbCommand cmd, DbDataReader r) : RowSource
{
    private int _col;

    public override async ValueTask<bool> NextAsync(CancellationToken ct)
    {
        _col = 0;
        return await r.ReadAsync(ct);
    }

    public override int Int() => r.GetInt32(_col++);
    public override long Long() => r.GetInt64(_col++);
    public override double Double() => r.GetDouble(_col++);
    public override bool Bool() => r.GetBoolean(_col++);
    public override string Text() => r.GetString(_col++);
    public override string? TextOrNull() => r.IsDBNull(_col) ? Skip<string>() : r.GetString(_col++);
    public override DateTimeOffset? TimeOrNull() => r.IsDBNull(_col) ? Skip<DateTimeOffset?>() : r.GetFieldValue<DateTimeOffset>(_col++);

    private T? Skip<T>()
    {
        _col++;
        return default;
    }

    public override async ValueTask DisposeAsync()
    {
        await r.DisposeAsync();
        await cmd.DisposeAsync();
    }
}
