using ControlPlane.Fabric;

namespace ControlPlane.Distribution;

/// <summary>What a switch's forwarding table can hold.</summary>
/// <param name="MaxGroups">Weighted next-hop groups.</param>
/// <param name="MaxMembersPerGroup">Members in one group.</param>
/// <param name="MaxGroupSize">Buckets per group the ASIC supports.</param>
public sealed record SwitchCapacity(int MaxGroups, int MaxMembersPerGroup, int MaxGroupSize)
{
    /// <summary>Default buckets per group when the model does not say.</summary>
    public const int DefaultMaxGroupSize = 256;

    /// <summary>Defaults for a switch of the fabric model: <see cref="Switch.DefaultMaxGroups"/> groups, one member per port.</summary>
    public static SwitchCapacity For(Switch sw)
    {
        ArgumentNullException.ThrowIfNull(sw);
        return new(Switch.DefaultMaxGroups, sw.Radix, DefaultMaxGroupSize);
    }

    /// <summary>
    /// Why <paramref name="table"/> would not fit, each naming the field ("table full: 4097 groups > 4096"); empty when it fits.
    /// </summary>
    public IReadOnlyList<FieldError> Check(SwitchTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var e = new List<FieldError>();
        if (table.Groups.Count > MaxGroups) e.Add(new("groups", $"table full: {table.Groups.Count} groups > {MaxGroups}"));
        if (table.GroupSize > MaxGroupSize) e.Add(new("groupSize", $"group size {table.GroupSize} > {MaxGroupSize} buckets"));
        foreach (var g in table.Groups.Values)
        {
            if (g.Members.Length > MaxMembersPerGroup)
            {
                e.Add(new($"groups[{g.Id}].members", $"{g.Members.Length} members > {MaxMembersPerGroup}"));
                break; // one example is enough; the coarsener fixes all
            }
        }
        return e;
    }
}

/// <summary>Outcome of <see cref="Coarsening.Fit"/>.</summary>
/// <param name="Table">The table that fits (the input when it already fit), or null when nothing worked.</param>
/// <param name="Steps">What was done, in order, for logs and events.</param>
/// <param name="Reason">Why it could not fit, when <paramref name="Table"/> is null.</param>
public sealed record CoarsenResult(SwitchTable? Table, IReadOnlyList<string> Steps, string? Reason)
{
    /// <summary>True when a fitting table was produced.</summary>
    public bool Fits => Table is not null;
}

/// <summary>
/// Reduces a table that would not fit a switch, so the routing engine can fall back to coarser weights instead of
/// failing: keep the heaviest members, rescale to a smaller group size, then merge groups whose weights are near
/// identical by quantizing weights ever more coarsely, down to equal weights (plain ECMP) per member set.
/// Every result is valid: each group's weights sum to the group size, every route points to an existing group.
/// </summary>
public static class Coarsening
{
    /// <summary>Makes <paramref name="table"/> fit <paramref name="capacity"/>, or says why it cannot.</summary>
    public static CoarsenResult Fit(SwitchTable table, SwitchCapacity capacity)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(capacity);
        var steps = new List<string>();
        if (capacity.Check(table).Count == 0) return new(table, steps, null);
        var size = Math.Min(table.GroupSize, capacity.MaxGroupSize);
        if (size != table.GroupSize) steps.Add($"group size {table.GroupSize} -> {size}");
        var maxMembers = Math.Min(capacity.MaxMembersPerGroup, size);
        if (table.Groups.Values.Any(g => g.Members.Length > maxMembers)) steps.Add($"kept the {maxMembers} heaviest members per group");
        var groups = table.Groups.Values.ToDictionary(g => g.Id, g => Reshape(g, size, maxMembers, 1));
        var t = Dedupe(table, size, groups);
        for (var q = 2; t.Groups.Count > capacity.MaxGroups && q <= size; q *= 2)
        {
            var quantum = q;
            groups = table.Groups.Values.ToDictionary(g => g.Id, g => Reshape(g, size, maxMembers, quantum));
            t = Dedupe(table, size, groups);
            steps.Add($"weights quantized to multiples of {q}: {t.Groups.Count} groups");
        }
        if (t.Groups.Count > capacity.MaxGroups)
        {
            groups = table.Groups.Values.ToDictionary(g => g.Id, g => Reshape(g, size, maxMembers, size));
            t = Dedupe(table, size, groups);
            steps.Add($"equal weights per member set: {t.Groups.Count} groups");
        }
        var left = capacity.Check(t);
        return left.Count == 0 ? new(t, steps, null) : new(null, steps, string.Join("; ", left));
    }

    // Keeps the heaviest members and apportions `size` buckets over them in multiples of `quantum` (largest remainder),
    // dropping members that round to nothing but keeping at least one. quantum >= size gives equal weights.
    private static GroupMember[] Reshape(NextHopGroup g, int size, int maxMembers, int quantum)
    {
        var kept = g.Members.OrderByDescending(m => m.Weight).ThenBy(m => m.Port).Take(maxMembers).ToList();
        if (quantum >= size) return Apportion(kept.Select(m => m with { Weight = 1 }).ToList(), size, 1);
        var units = size / quantum;
        var w = Apportion(kept, units, quantum).Where(m => m.Weight > 0).ToList();
        var leftover = size - w.Sum(m => m.Weight);
        if (leftover != 0)
        {
            var i = w.FindIndex(m => m.Weight == w.Max(x => x.Weight));
            w[i] = w[i] with { Weight = w[i].Weight + leftover };
        }
        return [.. w];
    }

    private static GroupMember[] Apportion(List<GroupMember> members, int units, int scale)
    {
        var total = (double)members.Sum(m => m.Weight);
        var exact = members.Select(m => m.Weight / total * units).ToArray();
        var whole = exact.Select(x => (int)Math.Floor(x)).ToArray();
        var rest = units - whole.Sum();
        foreach (var i in Enumerable.Range(0, members.Count).OrderByDescending(i => exact[i] - whole[i]).ThenBy(i => members[i].Port).Take(rest)) whole[i]++;
        if (whole.All(x => x == 0)) whole[0] = units;
        return [.. members.Select((m, i) => m with { Weight = whole[i] * scale })];
    }

    private static SwitchTable Dedupe(SwitchTable table, int size, Dictionary<int, GroupMember[]> groups)
    {
        var byMembers = new Dictionary<string, int>();
        var remap = new Dictionary<int, int>();
        var kept = new List<NextHopGroup>();
        foreach (var (id, members) in groups.OrderBy(kv => kv.Key))
        {
            var g = new NextHopGroup(id, members);
            var key = string.Join(",", g.Members.Select(m => $"{m.Port}:{m.Weight}"));
            if (!byMembers.TryGetValue(key, out var existing))
            {
                byMembers[key] = existing = id;
                kept.Add(g);
            }
            remap[id] = existing;
        }
        var routes = table.Routes.Select(r => new KeyValuePair<RouteKey, RouteEntry>(r.Key,
            r.Value.GroupId == SwitchTable.LocalGroup ? r.Value : r.Value with { GroupId = remap[r.Value.GroupId] }));
        // Groups no route uses any more are dropped: they only cost table space.
        var used = routes.Select(r => r.Value.GroupId).ToHashSet();
        return new SwitchTable(table.SwitchName, table.Version, size, kept.Where(g => used.Contains(g.Id)), routes);
    }
}
