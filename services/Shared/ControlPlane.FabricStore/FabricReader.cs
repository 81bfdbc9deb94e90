using System.Data.Common;
using System.Text.Json;
using ControlPlane.Fabric;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.FabricStore;

/// <summary>Read-only access to the stored fabrics, for every service that needs topologies.</summary>
public interface IFabricReader
{
    /// <summary>Names of the stored fabrics, in order.</summary>
    Task<IReadOnlyList<string>> ListFabricsAsync(CancellationToken cancellationToken = default);

    /// <summary>The current snapshot (structure plus every link and switch state) of a fabric, or null when unknown.</summary>
    Task<FabricSnapshot?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// Loads fabrics from the inventory tables: one read-only transaction per snapshot, the big tables read as raw rows
/// (binary COPY on PostgreSQL, a data reader on SQLite). The inventory's repository delegates its loads here.
/// </summary>
public sealed class FabricReader(InventoryDbContext db) : IFabricReader
{
    /// <summary>Per-step durations of the last snapshot load (table name to time), for benchmarks and logs.</summary>
    public List<(string Step, TimeSpan Elapsed)> LastTimings { get; } = [];

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ListFabricsAsync(CancellationToken cancellationToken = default) =>
        await db.Fabrics.AsNoTracking().OrderBy(f => f.Name).Select(f => f.Name).ToListAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task<FabricSnapshot?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        var ct = cancellationToken;
        var conn = await FabricTables.OpenAsync(db, ct);
        // One read-only transaction so every table is read at the same version.
        await using var tx = await conn.BeginTransactionAsync(db.Database.IsNpgsql() ? System.Data.IsolationLevel.RepeatableRead : System.Data.IsolationLevel.Serializable, ct);
        TopologyKind kind;
        long version;
        string? parametersJson;
        int planeCount;
        int switchCount, hostCount, linkCount, xcvrCount;
        await using (var cmd = FabricTables.Command(conn, tx, "SELECT kind, version, parameters, planes, switch_count, host_count, link_count, transceiver_count FROM fabrics WHERE name = @n", ("n", name)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await r.ReadAsync(ct)) return null;
            kind = (TopologyKind)r.GetInt32(0);
            version = r.GetInt64(1);
            parametersJson = r.IsDBNull(2) ? null : r.GetString(2);
            planeCount = r.GetInt32(3);
            switchCount = r.GetInt32(4);
            hostCount = r.GetInt32(5);
            linkCount = r.GetInt32(6);
            xcvrCount = r.GetInt32(7);
        }
        LastTimings.Clear();
        var parameters = parametersJson is null ? null : JsonSerializer.Deserialize<GeneratorParameters>(parametersJson, FabricTables.StoreJson);

        // Sequential on purpose: reading the big tables on extra connections (sharing this snapshot through
        // pg_export_snapshot) measured slower on a busy 2-core machine, where decoding rows is the bottleneck.
        var (switches, switchStates, switchTime) = await ReadSwitchesAsync(conn, tx, name, switchCount, ct);
        var (hosts, hostTime) = await ReadHostsAsync(conn, tx, name, hostCount, ct);
        var (links, linkStates, linkTime) = await ReadLinksAsync(conn, tx, name, linkCount, ct);
        var (xcvrs, xcvrTime) = await ReadTransceiversAsync(conn, tx, name, xcvrCount, ct);
        await tx.CommitAsync(ct);
        LastTimings.AddRange([("switches", switchTime), ("hosts+nics", hostTime), ("links", linkTime), ("transceivers", xcvrTime)]);
        if (Array.IndexOf(switches, null) is var ms and >= 0) throw new InvalidDataException($"fabric '{name}': switch {ms} is missing");
        if (Array.IndexOf(hosts, null) is var mh and >= 0) throw new InvalidDataException($"fabric '{name}': host {mh} is missing");
        if (Array.IndexOf(links, null) is var ml and >= 0) throw new InvalidDataException($"fabric '{name}': link {ml} is missing");
        if (Array.IndexOf(xcvrs, null) is var mx and >= 0) throw new InvalidDataException($"fabric '{name}': transceiver {mx} is missing");

        var planes = Enumerable.Range(0, planeCount).Select(i => new Plane(i, $"plane-{i}")).ToList();
        var topology = new FabricTopology(name, kind, planes, switches, hosts, links, xcvrs, parameters);
        return FabricSnapshot.Create(topology, version, linkStates, switchStates);
    }

    // No ORDER BY in the readers: ids are array indices, so rows are placed where they belong whatever order the
    // server sends them in (sorting half a million rows would cost more than reading them).

    /// <summary>Keeps one instance of strings repeated across many rows (models, vendors, part numbers).</summary>
    private sealed class Interner
    {
        private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

