using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Runtime.InteropServices;
using System.Text;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution;

/// <summary>How a route's traffic is spread over its group's members (mirrors fabric.v1 SpreadMode).</summary>
public enum SpreadMode
{
    /// <summary>Per-flow hashing onto one member (ECMP/WCMP).</summary>
    Hash = 1,

    /// <summary>Per-packet spraying by weight.</summary>
    Spray = 2,
}

/// <summary>One output port of a weighted next-hop group.</summary>
/// <param name="Port">Switch port, 1-based.</param>
/// <param name="Weight">Buckets; the members of a group sum to the table's group size.</param>
public readonly record struct GroupMember(int Port, int Weight);

/// <summary>Key of a route: a destination (leaf name or prefix) and a traffic class. Ordered ordinally.</summary>
/// <param name="Destination">Destination leaf name or prefix.</param>
/// <param name="TrafficClass">Traffic class, e.g. "ep" or "default".</param>
public readonly record struct RouteKey(string Destination, string TrafficClass) : IComparable<RouteKey>
{
    /// <inheritdoc/>
    public int CompareTo(RouteKey other)
    {
        var c = string.CompareOrdinal(Destination, other.Destination);
        return c != 0 ? c : string.CompareOrdinal(TrafficClass, other.TrafficClass);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Destination}/{TrafficClass}";
}

/// <summary>Where one route points.</summary>
/// <param name="GroupId">Next-hop group id; <see cref="SwitchTable.LocalGroup"/> (0) means the destination is this switch.</param>
/// <param name="Mode">Spread mode over the group's members.</param>
public readonly record struct RouteEntry(int GroupId, SpreadMode Mode);

/// <summary>A weighted next-hop group, members sorted by port. Compared by value.</summary>
public sealed class NextHopGroup : IEquatable<NextHopGroup>
{
    /// <summary>Creates a group; members are sorted by port (their order carries no meaning).</summary>
    public NextHopGroup(int id, IEnumerable<GroupMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Id = id;
        GroupMember[] a = [.. members];
        var sorted = true;
        for (var i = 1; i < a.Length && sorted; i++) sorted = Compare(a[i - 1], a[i]) <= 0;
        if (!sorted) Array.Sort(a, Compare);
        Members = ImmutableCollectionsMarshal.AsImmutableArray(a);
    }

    private NextHopGroup(int id, ImmutableArray<GroupMember> sortedMembers)
    {
        Id = id;
        Members = sortedMembers;
    }

    private static int Compare(GroupMember a, GroupMember b) => a.Port != b.Port ? a.Port.CompareTo(b.Port) : a.Weight.CompareTo(b.Weight);

    /// <summary>Group id, 1 or more (0 is reserved for "local").</summary>
    public int Id { get; }

    /// <summary>Members sorted by port.</summary>
    public ImmutableArray<GroupMember> Members { get; }

    /// <summary>Sum of member weights.</summary>
    public int TotalWeight
    {
        get
        {
            var s = 0;
            foreach (var m in Members) s += m.Weight;
            return s;
        }
    }

    /// <summary>True when both have the same members and weights, ignoring the id.</summary>
    public bool SameMembers(NextHopGroup other) => Members.AsSpan().SequenceEqual(other.Members.AsSpan());

    /// <summary>The same members under another id.</summary>
    public NextHopGroup WithId(int id) => new(id, Members);

    /// <inheritdoc/>
    public bool Equals(NextHopGroup? other) => other is not null && other.Id == Id && SameMembers(other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NextHopGroup);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Id);
        foreach (var m in Members) h.Add(m);
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => $"#{Id}[{string.Join(",", Members.Select(m => $"{m.Port}:{m.Weight}"))}]";
}

/// <summary>
/// The whole forwarding table of one switch at one version: weighted next-hop groups shared by routes
/// keyed by (destination, traffic class). Immutable; compared by value; carries a canonical SHA-256 digest
/// of its groups and routes (see <see cref="TableDigest"/>), which is what agents read back from hardware.
/// </summary>
public sealed class SwitchTable : IEquatable<SwitchTable>
{
    /// <summary>Group id meaning "the destination is this switch" (deliver locally).</summary>
    public const int LocalGroup = 0;

