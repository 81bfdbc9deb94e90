using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
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
        Id = id;
        Members = [.. members.OrderBy(m => m.Port).ThenBy(m => m.Weight)];
    }

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
    {
        SwitchName = switchName;
        Version = version;
        GroupSize = groupSize;
        var g = ImmutableSortedDictionary.CreateBuilder<int, NextHopGroup>();
        foreach (var group in groups)
        {
            if (!g.TryAdd(group.Id, group)) throw new FabricInputException($"groups[{group.Id}]", "group id appears twice");
        }
        var r = ImmutableSortedDictionary.CreateBuilder<RouteKey, RouteEntry>();
        foreach (var (k, v) in routes)
        {
            if (!r.TryAdd(k, v)) throw new FabricInputException($"routes[{k}]", "route key appears twice");
        }
        Groups = g.ToImmutable();
        Routes = r.ToImmutable();
    }

    private SwitchTable(string switchName, ulong version, int groupSize, ImmutableSortedDictionary<int, NextHopGroup> groups, ImmutableSortedDictionary<RouteKey, RouteEntry> routes, byte[]? digest)
    {
        SwitchName = switchName;
        Version = version;
        GroupSize = groupSize;
        Groups = groups;
        Routes = routes;
        _digest = digest;
    }

    /// <summary>An empty table (what an agent holds before its first update), version 0.</summary>
    public static SwitchTable Empty(string switchName, int groupSize) => new(switchName, 0, groupSize, [], []);

    /// <summary>Switch the table belongs to.</summary>
    public string SwitchName { get; }

    /// <summary>Version, increasing per switch; 0 means "nothing installed".</summary>
    public ulong Version { get; }

    /// <summary>Buckets per group; every group's weights sum to it.</summary>
    public int GroupSize { get; }

    /// <summary>Groups by id.</summary>
    public ImmutableSortedDictionary<int, NextHopGroup> Groups { get; }

    /// <summary>Routes by key.</summary>
    public ImmutableSortedDictionary<RouteKey, RouteEntry> Routes { get; }

    /// <summary>SHA-256 of the canonical encoding of groups and routes (version and name excluded, so equal contents digest equally).</summary>
    public ReadOnlySpan<byte> Digest => _digest ??= TableDigest.Compute(Groups.Values, Routes);

    /// <summary>Digest as a copy, for storing or sending.</summary>
    public byte[] DigestBytes() => Digest.ToArray();

    /// <summary>The same contents at another version.</summary>
    public SwitchTable WithVersion(ulong version) => new(SwitchName, version, GroupSize, Groups, Routes, _digest);

    internal static SwitchTable FromParts(string switchName, ulong version, int groupSize, ImmutableSortedDictionary<int, NextHopGroup> groups, ImmutableSortedDictionary<RouteKey, RouteEntry> routes) =>
        new(switchName, version, groupSize, groups, routes, null);

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
        var e = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(SwitchName)) e.Add(new("switchName", "must not be empty"));
        if (GroupSize < 1) e.Add(new("groupSize", $"must be at least 1, got {GroupSize}"));
        foreach (var g in Groups.Values)
        {
            var f = $"groups[{g.Id}]";
            if (g.Id <= LocalGroup) e.Add(new($"{f}.id", $"must be at least 1 (0 is reserved for local delivery), got {g.Id}"));
            if (g.Members.Length == 0) e.Add(new($"{f}.members", "must not be empty"));
            var sum = 0L;
            for (var i = 0; i < g.Members.Length; i++)
            {
                var m = g.Members[i];
                if (m.Port < 1 || m.Port > radix) e.Add(new($"{f}.members[{i}].port", $"must be between 1 and the radix ({radix}), got {m.Port}"));
                if (i > 0 && g.Members[i - 1].Port == m.Port) e.Add(new($"{f}.members[{i}].port", $"port {m.Port} appears twice"));
                if (m.Weight < 1) e.Add(new($"{f}.members[{i}].weight", $"must be at least 1, got {m.Weight}"));
                sum += m.Weight;
            }
            if (g.Members.Length > 0 && sum != GroupSize) e.Add(new($"{f}.members", $"weights sum to {sum}, must sum to the group size {GroupSize}"));
        }
        foreach (var (k, r) in Routes)
        {
            var f = $"routes[{k}]";
            if (string.IsNullOrWhiteSpace(k.Destination)) e.Add(new($"{f}.destination", "must not be empty"));
            if (string.IsNullOrWhiteSpace(k.TrafficClass)) e.Add(new($"{f}.trafficClass", "must not be empty"));
            if (r.GroupId != LocalGroup && !Groups.ContainsKey(r.GroupId)) e.Add(new($"{f}.groupId", $"group {r.GroupId} does not exist"));
            if (r.Mode is not (SpreadMode.Hash or SpreadMode.Spray)) e.Add(new($"{f}.mode", $"must be hash or spray, got {(int)r.Mode}"));
        }
        return e;
    }

    /// <summary>True when the groups and routes are the same (name, version and group size included).</summary>
    public bool Equals(SwitchTable? other) =>
        other is not null && other.SwitchName == SwitchName && other.Version == Version && other.GroupSize == GroupSize && SameContents(other);

    /// <summary>True when groups and routes are equal, whatever the versions.</summary>
    public bool SameContents(SwitchTable other) =>
        Groups.Count == other.Groups.Count && Routes.Count == other.Routes.Count &&
        Groups.All(kv => other.Groups.TryGetValue(kv.Key, out var g) && g.Equals(kv.Value)) &&
        Routes.All(kv => other.Routes.TryGetValue(kv.Key, out var r) && r == kv.Value);

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
        // One buffer hashed once: appending 4 bytes at a time to an incremental hash costs several times more.
        var w = new ArrayBufferWriter<byte>(4096);
        void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32BigEndian(w.GetSpan(4), v);
            w.Advance(4);
        }
        void Str(string text)
        {
            var n = Encoding.UTF8.GetByteCount(text);
            U32((uint)n);
            Encoding.UTF8.GetBytes(text, w.GetSpan(n));
            w.Advance(n);
        }
        w.Write("FTD1"u8);
        var gs = groups is ICollection<NextHopGroup> c ? new List<NextHopGroup>(c.Count) : [];
        gs.AddRange(groups);
        if (!IsSorted(gs, (x, y) => x.Id.CompareTo(y.Id))) gs.Sort((x, y) => x.Id.CompareTo(y.Id));
        U32((uint)gs.Count);
        foreach (var g in gs)
        {
            U32((uint)g.Id);
            U32((uint)g.Members.Length);
            foreach (var m in g.Members)
            {
                U32((uint)m.Port);
                U32((uint)m.Weight);
            }
        }
        var rs = routes.ToList();
        if (!IsSorted(rs, (x, y) => x.Key.CompareTo(y.Key))) rs.Sort((x, y) => x.Key.CompareTo(y.Key));
        U32((uint)rs.Count);
        foreach (var (k, r) in rs)
        {
            Str(k.Destination);
            Str(k.TrafficClass);
            U32((uint)r.GroupId);
            U32((uint)r.Mode);
        }
        return SHA256.HashData(w.WrittenSpan);
    }

    private static bool IsSorted<T>(List<T> items, Comparison<T> compare)
    {
        for (var i = 1; i < items.Count; i++)
        {
            if (compare(items[i - 1], items[i]) > 0) return false;
        }
        return true;
    }

    /// <summary>Short hex form for logs and reasons.</summary>
    public static string Short(ReadOnlySpan<byte> digest) => digest.Length == 0 ? "(none)" : Convert.ToHexStringLower(digest[..Math.Min(6, digest.Length)]);
}
