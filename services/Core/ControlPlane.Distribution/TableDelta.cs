using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace ControlPlane.Distribution;

/// <summary>
/// The difference between two versions of one switch's table. It applies whole or not at all: to the exact base
/// version only, and only when the result's digest equals <see cref="Digest"/>.
/// </summary>
public sealed class TableDelta
{
    /// <summary>Creates a delta.</summary>
    public TableDelta(
        string switchName,
        ulong baseVersion,
        ulong version,
        IEnumerable<NextHopGroup> upsertGroups,
        IEnumerable<int> removeGroupIds,
        IEnumerable<KeyValuePair<RouteKey, RouteEntry>> upsertRoutes,
        IEnumerable<RouteKey> removeRoutes,
        ReadOnlySpan<byte> digest)
    {
        SwitchName = switchName;
        BaseVersion = baseVersion;
        Version = version;
        UpsertGroups = [.. upsertGroups];
        RemoveGroupIds = [.. removeGroupIds];
        UpsertRoutes = [.. upsertRoutes];
        RemoveRoutes = [.. removeRoutes];
        Digest = [.. digest];
    }

    // Takes the arrays over (TableDiff builds them at their exact size).
    internal TableDelta(string switchName, ulong baseVersion, ulong version, NextHopGroup[] upsertGroups, int[] removeGroupIds,
        KeyValuePair<RouteKey, RouteEntry>[] upsertRoutes, RouteKey[] removeRoutes, ReadOnlySpan<byte> digest)
    {
        SwitchName = switchName;
        BaseVersion = baseVersion;
        Version = version;
        UpsertGroups = ImmutableCollectionsMarshal.AsImmutableArray(upsertGroups);
        RemoveGroupIds = ImmutableCollectionsMarshal.AsImmutableArray(removeGroupIds);
        UpsertRoutes = ImmutableCollectionsMarshal.AsImmutableArray(upsertRoutes);
        RemoveRoutes = ImmutableCollectionsMarshal.AsImmutableArray(removeRoutes);
        Digest = [.. digest];
    }

    /// <summary>Switch the delta is for.</summary>
    public string SwitchName { get; }

    /// <summary>Version the receiver must hold exactly.</summary>
    public ulong BaseVersion { get; }

    /// <summary>Version after applying.</summary>
    public ulong Version { get; }

    /// <summary>Groups added or changed.</summary>
    public ImmutableArray<NextHopGroup> UpsertGroups { get; }

    /// <summary>Groups removed.</summary>
    public ImmutableArray<int> RemoveGroupIds { get; }

    /// <summary>Routes added or changed.</summary>
    public ImmutableArray<KeyValuePair<RouteKey, RouteEntry>> UpsertRoutes { get; }

    /// <summary>Routes removed.</summary>
    public ImmutableArray<RouteKey> RemoveRoutes { get; }

    /// <summary>Digest of the resulting table.</summary>
    public ImmutableArray<byte> Digest { get; }

    /// <summary>True when nothing changes but the version.</summary>
    public bool IsEmpty => UpsertGroups.IsEmpty && RemoveGroupIds.IsEmpty && UpsertRoutes.IsEmpty && RemoveRoutes.IsEmpty;

    /// <summary>Number of group and route changes.</summary>
    public int ChangeCount => UpsertGroups.Length + RemoveGroupIds.Length + UpsertRoutes.Length + RemoveRoutes.Length;

    /// <summary>
    /// Applies the delta to <paramref name="table"/>, whole or not at all. Refused (the input table is immutable and
    /// stays as it was) when the switch differs, the table is not at <see cref="BaseVersion"/>, a removed group is still
    /// used by a route, a route points to a missing group, or the resulting digest differs from <see cref="Digest"/>.
    /// </summary>
    public DeltaApplyResult ApplyTo(SwitchTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.SwitchName != SwitchName)
            return DeltaApplyResult.Refused($"delta for switch '{SwitchName}' cannot apply to the table of '{table.SwitchName}'");
        if (table.Version != BaseVersion)
            return DeltaApplyResult.Refused($"base version mismatch: delta needs v{BaseVersion}, table holds v{table.Version}");
        var groups = SortedMerge.Apply(table.Groups, RemoveGroupIds.AsSpan(), UpsertGroups.Select(g => new KeyValuePair<int, NextHopGroup>(g.Id, g)));
        var routes = SortedMerge.Apply(table.Routes, RemoveRoutes.AsSpan(), UpsertRoutes);
        for (var i = 0; i < routes.Count; i++)
        {
            var r = routes.ValueAt(i);
            if (r.GroupId != SwitchTable.LocalGroup && !groups.ContainsKey(r.GroupId))
                return DeltaApplyResult.Refused($"route {routes.KeyAt(i)} would point to missing group {r.GroupId}");
        }
        var result = SwitchTable.FromParts(SwitchName, Version, table.GroupSize, groups, routes);
        if (!result.Digest.SequenceEqual(Digest.AsSpan()))
            return DeltaApplyResult.Refused($"digest mismatch after apply: expected {TableDigest.Short(Digest.AsSpan())}, got {TableDigest.Short(result.Digest)}");
        return new DeltaApplyResult(result, null);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{SwitchName} v{BaseVersion}->v{Version}: +{UpsertGroups.Length}/-{RemoveGroupIds.Length} groups, +{UpsertRoutes.Length}/-{RemoveRoutes.Length} routes";
}