    private byte[]? _digest;

    /// <summary>Creates a table. Duplicate group ids or route keys are rejected (last-wins would hide a bug).</summary>
    /// <exception cref="FabricInputException">A group id or route key appears twice.</exception>
    public SwitchTable(string switchName, ulong version, int groupSize, IEnumerable<NextHopGroup> groups, IEnumerable<KeyValuePair<RouteKey, RouteEntry>> routes)
        : this(switchName, version, groupSize, GroupMap(groups), RouteMap(routes), null)
    {
    }

    private SwitchTable(string switchName, ulong version, int groupSize, SortedMap<int, NextHopGroup> groups, SortedMap<RouteKey, RouteEntry> routes, byte[]? digest)
    {
        SwitchName = switchName;
        Version = version;
        GroupSize = groupSize;
        Groups = groups;
        Routes = routes;
        _digest = digest;
    }

    private static SortedMap<int, NextHopGroup> GroupMap(IEnumerable<NextHopGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        NextHopGroup[] list = [.. groups];
        var ids = new int[list.Length];
        for (var i = 0; i < list.Length; i++) ids[i] = list[i].Id;
        return SortedMap<int, NextHopGroup>.FromArrays(ids, list, list.Length, id => new FabricInputException($"groups[{id}]", "group id appears twice"));
    }

    private static SortedMap<RouteKey, RouteEntry> RouteMap(IEnumerable<KeyValuePair<RouteKey, RouteEntry>> routes) =>
        SortedMap<RouteKey, RouteEntry>.Create(routes, k => new FabricInputException($"routes[{k}]", "route key appears twice"));

    /// <summary>An empty table (what an agent holds before its first update), version 0.</summary>
    public static SwitchTable Empty(string switchName, int groupSize) => new(switchName, 0, groupSize, [], []);

    /// <summary>Switch the table belongs to.</summary>
    public string SwitchName { get; }

    /// <summary>Version, increasing per switch; 0 means "nothing installed".</summary>
    public ulong Version { get; }

    /// <summary>Buckets per group; every group's weights sum to it.</summary>
    public int GroupSize { get; }

    /// <summary>Groups by id, in ascending id order.</summary>
    public SortedMap<int, NextHopGroup> Groups { get; }

    /// <summary>Routes by key, in ascending key order.</summary>
    public SortedMap<RouteKey, RouteEntry> Routes { get; }

    /// <summary>SHA-256 of the canonical encoding of groups and routes (version and name excluded, so equal contents digest equally).</summary>
    public ReadOnlySpan<byte> Digest => _digest ??= TableDigest.Compute(Groups.Values.AsSpan(), Routes.Keys.AsSpan(), Routes.Values.AsSpan());

    /// <summary>Digest as a copy, for storing or sending.</summary>
    public byte[] DigestBytes() => Digest.ToArray();

    /// <summary>The same contents at another version.</summary>
    public SwitchTable WithVersion(ulong version) => new(SwitchName, version, GroupSize, Groups, Routes, _digest);