        public string Get(string s)
        {
            if (_strings.TryGetValue(s, out var v)) return v;
            if (_strings.Count < 4096) _strings[s] = s;
            return s;
        }
    }

    private static async Task<(Switch[], ElementState[], TimeSpan)> ReadSwitchesAsync(DbConnection conn, DbTransaction tx, string name, int count, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var intern = new Interner();
        var switches = new Switch[count];
        var states = new ElementState[count];
        await using (var r = await RowSource.OpenAsync(conn, tx, "switches", FabricTables.SwitchColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
            {
                var id = Index(r.Int(), count, "switch");
                switches[id] = new Switch(id, r.Text(), r.Int(), (SwitchTier)r.Int(), r.Int(), r.Int(), intern.Get(r.Text()), r.Int(), r.TextOrNull());
                states[id] = ReadState(r);
            }
        }
        return (switches, states, sw.Elapsed);
    }

    private static async Task<(Host[], TimeSpan)> ReadHostsAsync(DbConnection conn, DbTransaction tx, string name, int count, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var nicsByHost = new List<Nic>[count];
        await using (var r = await RowSource.OpenAsync(conn, tx, "nics", FabricTables.NicColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
            {
                var h = Index(r.Int(), count, "host");
                (nicsByHost[h] ??= new List<Nic>(8)).Add(new Nic(r.Int(), r.Int(), r.Int(), r.TextOrNull()));
            }
        }
        var hosts = new Host[count];
        await using (var r = await RowSource.OpenAsync(conn, tx, "hosts", FabricTables.HostColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
            {
                var id = Index(r.Int(), count, "host");
                var nics = nicsByHost[id] ?? [];
                nics.Sort((x, y) => x.Index.CompareTo(y.Index));
                hosts[id] = new Host(id, r.Text(), r.Int(), nics);
            }
        }
        return (hosts, sw.Elapsed);
    }

    private static async Task<(Link[], ElementState[], TimeSpan)> ReadLinksAsync(DbConnection conn, DbTransaction tx, string name, int count, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var links = new Link[count];
        var states = new ElementState[count];
        await using (var r = await RowSource.OpenAsync(conn, tx, "links", FabricTables.LinkColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
            {
                var id = Index(r.Int(), count, "link");
                var a = new LinkEnd(r.Bool(), r.Int(), r.Int());
                var b = new LinkEnd(r.Bool(), r.Int(), r.Int());
                links[id] = new Link(id, a, b, r.Int(), (LinkRole)r.Int(), (MediumKind)r.Int(), r.Double(), r.Int());
                states[id] = ReadState(r);
            }
        }
        return (links, states, sw.Elapsed);
    }

    private static async Task<(Transceiver[], TimeSpan)> ReadTransceiversAsync(DbConnection conn, DbTransaction tx, string name, int count, CancellationToken ct)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var intern = new Interner();
        var thresholdSets = new Dictionary<int, DomThresholds>();
        await using (var r = await RowSource.OpenAsync(conn, tx, "dom_thresholds", FabricTables.DomThresholdsColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
                thresholdSets[r.Int()] = new DomThresholds(r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Double());
        }
        var xcvrs = new Transceiver[count];
        await using (var r = await RowSource.OpenAsync(conn, tx, "transceivers", FabricTables.TransceiverColumns[1..], name, ct))
        {
            while (await r.NextAsync(ct))
            {
                var id = Index(r.Int(), count, "transceiver");
                var serial = r.Text();
                var medium = (MediumKind)r.Int();
                var link = r.Int();
                var side = (LinkSide)r.Int();
                var vendor = intern.Get(r.Text());
                var part = intern.Get(r.Text());
                var firmware = intern.Get(r.Text());
                var power = r.Double();
                var pj = r.Double();
                var setId = r.Int();
                var d = thresholdSets.GetValueOrDefault(setId) ?? throw new InvalidDataException($"fabric '{name}': transceiver {id} refers to missing threshold set {setId}");
                xcvrs[id] = new Transceiver(id, serial, medium, link, side, vendor, part, firmware, power, pj, d);
            }
        }
        return (xcvrs, sw.Elapsed);
    }

    private static int Index(int id, int count, string what) =>
        (uint)id < (uint)count ? id : throw new InvalidDataException($"stored {what} id {id} is outside 0..{count - 1}: the fabric row and its elements disagree");

    private static ElementState ReadState(RowSource r)
    {
        var status = (ElementStatus)r.Int();
        var reason = r.TextOrNull();
        var by = r.TextOrNull();
        var since = r.TimeOrNull();
        return status == ElementStatus.Up && reason is null && by is null && since is null ? ElementState.InitialUp : new ElementState(status, reason, by, since);
    }
}
