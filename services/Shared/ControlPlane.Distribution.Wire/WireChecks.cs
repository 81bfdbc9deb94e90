using System.Collections.Concurrent;
using System.Text;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Wire;

/// <summary>
/// What decoding checks beyond the wire format, shared by the generated-message path (<see cref="TableWire"/>) and the
/// direct one (<see cref="TableCodec"/>), so that both refuse the same input naming the same fields.
/// </summary>
internal static class WireChecks
{
    /// <summary>A route as read off the wire, before its checks.</summary>
    public readonly record struct RawRoute(string Destination, string TrafficClass, uint GroupId, int Mode);

    /// <summary>The group, or null (with the problems added) when its id or a member is out of range or the id was seen.</summary>
    public static NextHopGroup? Group(uint id, ReadOnlySpan<(uint Port, uint Weight)> members, string field, int index, HashSet<uint> seen, List<FieldError> e)
    {
        if (id is 0 or > int.MaxValue) { e.Add(new($"{field}[{index}].id", $"must be between 1 and {int.MaxValue}, got {id}")); return null; }
        if (!seen.Add(id)) { e.Add(new($"{field}[{index}].id", $"group {id} appears twice")); return null; }
        var ok = true;
        for (var j = 0; j < members.Length; j++)
        {
            if (members[j].Port > int.MaxValue) { e.Add(new($"{field}[{index}].members[{j}].port", $"too large: {members[j].Port}")); ok = false; }
            if (members[j].Weight > int.MaxValue) { e.Add(new($"{field}[{index}].members[{j}].weight", $"too large: {members[j].Weight}")); ok = false; }
        }
        if (!ok) return null;
        var m = new GroupMember[members.Length];
        for (var j = 0; j < m.Length; j++) m[j] = new GroupMember((int)members[j].Port, (int)members[j].Weight);
        return new NextHopGroup((int)id, m);
    }

    /// <summary>A group id to remove, or null (with the problem added) when out of range.</summary>
    public static int? RemovedGroupId(uint id, int index, List<FieldError> e)
    {
        if (id is not (0 or > int.MaxValue)) return (int)id;
        e.Add(new($"delta.removeGroupIds[{index}]", $"must be between 1 and {int.MaxValue}, got {id}"));
        return null;
    }

    /// <summary>The routes that pass their checks (the others add their problems).</summary>
    public static List<KeyValuePair<RouteKey, RouteEntry>> Routes(ReadOnlySpan<RawRoute> src, string field, List<FieldError> e)
    {
        var r = new List<KeyValuePair<RouteKey, RouteEntry>>(src.Length);
        // Tables are encoded in key order, where a duplicate can only follow its twin; a set is needed only otherwise.
        var ordered = true;
        for (var i = 1; i < src.Length && ordered; i++)
            ordered = Key(src[i - 1]).CompareTo(Key(src[i])) < 0;
        var seen = ordered ? null : new HashSet<RouteKey>();
        for (var i = 0; i < src.Length; i++)
        {
            var x = src[i];
            var k = Key(x);
            if (seen is not null && !seen.Add(k)) { e.Add(new($"{field}[{i}]", $"route {k} appears twice")); continue; }
            if (x.GroupId > int.MaxValue) { e.Add(new($"{field}[{i}].groupId", $"too large: {x.GroupId}")); continue; }
            SpreadMode mode;
            switch (x.Mode)
            {
                case (int)Protos.Fabric.V1.SpreadMode.Hash: mode = SpreadMode.Hash; break;
                case (int)Protos.Fabric.V1.SpreadMode.Spray: mode = SpreadMode.Spray; break;
                default: e.Add(new($"{field}[{i}].mode", $"must be hash or spray, got {(Protos.Fabric.V1.SpreadMode)x.Mode}")); continue;
            }
            r.Add(new(k, new RouteEntry((int)x.GroupId, mode)));
        }
        return r;

        static RouteKey Key(RawRoute x) => new(x.Destination, x.TrafficClass);
    }

    /// <summary>A growable list of raw routes in a pooled array (return it with <see cref="Dispose"/>).</summary>
    public sealed class RawRoutes : IDisposable
    {
        private RawRoute[] _items;
        private int _count;

        public RawRoutes() => _items = System.Buffers.ArrayPool<RawRoute>.Shared.Rent(256);

        public ReadOnlySpan<RawRoute> Span => _items.AsSpan(0, _count);

        public void Add(RawRoute r)
        {
            if (_count == _items.Length)
            {
                var bigger = System.Buffers.ArrayPool<RawRoute>.Shared.Rent(_count * 2);
                _items.AsSpan(0, _count).CopyTo(bigger);
                System.Buffers.ArrayPool<RawRoute>.Shared.Return(_items, clearArray: true);
                _items = bigger;
            }
            _items[_count++] = r;
        }

        public void Dispose()
        {
            System.Buffers.ArrayPool<RawRoute>.Shared.Return(_items, clearArray: true);
            _items = [];
            _count = 0;
        }
    }

    /// <summary>Throws all the problems at once, if any.</summary>
    public static void Throw(List<FieldError> e)
    {
        if (e.Count > 0) throw new FabricInputException(e);
    }

    /// <summary>
    /// Destination and class names shared by every decoded table: a fabric has a few hundred leaves and a handful of
    /// classes, yet each decoded table would otherwise keep its own copy of every name, and tables are long-lived, so
    /// the copies would be promoted and traced by every collection. Bounded: past the cap, names are kept as decoded.
    /// </summary>
    public static class Names
    {
        private const int Cap = 1 << 16;
        private const int StackChars = 256;
        private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Pool.GetAlternateLookup<ReadOnlySpan<char>>();

        public static string Intern(string name)
        {
            if (Pool.TryGetValue(name, out var shared)) return shared;
            return Pool.Count < Cap ? Pool.GetOrAdd(name, name) : name;
        }

        /// <summary>The shared copy of a UTF-8 name, found without allocating when it is known.</summary>
        public static string Intern(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > StackChars) return Intern(Encoding.UTF8.GetString(utf8));
            Span<char> chars = stackalloc char[StackChars];
            var n = Encoding.UTF8.GetChars(utf8, chars);
            return ByChars.TryGetValue(chars[..n], out var shared) ? shared : Intern(new string(chars[..n]));
        }
    }
}