    /// <summary>
    /// A table from maps already built (immutable, so they may be shared with other tables). The group map's keys must be
    /// its groups' ids.
    /// </summary>
    /// <exception cref="FabricInputException">A group is filed under an id other than its own.</exception>
    public static SwitchTable FromParts(string switchName, ulong version, int groupSize, SortedMap<int, NextHopGroup> groups, SortedMap<RouteKey, RouteEntry> routes)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(routes);
        for (var i = 0; i < groups.Count; i++)
            if (groups.KeyAt(i) != groups.ValueAt(i).Id) throw new FabricInputException($"groups[{groups.KeyAt(i)}]", $"holds group {groups.ValueAt(i).Id}");
        return new(switchName, version, groupSize, groups, routes, null);
    }

    /// <summary>Next-hop ports of a route (empty when the route is missing or local).</summary>
    public IEnumerable<int> PortsOf(RouteKey key) =>
        Routes.TryGetValue(key, out var e) && e.GroupId != LocalGroup && Groups.TryGetValue(e.GroupId, out var g)
            ? g.Members.Where(m => m.Weight > 0).Select(m => m.Port)
            : [];

    /// <summary>
    /// Every problem with the table, each naming its field: empty switch name, group size below 1, group id 0 or
    /// negative, empty group, port outside 1..<paramref name="radix"/>, duplicate port, weight below 1, weights not
    /// summing to the group size, empty destination or class, route to a missing group.
    /// </summary>
    /// <param name="radix">Ports of the switch.</param>
    public IReadOnlyList<FieldError> Validate(int radix)
    {
        // Field names are formatted only for the entries that have a problem: a valid table allocates nothing here.
        List<FieldError>? e = null;
        void Add(string field, string reason) => (e ??= []).Add(new(field, reason));
        if (string.IsNullOrWhiteSpace(SwitchName)) Add("switchName", "must not be empty");
        if (GroupSize < 1) Add("groupSize", $"must be at least 1, got {GroupSize}");
        foreach (var g in Groups.Values)
        {
            if (g.Id <= LocalGroup) Add($"groups[{g.Id}].id", $"must be at least 1 (0 is reserved for local delivery), got {g.Id}");
            if (g.Members.Length == 0) Add($"groups[{g.Id}].members", "must not be empty");
            var sum = 0L;
            for (var i = 0; i < g.Members.Length; i++)
            {
                var m = g.Members[i];
                if (m.Port < 1 || m.Port > radix) Add($"groups[{g.Id}].members[{i}].port", $"must be between 1 and the radix ({radix}), got {m.Port}");
                if (i > 0 && g.Members[i - 1].Port == m.Port) Add($"groups[{g.Id}].members[{i}].port", $"port {m.Port} appears twice");
                if (m.Weight < 1) Add($"groups[{g.Id}].members[{i}].weight", $"must be at least 1, got {m.Weight}");
                sum += m.Weight;
            }
            if (g.Members.Length > 0 && sum != GroupSize) Add($"groups[{g.Id}].members", $"weights sum to {sum}, must sum to the group size {GroupSize}");
        }
        foreach (var (k, r) in Routes)
        {
            if (string.IsNullOrWhiteSpace(k.Destination)) Add($"routes[{k}].destination", "must not be empty");
            if (string.IsNullOrWhiteSpace(k.TrafficClass)) Add($"routes[{k}].trafficClass", "must not be empty");
            if (r.GroupId != LocalGroup && !Groups.ContainsKey(r.GroupId)) Add($"routes[{k}].groupId", $"group {r.GroupId} does not exist");
            if (r.Mode is not (SpreadMode.Hash or SpreadMode.Spray)) Add($"routes[{k}].mode", $"must be hash or spray, got {(int)r.Mode}");
        }
        return e is null ? [] : e;
    }

    /// <summary>True when the groups and routes are the same (name, version and group size included).</summary>
    public bool Equals(SwitchTable? other) =>
        other is not null && other.SwitchName == SwitchName && other.Version == Version && other.GroupSize == GroupSize && SameContents(other);

    /// <summary>True when groups and routes are equal, whatever the versions.</summary>
    public bool SameContents(SwitchTable other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(Groups, other.Groups) && ReferenceEquals(Routes, other.Routes)) return true;
        if (Groups.Count != other.Groups.Count || Routes.Count != other.Routes.Count) return false;
        if (_digest is not null && other._digest is not null) return _digest.AsSpan().SequenceEqual(other._digest);
        // Both maps are sorted: equal maps match position by position.
        for (var i = 0; i < Groups.Count; i++)
        {
            if (!Groups.ValueAt(i).Equals(other.Groups.ValueAt(i))) return false;
        }
        for (var i = 0; i < Routes.Count; i++)
        {
            if (Routes.KeyAt(i) != other.Routes.KeyAt(i) || Routes.ValueAt(i) != other.Routes.ValueAt(i)) return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SwitchTable);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(SwitchName, Version, GroupSize, BinaryPrimitives.ReadInt32LittleEndian(Digest));

    /// <inheritdoc/>
    public override string ToString() => $"{SwitchName} v{Version}: {Groups.Count} groups, {Routes.Count} routes";
}

