using System.Buffers;
using System.Text;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Wire;

/// <summary>
/// fabric.v1 RouteTable and RouteUpdate written straight from the distribution core's model and read straight into it,
/// without building the generated message objects (a decoded table of the MPFT was about 70 KB of short-lived objects,
/// and tables are encoded and decoded on every hop of a convergence). The bytes are exactly those of the generated
/// code (fields in number order, proto3 defaults left out, packed repeated scalars); the reader accepts whatever the
/// generated parser accepts (any field order, unknown fields, packed or not) and checks what <see cref="TableWire"/>
/// checks, naming the same fields. A singular message field seen twice (which protobuf merges) is left to the
/// generated parser.
/// </summary>
public static class TableCodec
{
    /// <summary>A full table as RouteTable bytes (digest included).</summary>
    public static byte[] EncodeTable(SwitchTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var bytes = new byte[TableSize(table)];
        var w = new Writer(bytes);
        WriteTable(ref w, table);
        return w.Done();
    }

    /// <summary>A planned update as RouteUpdate bytes.</summary>
    public static byte[] EncodeUpdate(TableUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        int body;
        if (update.Table is { } t) body = TableSize(t);
        else if (update.Delta is { } d) body = DeltaSize(d);
        else throw new ArgumentException("update carries neither a table nor a delta", nameof(update));
        var bytes = new byte[Nested(body) + (update.Priority ? 2 : 0)];
        var w = new Writer(bytes);
        w.Tag(update.Table is null ? 2 : 1, Len);
        w.Varint((uint)body);
        if (update.Table is { } table) WriteTable(ref w, table);
        else WriteDelta(ref w, update.Delta!);
        if (update.Priority) { w.Tag(10, Varint); w.Varint(1); }
        return w.Done();
    }

    /// <summary>A delta as RouteDelta bytes.</summary>
    public static byte[] EncodeDelta(TableDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var bytes = new byte[DeltaSize(delta)];
        var w = new Writer(bytes);
        WriteDelta(ref w, delta);
        return w.Done();
    }

