namespace ControlPlane.Distribution;

/// <summary>What <see cref="RoutingFeed.Accept"/> made of one message from routing.</summary>
public enum FeedVerdict
{
    /// <summary>Every table is known: full ones as sent, deltas applied to the table routing based them on.</summary>
    Accepted,

    /// <summary>A switch already holds a newer routing version than the message: an old message, redelivered or overtaken.</summary>
    Stale,

    /// <summary>A delta's base is not the table held (a message was missed) or the set is inconsistent: routing must send complete tables.</summary>
    NeedsFullTables,
}

/// <summary>The outcome of one message: the full tables (version 0, as routing sends them) when accepted, else why not.</summary>
public sealed record FeedResult(FeedVerdict Verdict, IReadOnlyList<SwitchTable> Tables, string? Problem)
{
    /// <summary>Accepted with these tables.</summary>
    public static FeedResult Ok(IReadOnlyList<SwitchTable> tables) => new(FeedVerdict.Accepted, tables, null);
}

/// <summary>
/// The tables routing has sent, per switch, with the routing version each was sent at; turns a message of full tables
/// and deltas (each delta based on the version routing last sent for that switch) back into full tables. A message is
/// taken whole or not at all: one unknown base refuses it (a partial set would break make-before-break) and nothing
/// held changes. Messages must be given in the order routing published them; an older one is refused as stale, except a
/// complete one (routing's whole set, as sent at its start or on request): routing numbers its versions from 1 again
/// when it restarts, and its first complete set must replace what an earlier instance sent.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class RoutingFeed
{
    private readonly Dictionary<string, (long Version, SwitchTable Table)> _held = new(StringComparer.Ordinal);

    /// <summary>Switches with a table from routing.</summary>
    public int Count => _held.Count;

    /// <summary>Forgets everything (the next message must carry full tables).</summary>
    public void Clear() => _held.Clear();

    /// <summary>Takes one message of routing version <paramref name="routingVersion"/>; <paramref name="complete"/> when it is part of a complete set.</summary>
    public FeedResult Accept(long routingVersion, bool complete, IReadOnlyList<SwitchTable> tables, IReadOnlyList<TableDelta> deltas)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(deltas);
        foreach (var name in complete ? [] : tables.Select(t => t.SwitchName).Concat(deltas.Select(d => d.SwitchName)))
        {
            if (_held.TryGetValue(name, out var h) && h.Version > routingVersion)
                return new(FeedVerdict.Stale, [], $"{name} already holds routing v{h.Version}, the message is v{routingVersion}");
        }
        var applied = new SwitchTable?[deltas.Count];
        var problems = new string?[deltas.Count];
        void Apply(int i)
        {
            var d = deltas[i];
            if (!_held.TryGetValue(d.SwitchName, out var h)) { problems[i] = $"{d.SwitchName}: a delta from v{d.BaseVersion} but no table held"; return; }
            // The same message again (a redelivery): its result is what is held.
            if (h.Version == routingVersion && (long)d.Version == routingVersion && h.Table.Digest.SequenceEqual(d.Digest.AsSpan())) { applied[i] = h.Table; return; }
            if ((long)d.BaseVersion != h.Version) { problems[i] = $"{d.SwitchName}: a delta from v{d.BaseVersion} but v{h.Version} held"; return; }
            if ((long)d.Version != routingVersion) { problems[i] = $"{d.SwitchName}: a delta to v{d.Version} in a message of v{routingVersion}"; return; }
            var r = d.ApplyTo(h.Table.WithVersion(d.BaseVersion));
            if (r.Table is null) problems[i] = $"{d.SwitchName}: {r.Reason}";
            else applied[i] = r.Table.WithVersion(0);
        }
        // Applying is a merge and a digest per switch, on the convergence path: spread over the cores for a big set.
        if (deltas.Count < 16) for (var i = 0; i < deltas.Count; i++) Apply(i);
        else Parallel.For(0, deltas.Count, Apply);
        if (Array.FindIndex(problems, p => p is not null) is var bad and >= 0) return new(FeedVerdict.NeedsFullTables, [], problems[bad]);
        var result = new List<SwitchTable>(tables.Count + deltas.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tables.Concat(applied!))
        {
            if (!names.Add(t!.SwitchName)) return new(FeedVerdict.NeedsFullTables, [], $"{t.SwitchName} appears twice in one message");
            result.Add(t.Version == 0 ? t : t.WithVersion(0));
        }
        foreach (var t in result) _held[t.SwitchName] = (routingVersion, t);
        return FeedResult.Ok(result);
    }
}