/// <summary>
/// Canonical encoding and SHA-256 digest of a table's groups and routes, shared by the control plane and agents.
/// Encoding (all integers unsigned 32-bit big-endian): "FTD1"; group count; per group by ascending id: id, member
/// count, then per member by ascending port: port, weight; route count; per route by ordinal (destination, class):
/// destination UTF-8 length and bytes, class UTF-8 length and bytes, group id, mode.
/// </summary>
public static class TableDigest
{
    /// <summary>Digest length in bytes.</summary>
    public const int Length = 32;

    /// <summary>Digest of the given groups (any order) and routes (any order).</summary>
    public static byte[] Compute(IEnumerable<NextHopGroup> groups, IEnumerable<KeyValuePair<RouteKey, RouteEntry>> routes)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(routes);
        NextHopGroup[] gs = [.. groups];
        var gSorted = true;
        for (var i = 1; i < gs.Length && gSorted; i++) gSorted = gs[i - 1].Id <= gs[i].Id;
        if (!gSorted) Array.Sort(gs, (x, y) => x.Id.CompareTo(y.Id));
        var rm = routes as SortedMap<RouteKey, RouteEntry>;
        if (rm is null)
        {
            KeyValuePair<RouteKey, RouteEntry>[] rs = [.. routes];
            var keys = new RouteKey[rs.Length];
            var values = new RouteEntry[rs.Length];
            for (var i = 0; i < rs.Length; i++) (keys[i], values[i]) = (rs[i].Key, rs[i].Value);
            var sorted = true;
            for (var i = 1; i < keys.Length && sorted; i++) sorted = keys[i - 1].CompareTo(keys[i]) <= 0;
            if (!sorted) Array.Sort(keys, values);
            return Compute(gs, keys, values);
        }
        return Compute(gs, rm.Keys.AsSpan(), rm.Values.AsSpan());
    }

    /// <summary>Digest of groups sorted by id and routes sorted by key.</summary>
    internal static byte[] Compute(ReadOnlySpan<NextHopGroup> groups, ReadOnlySpan<RouteKey> keys, ReadOnlySpan<RouteEntry> values)
    {
        // The exact size first, then one pooled buffer written once and hashed once: growing a buffer or hashing
        // 4 bytes at a time costs several times the hash itself.
        var size = 4 + 4 + 4;
        foreach (var g in groups) size += 8 + 8 * g.Members.Length;
        for (var i = 0; i < keys.Length; i++)
            size += 16 + Encoding.UTF8.GetByteCount(keys[i].Destination) + Encoding.UTF8.GetByteCount(keys[i].TrafficClass);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = buffer.AsSpan(0, size);
            var at = 0;
            void U32(Span<byte> span, uint v)
            {
                BinaryPrimitives.WriteUInt32BigEndian(span[at..], v);
                at += 4;
            }
            "FTD1"u8.CopyTo(w);
            at = 4;
            U32(w, (uint)groups.Length);
            foreach (var g in groups)
            {
                U32(w, (uint)g.Id);
                U32(w, (uint)g.Members.Length);
                foreach (var m in g.Members)
                {
                    U32(w, (uint)m.Port);
                    U32(w, (uint)m.Weight);
                }
            }
            U32(w, (uint)keys.Length);
            for (var i = 0; i < keys.Length; i++)
            {
                var d = Encoding.UTF8.GetBytes(keys[i].Destination, w[(at + 4)..]);
                U32(w, (uint)d);
                at += d;
                var c = Encoding.UTF8.GetBytes(keys[i].TrafficClass, w[(at + 4)..]);
                U32(w, (uint)c);
                at += c;
                U32(w, (uint)values[i].GroupId);
                U32(w, (uint)values[i].Mode);
            }
            return SHA256.HashData(w[..at]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Short hex form for logs and reasons.</summary>
    public static string Short(ReadOnlySpan<byte> digest) => digest.Length == 0 ? "(none)" : Convert.ToHexStringLower(digest[..Math.Min(6, digest.Length)]);
}