    /// <summary>Decodes RouteDelta bytes (the digest is checked when the delta is applied).</summary>
    /// <exception cref="FabricInputException">Malformed bytes, out-of-range values or duplicates, each naming the field.</exception>
    public static TableDelta DecodeDelta(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var r = new Reader(bytes, "delta");
            return ReadDelta(ref r);
        }
        catch (NeedsGeneratedParser)
        {
            return TableWire.FromProto(Parse(bytes, Protos.Fabric.V1.RouteDelta.Parser, "delta"));
        }
    }

    /// <summary>Decodes RouteTable bytes; the digest must match the contents.</summary>
    /// <exception cref="FabricInputException">Malformed bytes, out-of-range values, duplicates or a digest mismatch, each naming the field.</exception>
    public static SwitchTable DecodeTable(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var r = new Reader(bytes, "table");
            return ReadTable(ref r, "table");
        }
        catch (NeedsGeneratedParser)
        {
            return TableWire.FromProto(Parse(bytes, Protos.Fabric.V1.RouteTable.Parser, "table"));
        }
    }

    /// <summary>Decodes RouteUpdate bytes; a QoS update is not a route update and gives null.</summary>
    /// <exception cref="FabricInputException">Malformed bytes or invalid contents, each naming the field.</exception>
    public static TableUpdate? DecodeUpdate(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return ReadUpdate(bytes);
        }
        catch (NeedsGeneratedParser)
        {
            return TableWire.FromProto(Parse(bytes, Protos.Fabric.V1.RouteUpdate.Parser, "update"));
        }
    }

    private static TableUpdate? ReadUpdate(ReadOnlySpan<byte> bytes)
    {
        var r = new Reader(bytes, "update");
        var priority = false;
        var bodyCase = 0;
        var bodyStart = 0;
        var bodyLength = 0;
        while (!r.End)
        {
            var (field, type) = r.Tag();
            switch (field)
            {
                case 1 or 2 or 3 when type == Len:
                    if (bodyCase == field) throw new NeedsGeneratedParser(); // the same oneof case twice: protobuf merges them
                    bodyCase = field;
                    (bodyStart, bodyLength) = r.Span();
                    break;
                case 10 when type == Varint: priority = r.Varint() != 0; break;
                default: r.Skip(type); break;
            }
        }
        var body = bytes.Slice(bodyStart, bodyLength);
        switch (bodyCase)
        {
            case 1:
                var br = new Reader(body, "table");
                return TableUpdate.Full(ReadTable(ref br, "table"), priority);
            case 2:
                var dr = new Reader(body, "delta");
                return TableUpdate.Diff(ReadDelta(ref dr), priority);
            case 3: return null;
            default: throw new FabricInputException("body", "update carries no table, delta or QoS config");
        }
    }

    // Raised where protobuf's rules go beyond this reader (a singular message field twice, which protobuf merges; the
    // deprecated group wire type); the generated parser takes over.
    private sealed class NeedsGeneratedParser : Exception;

    private static T Parse<T>(ReadOnlySpan<byte> bytes, Google.Protobuf.MessageParser<T> parser, string field) where T : Google.Protobuf.IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new FabricInputException(field, "malformed protobuf: " + e.Message);
        }
    }

    // ------------------------------------------------------------------ writing

    private const int Varint = 0;
    private const int Len = 2;

    private static int VarintSize(ulong v)
    {
        var n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }

    private static int Nested(int size) => 1 + VarintSize((uint)size) + size;

    private static int UInt(uint v) => v == 0 ? 0 : 1 + VarintSize(v);

    private static int Str(string s) => s.Length == 0 ? 0 : Nested(Encoding.UTF8.GetByteCount(s));

    private static int MemberSize(GroupMember m) => UInt((uint)m.Port) + UInt((uint)m.Weight);

    private static int GroupSize(NextHopGroup g)
    {
        var n = UInt((uint)g.Id);
        foreach (var m in g.Members) n += Nested(MemberSize(m));
        return n;
    }

    private static int KeySize(RouteKey k) => Str(k.Destination) + Str(k.TrafficClass);

    // Mode is an enum: int32 on the wire (a negative value would take ten bytes).
    private static int ModeSize(SpreadMode mode) => mode == 0 ? 0 : 1 + VarintSize((ulong)(long)(int)mode);

    private static int RouteSize(RouteKey k, RouteEntry e) => KeySize(k) + UInt((uint)e.GroupId) + ModeSize(e.Mode);

    private static int TableSize(SwitchTable t)
    {
        var n = Str(t.SwitchName) + (t.Version == 0 ? 0 : 1 + VarintSize(t.Version)) + UInt((uint)t.GroupSize);
        foreach (var g in t.Groups.Values) n += Nested(GroupSize(g));
        var keys = t.Routes.Keys;
        var values = t.Routes.Values;
        for (var i = 0; i < keys.Length; i++) n += Nested(RouteSize(keys[i], values[i]));
        return n + (t.Digest.Length == 0 ? 0 : Nested(t.Digest.Length));
    }

    private static int DeltaSize(TableDelta d)
    {
        var n = Str(d.SwitchName) + (d.BaseVersion == 0 ? 0 : 1 + VarintSize(d.BaseVersion)) + (d.Version == 0 ? 0 : 1 + VarintSize(d.Version));
        foreach (var g in d.UpsertGroups) n += Nested(GroupSize(g));
        if (d.RemoveGroupIds.Length > 0) n += Nested(PackedSize(d.RemoveGroupIds.AsSpan()));
        foreach (var (k, e) in d.UpsertRoutes) n += Nested(RouteSize(k, e));
        foreach (var k in d.RemoveRoutes) n += Nested(KeySize(k));
        return n + (d.Digest.Length == 0 ? 0 : Nested(d.Digest.Length));
    }

    private static int PackedSize(ReadOnlySpan<int> ids)
    {
        var n = 0;
        foreach (var id in ids) n += VarintSize((uint)id);
        return n;
    }

    private static void WriteTable(ref Writer w, SwitchTable t)
    {
        w.String(1, t.SwitchName);
        w.UInt64(2, t.Version);
        w.UInt64(3, (uint)t.GroupSize);
        foreach (var g in t.Groups.Values) WriteGroup(ref w, 4, g);
        var keys = t.Routes.Keys;
        var values = t.Routes.Values;
        for (var i = 0; i < keys.Length; i++) WriteRoute(ref w, 5, keys[i], values[i]);
        w.Bytes(6, t.Digest);
    }

    private static void WriteDelta(ref Writer w, TableDelta d)
    {
        w.String(1, d.SwitchName);
        w.UInt64(2, d.BaseVersion);
        w.UInt64(3, d.Version);
        foreach (var g in d.UpsertGroups) WriteGroup(ref w, 4, g);
        if (d.RemoveGroupIds.Length > 0)
        {
            w.Tag(5, Len);
            w.Varint((uint)PackedSize(d.RemoveGroupIds.AsSpan()));
            foreach (var id in d.RemoveGroupIds) w.Varint((uint)id);
        }
        foreach (var (k, e) in d.UpsertRoutes) WriteRoute(ref w, 6, k, e);
        foreach (var k in d.RemoveRoutes)
        {
            w.Tag(7, Len);
            w.Varint((uint)KeySize(k));
            w.String(1, k.Destination);
            w.String(2, k.TrafficClass);
        }
        w.Bytes(8, d.Digest.AsSpan());
    }

    private static void WriteGroup(ref Writer w, int field, NextHopGroup g)
    {
        w.Tag(field, Len);
        w.Varint((uint)GroupSize(g));
        w.UInt64(1, (uint)g.Id);
        foreach (var m in g.Members)
        {
            w.Tag(2, Len);
            w.Varint((uint)MemberSize(m));
            w.UInt64(1, (uint)m.Port);
            w.UInt64(2, (uint)m.Weight);
        }
    }

    private static void WriteRoute(ref Writer w, int field, RouteKey k, RouteEntry e)
    {
        w.Tag(field, Len);
        w.Varint((uint)RouteSize(k, e));
        w.String(1, k.Destination);
        w.String(2, k.TrafficClass);
        w.UInt64(3, (uint)e.GroupId);
        if (e.Mode != 0) { w.Tag(4, Varint); w.Varint((ulong)(long)(int)e.Mode); }
    }

    private ref struct Writer(byte[] buffer)
    {
        private readonly byte[] _buffer = buffer;
        private int _pos;

        public void Tag(int field, int type) => Varint((uint)(field << 3 | type));

        public void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                _buffer[_pos++] = (byte)(v | 0x80);
                v >>= 7;
            }
            _buffer[_pos++] = (byte)v;
        }

        public void UInt64(int field, ulong v)
        {
            if (v == 0) return;
            Tag(field, 0);
            Varint(v);
        }

        public void String(int field, string s)
        {
            if (s.Length == 0) return;
            Tag(field, Len);
            var n = Encoding.UTF8.GetByteCount(s);
            Varint((uint)n);
            _pos += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_pos));
        }

        public void Bytes(int field, ReadOnlySpan<byte> b)
        {
            if (b.Length == 0) return;
            Tag(field, Len);
            Varint((uint)b.Length);
            b.CopyTo(_buffer.AsSpan(_pos));
            _pos += b.Length;
        }

        public readonly byte[] Done() => _pos == _buffer.Length ? _buffer : throw new InvalidOperationException($"encoder size mismatch: wrote {_pos} of {_buffer.Length} bytes");
    }

    // ------------------------------------------------------------------ reading

    private static SwitchTable ReadTable(ref Reader r, string field)
    {
        var name = "";
        ulong version = 0;
        uint groupSize = 0;
        var digest = ReadOnlySpan<byte>.Empty;
        var e = new List<FieldError>();
        var groups = new List<NextHopGroup>();
        var seen = new HashSet<uint>();
        using var routes = new WireChecks.RawRoutes();
        var groupIndex = 0;
        while (!r.End)
        {
            var (f, type) = r.Tag();
            switch (f)
            {
                case 1 when type == Len: name = r.String(); break;
                case 2 when type == Varint: version = r.Varint(); break;
                case 3 when type == Varint: groupSize = (uint)r.Varint(); break;
                case 4 when type == Len:
                    var g = r.Message();
                    if (ReadGroup(ref g, $"{field}.groups", groupIndex++, seen, e) is { } group) groups.Add(group);
                    break;
                case 5 when type == Len:
                    var rr = r.Message();
                    routes.Add(ReadRoute(ref rr));
                    break;
                case 6 when type == Len: digest = r.BytesSpan(); break;
                default: r.Skip(type); break;
            }
        }
        if (groupSize > int.MaxValue) e.Insert(0, new($"{field}.groupSize", $"too large: {groupSize}"));
        var checkedRoutes = WireChecks.Routes(routes.Span, $"{field}.routes", e);
        WireChecks.Throw(e);
        var t = new SwitchTable(name, version, (int)groupSize, groups, checkedRoutes);
        if (!digest.SequenceEqual(t.Digest))
            throw new FabricInputException($"{field}.digest", $"{TableDigest.Short(digest)} does not match the contents ({TableDigest.Short(t.Digest)})");
        return t;
    }

    private static TableDelta ReadDelta(ref Reader r)
    {
        var name = "";
        ulong baseVersion = 0, version = 0;
        var digest = ReadOnlySpan<byte>.Empty;
        var e = new List<FieldError>();
        var groups = new List<NextHopGroup>();
        var seen = new HashSet<uint>();
        using var routes = new WireChecks.RawRoutes();
        var removeGroups = new List<int>();
        var removeRoutes = new List<RouteKey>();
        var groupIndex = 0;
        var removeIndex = 0;
        while (!r.End)
        {
            var (f, type) = r.Tag();
            switch (f)
            {
                case 1 when type == Len: name = r.String(); break;
                case 2 when type == Varint: baseVersion = r.Varint(); break;
                case 3 when type == Varint: version = r.Varint(); break;
                case 4 when type == Len:
                    var g = r.Message();
                    if (ReadGroup(ref g, "delta.upsertGroups", groupIndex++, seen, e) is { } group) groups.Add(group);
                    break;
                case 5 when type == Varint: RemoveGroup((uint)r.Varint()); break;
                case 5 when type == Len:
                    var packed = r.Message();
                    while (!packed.End) RemoveGroup((uint)packed.Varint());
                    break;
                case 6 when type == Len:
                    var rr = r.Message();
                    routes.Add(ReadRoute(ref rr));
                    break;
                case 7 when type == Len:
                    var k = r.Message();
                    var key = ReadRoute(ref k);
                    removeRoutes.Add(new RouteKey(key.Destination, key.TrafficClass));
                    break;
                case 8 when type == Len: digest = r.BytesSpan(); break;
                default: r.Skip(type); break;
            }
        }
        var checkedRoutes = WireChecks.Routes(routes.Span, "delta.upsertRoutes", e);
        if (digest.Length != TableDigest.Length) e.Add(new("delta.digest", $"must be {TableDigest.Length} bytes, got {digest.Length}"));
        WireChecks.Throw(e);
        return new TableDelta(name, baseVersion, version, groups, removeGroups, checkedRoutes, removeRoutes, digest);

        void RemoveGroup(uint id)
        {
            if (WireChecks.RemovedGroupId(id, removeIndex++, e) is { } ok) removeGroups.Add(ok);
        }
    }

    private static NextHopGroup? ReadGroup(ref Reader r, string field, int index, HashSet<uint> seen, List<FieldError> e)
    {
        uint id = 0;
        var members = ArrayPool<(uint Port, uint Weight)>.Shared.Rent(64);
        try
        {
            var count = 0;
            while (!r.End)
            {
                var (f, type) = r.Tag();
                if (f == 1 && type == Varint) { id = (uint)r.Varint(); continue; }
                if (f != 2 || type != Len) { r.Skip(type); continue; }
                var m = r.Message();
                uint port = 0, weight = 0;
                while (!m.End)
                {
                    var (mf, mt) = m.Tag();
                    if (mf == 1 && mt == Varint) port = (uint)m.Varint();
                    else if (mf == 2 && mt == Varint) weight = (uint)m.Varint();
                    else m.Skip(mt);
                }
                if (count == members.Length)
                {
                    var bigger = ArrayPool<(uint, uint)>.Shared.Rent(count * 2);
                    members.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<(uint, uint)>.Shared.Return(members);
                    members = bigger;
                }
                members[count++] = (port, weight);
            }
            return WireChecks.Group(id, members.AsSpan(0, count), field, index, seen, e);
        }
        finally
        {
            ArrayPool<(uint, uint)>.Shared.Return(members);
        }
    }

    private static WireChecks.RawRoute ReadRoute(ref Reader r)
    {
        string destination = "", trafficClass = "";
        uint groupId = 0;
        var mode = 0;
        while (!r.End)
        {
            var (f, type) = r.Tag();
            switch (f)
            {
                case 1 when type == Len: destination = r.Name(); break;
                case 2 when type == Len: trafficClass = r.Name(); break;
                case 3 when type == Varint: groupId = (uint)r.Varint(); break;
                case 4 when type == Varint: mode = (int)r.Varint(); break;
                default: r.Skip(type); break;
            }
        }
        return new(destination, trafficClass, groupId, mode);
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes, string field)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private readonly string _field = field;
        private int _pos;

        public readonly bool End => _pos >= _bytes.Length;

        public (int Field, int Type) Tag()
        {
            var at = _pos;
            var tag = (uint)Varint();
            if (tag >> 3 == 0) throw Malformed($"invalid tag {tag} at byte {at}");
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong v = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if (_pos >= _bytes.Length) throw Malformed($"truncated varint at byte {_pos}");
                var b = _bytes[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw Malformed($"varint longer than 10 bytes at byte {_pos}");
        }

        public (int Start, int Length) Span()
        {
            var n = Varint();
            if (n > (ulong)(_bytes.Length - _pos)) throw Malformed($"length {n} at byte {_pos} runs past the end ({_bytes.Length} bytes)");
            var start = _pos;
            _pos += (int)n;
            return (start, (int)n);
        }

        public ReadOnlySpan<byte> BytesSpan()
        {
            var (start, n) = Span();
            return _bytes.Slice(start, n);
        }

        public Reader Message() => new(BytesSpan(), _field);

        public string String() => Encoding.UTF8.GetString(BytesSpan());

        public string Name() => WireChecks.Names.Intern(BytesSpan());

        public void Skip(int type)
        {
            switch (type)
            {
                case 0: Varint(); break;
                case 1: Advance(8); break;
                case 2: Span(); break;
                case 5: Advance(4); break;
                case 3 or 4: throw new NeedsGeneratedParser();
                default: throw Malformed($"unsupported wire type {type} at byte {_pos}");
            }
        }

        private void Advance(int n)
        {
            if (_bytes.Length - _pos < n) throw Malformed($"truncated field at byte {_pos}");
            _pos += n;
        }

        private readonly FabricInputException Malformed(string reason) => new(_field, "malformed protobuf: " + reason);
    }
}
