using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.FabricStore;

/// <summary>Column lists of the bulk tables, the JSON of stored documents, and raw ADO.NET helpers, shared by the reader and the inventory's writer.</summary>
public static class FabricTables
{
    /// <summary>Columns of <c>switches</c>, in bulk order (the fabric first).</summary>
    public static readonly string[] SwitchColumns = ["fabric", "id", "name", "plane", "tier", "radix", "port_speed_gbps", "model", "grp", "guid", "status", "reason", "changed_by", "since"];
    /// <summary>Columns of <c>hosts</c>.</summary>
    public static readonly string[] HostColumns = ["fabric", "id", "name", "gpus"];
    /// <summary>Columns of <c>nics</c>.</summary>
    public static readonly string[] NicColumns = ["fabric", "host_id", "nic_index", "plane", "speed_gbps", "guid"];
    /// <summary>Columns of <c>links</c>.</summary>
    public static readonly string[] LinkColumns = ["fabric", "id", "a_is_host", "a_device", "a_port", "b_is_host", "b_device", "b_port", "speed_gbps", "role", "medium", "length_m", "plane", "status", "reason", "changed_by", "since"];
    /// <summary>Columns of <c>transceivers</c>.</summary>
    public static readonly string[] TransceiverColumns = ["fabric", "id", "serial", "kind", "link_id", "side", "vendor", "part_number", "firmware", "power_w", "picojoules_per_bit", "thresholds_id"];
    /// <summary>Columns of <c>dom_thresholds</c>.</summary>
    public static readonly string[] DomThresholdsColumns = ["fabric", "id", "temp_high_alarm_c", "temp_high_warn_c", "vcc_low_alarm_v", "vcc_high_alarm_v", "bias_high_alarm_ma",
        "tx_power_low_alarm_dbm", "rx_power_low_alarm_dbm", "rx_power_low_warn_dbm", "rx_power_high_alarm_dbm", "pre_fec_ber_warn", "pre_fec_ber_alarm"];

    /// <summary>JSON for stored documents (parameters, change lists): camelCase, enums as strings, tolerant of extra members.</summary>
    public static readonly JsonSerializerOptions StoreJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The context's connection, opened if needed (EF closes it again when the context is disposed).</summary>
    public static async Task<DbConnection> OpenAsync(DbContext db, CancellationToken ct)
    {
        var conn = db.Database.GetDbConnection();
        if (conn.State != System.Data.ConnectionState.Open) await db.Database.OpenConnectionAsync(ct);
        return conn;
    }

    /// <summary>A command with named parameters (null as DBNull, times in UTC).</summary>
    public static DbCommand Command(DbConnection conn, DbTransaction? tx, string sql, params (string Name, object? Value)[] ps)
    {
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (n, v) in ps)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = n;
            p.Value = v switch
            {
                null => DBNull.Value,
                DateTimeOffset d => d.ToUniversalTime(),
                _ => v,
            };
            cmd.Parameters.Add(p);
        }
        return cmd;
    }
}