/// <summary>Outcome of <see cref="TableDelta.ApplyTo"/>: the new table, or why it was refused.</summary>
/// <param name="Table">The resulting table when applied.</param>
/// <param name="Reason">Why it was refused, when refused.</param>
public sealed record DeltaApplyResult(SwitchTable? Table, string? Reason)
{
    /// <summary>True when applied.</summary>
    public bool Applied => Table is not null;

    /// <summary>A refusal.</summary>
    public static DeltaApplyResult Refused(string reason) => new(null, reason);
}

/// <summary>Computes the delta between two versions of one switch's table.</summary>
public static class TableDiff
{
    /// <summary>
    /// The delta that turns <paramref name="from"/> into <paramref name="to"/>: groups and routes that are new or
    /// changed are upserted, the others that vanished are removed.
    /// </summary>
    /// <exception cref="ArgumentException">The tables belong to different switches or have different group sizes.</exception>
    public static TableDelta Compute(SwitchTable from, SwitchTable to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.SwitchName != to.SwitchName) throw new ArgumentException($"tables of different switches: '{from.SwitchName}' and '{to.SwitchName}'", nameof(to));
        if (from.GroupSize != to.GroupSize) throw new ArgumentException($"group size changed ({from.GroupSize} -> {to.GroupSize}): send a full table", nameof(to));
        // Both sides are sorted maps: one merge per map instead of a binary search per entry, in the same order (ascending
        // keys) as the lookups gave. The routes are merged twice, to count and then to fill arrays of the exact size: a
        // merge costs less than growing lists of entries that hold references.
        var (fg, tg) = (from.Groups, to.Groups);
        var upG = new List<NextHopGroup>();
        var rmG = new List<int>();
        for (int i = 0, j = 0; i < fg.Count || j < tg.Count;)
        {
            var cmp = i == fg.Count ? 1 : j == tg.Count ? -1 : fg.KeyAt(i).CompareTo(tg.KeyAt(j));
            if (cmp < 0) rmG.Add(fg.KeyAt(i++));
            else if (cmp > 0) upG.Add(tg.ValueAt(j++));
            else
            {
                if (!fg.ValueAt(i).SameMembers(tg.ValueAt(j))) upG.Add(tg.ValueAt(j));
                i++;
                j++;
            }
        }
        var (fr, tr) = (from.Routes, to.Routes);
        var (nUp, nRm) = ReferenceEquals(fr, tr) ? (0, 0) : MergeRoutes(fr, tr, null, null);
        var upR = nUp == 0 ? [] : new KeyValuePair<RouteKey, RouteEntry>[nUp];
        var rmR = nRm == 0 ? [] : new RouteKey[nRm];
        if (nUp + nRm > 0) MergeRoutes(fr, tr, upR, rmR);
        return new TableDelta(to.SwitchName, from.Version, to.Version, [.. upG], [.. rmG], upR, rmR, to.Digest);
    }

    // Routes of `to` that are new or changed, and keys of `from` that vanished: counted, and written when arrays are given.
    private static (int Upserts, int Removals) MergeRoutes(SortedMap<RouteKey, RouteEntry> fr, SortedMap<RouteKey, RouteEntry> tr,
        KeyValuePair<RouteKey, RouteEntry>[]? up, RouteKey[]? rm)
    {
        int nUp = 0, nRm = 0;
        for (int i = 0, j = 0; i < fr.Count || j < tr.Count;)
        {
            var cmp = i == fr.Count ? 1 : j == tr.Count ? -1 : fr.KeyAt(i).CompareTo(tr.KeyAt(j));
            if (cmp < 0)
            {
                if (rm is not null) rm[nRm] = fr.KeyAt(i);
                nRm++;
                i++;
            }
            else if (cmp > 0)
            {
                if (up is not null) up[nUp] = new(tr.KeyAt(j), tr.ValueAt(j));
                nUp++;
                j++;
            }
            else
            {
                if (fr.ValueAt(i) != tr.ValueAt(j))
                {
                    if (up is not null) up[nUp] = new(tr.KeyAt(j), tr.ValueAt(j));
                    nUp++;
                }
                i++;
                j++;
            }
        }
        return (nUp, nRm);
    }
}
