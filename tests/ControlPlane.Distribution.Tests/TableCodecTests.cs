using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using FsCheck.Xunit;
using Google.Protobuf;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Distribution.Tests;

/// <summary>The direct codec against the generated protobuf code, which is the reference for bytes and for checks.</summary>
public sealed class TableCodecTests
{
    private static SwitchTable RandomTable(Random rng) =>
        Tables.Random(rng, name: rng.Next(5) == 0 ? "" : $"leaf-{rng.Next(1000)}-é", version: rng.Next(4) == 0 ? 0 : (ulong)rng.NextInt64(1, long.MaxValue), radix: 64, groupSize: rng.Next(2) == 0 ? 32 : 128);

    private static TableUpdate RandomUpdate(Random rng)
    {
        var a = RandomTable(rng);
        var b = Tables.Mutate(a, rng, a.Version + 1, radix: 64);
        return rng.Next(3) == 0 ? TableUpdate.Full(b, rng.Next(2) == 0) : TableUpdate.Diff(TableDiff.Compute(a, b), rng.Next(2) == 0);
    }

    [Property(MaxTest = 200)]
    public bool Table_bytes_are_those_of_the_generated_code(int seed)
    {
        var t = RandomTable(new Random(seed));
        return TableCodec.EncodeTable(t).AsSpan().SequenceEqual(TableWire.ToProto(t).ToByteArray());
    }

    [Property(MaxTest = 200)]
    public bool Update_bytes_are_those_of_the_generated_code(int seed)
    {
        var u = RandomUpdate(new Random(seed));
        return TableCodec.EncodeUpdate(u).AsSpan().SequenceEqual(TableWire.ToProto(u).ToByteArray());
    }

    [Property(MaxTest = 200)]
    public bool Decoded_table_equals_the_generated_decoding(int seed)
    {
        var t = RandomTable(new Random(seed));
        var bytes = TableWire.ToProto(t).ToByteArray();
        var direct = TableCodec.DecodeTable(bytes);
        return direct.Equals(TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(bytes))) && direct.Equals(t) && direct.Digest.SequenceEqual(t.Digest);
    }

    [Property(MaxTest = 200)]
    public bool Decoded_update_applies_like_the_generated_decoding(int seed)
    {
        var rng = new Random(seed);
        var a = RandomTable(rng);
        var b = Tables.Mutate(a, rng, a.Version + 1, radix: 64);
        var bytes = TableWire.ToProto(TableUpdate.Diff(TableDiff.Compute(a, b), priority: true)).ToByteArray();
        var direct = TableCodec.DecodeUpdate(bytes)!;
        var reference = TableWire.FromProto(Pb.RouteUpdate.Parser.ParseFrom(bytes))!;
        return direct.Priority && direct.Delta!.ApplyTo(a).Table!.Equals(b) && reference.Delta!.ApplyTo(a).Table!.Equals(b)
            && direct.Delta.RemoveGroupIds.SequenceEqual(reference.Delta.RemoveGroupIds) && direct.Delta.RemoveRoutes.SequenceEqual(reference.Delta.RemoveRoutes);
    }

    /// <summary>
    /// Damaged bytes (flipped, dropped, inserted, truncated): where the generated parser and checks accept, the codec gives
    /// the same result; where they refuse, the codec refuses too, and for a refused value it names the same fields.
    /// </summary>
    [Property(MaxTest = 500)]
    public bool Damaged_bytes_get_the_generated_codes_verdict(int seed)
    {
        var rng = new Random(seed);
        var u = RandomUpdate(rng);
        var bytes = Damage(TableWire.ToProto(u).ToByteArray(), rng);
        var asTable = u.Table is not null && rng.Next(2) == 0;
        if (asTable) bytes = Damage(TableWire.ToProto(u.Table!).ToByteArray(), rng);
        object? reference, direct;
        string[]? referenceFields = null, directFields = null;
        try
        {
            reference = asTable ? TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(bytes)) : Describe(TableWire.FromProto(Pb.RouteUpdate.Parser.ParseFrom(bytes)));
        }
        catch (InvalidProtocolBufferException) { reference = "malformed"; }
        catch (FabricInputException e) { reference = "refused"; referenceFields = [.. e.Errors.Select(x => x.Field)]; }
        try
        {
            direct = asTable ? TableCodec.DecodeTable(bytes) : Describe(TableCodec.DecodeUpdate(bytes));
        }
        catch (FabricInputException e) when (e.Errors[0].Reason.StartsWith("malformed protobuf", StringComparison.Ordinal)) { direct = "malformed"; }
        catch (FabricInputException e) { direct = "refused"; directFields = [.. e.Errors.Select(x => x.Field)]; }
        return Equals(reference, direct) && (referenceFields is null || referenceFields.SequenceEqual(directFields!));
    }

    private static string Describe(TableUpdate? u) => u is null ? "qos" :
        $"{u.Priority} {u.Table?.ToString()} {u.Table?.Version} {(u.Table is null ? "" : Convert.ToHexString(u.Table.Digest))} {u.Delta?.ToString()} {u.Delta?.BaseVersion} " +
        $"{string.Join(",", u.Delta?.UpsertGroups ?? [])} {string.Join(",", u.Delta?.RemoveGroupIds ?? [])} {string.Join(",", u.Delta?.UpsertRoutes ?? [])} " +
        $"{string.Join(",", u.Delta?.RemoveRoutes ?? [])} {(u.Delta is null ? "" : Convert.ToHexString(u.Delta.Digest.AsSpan()))}";

    private static byte[] Damage(byte[] bytes, Random rng)
    {
        var b = bytes.ToList();
        for (var n = rng.Next(1, 4); n > 0 && b.Count > 0; n--)
        {
            var at = rng.Next(b.Count);
            switch (rng.Next(4))
            {
                case 0: b[at] = (byte)rng.Next(256); break;
                case 1: b.RemoveAt(at); break;
                case 2: b.Insert(at, (byte)rng.Next(256)); break;
                default: b.RemoveRange(at, b.Count - at); break;
            }
        }
        return [.. b];
    }

    [Fact]
    public void Fields_in_any_order_unknown_fields_and_unpacked_ids_are_read_as_protobuf_reads_them()
    {
        var rng = new Random(7);
        var a = RandomTable(rng);
        var b = Tables.Mutate(a, rng, a.Version + 1, radix: 64);
        var delta = TableDiff.Compute(a, b);
        var m = TableWire.ToProto(delta);
        // Written by hand: fields from last to first, remove ids one by one (not packed), an unknown field in between.
        var stream = new MemoryStream();
        var o = new CodedOutputStream(stream);
        o.WriteTag(8, WireFormat.WireType.LengthDelimited); o.WriteBytes(m.Digest);
        foreach (var k in m.RemoveRoutes) { o.WriteTag(7, WireFormat.WireType.LengthDelimited); o.WriteMessage(k); }
        o.WriteTag(99, WireFormat.WireType.Varint); o.WriteUInt64(12345);
        foreach (var r in m.UpsertRoutes) { o.WriteTag(6, WireFormat.WireType.LengthDelimited); o.WriteMessage(r); }
        foreach (var id in m.RemoveGroupIds) { o.WriteTag(5, WireFormat.WireType.Varint); o.WriteUInt32(id); }
        foreach (var g in m.UpsertGroups) { o.WriteTag(4, WireFormat.WireType.LengthDelimited); o.WriteMessage(g); }
        o.WriteTag(3, WireFormat.WireType.Varint); o.WriteUInt64(m.Version);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteUInt64(m.BaseVersion);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(m.SwitchName);
        o.Flush();
        var update = new MemoryStream();
        var u = new CodedOutputStream(update);
        u.WriteTag(10, WireFormat.WireType.Varint); u.WriteBool(true);
        u.WriteTag(2, WireFormat.WireType.LengthDelimited); u.WriteBytes(ByteString.CopyFrom(stream.ToArray()));
        u.Flush();

        var decoded = TableCodec.DecodeUpdate(update.ToArray())!;
        Assert.True(decoded.Priority);
        Assert.Equal(delta.RemoveGroupIds.ToArray(), decoded.Delta!.RemoveGroupIds.ToArray());
        Assert.Equal(b, decoded.Delta.ApplyTo(a).Table);
    }

    [Fact]
    public void A_table_sent_twice_in_one_update_is_merged_as_protobuf_merges_it()
    {
        var t = RandomTable(new Random(11));
        var first = new Pb.RouteUpdate { Table = new Pb.RouteTable { SwitchName = t.SwitchName, Version = t.Version } }.ToByteArray();
        var whole = TableWire.ToProto(TableUpdate.Full(t)).ToByteArray();
        // The second body's fields merge into the first (same switch and version; groups, routes and digest added).
        var bytes = first.Concat(whole).ToArray();
        Assert.Equal(t, TableCodec.DecodeUpdate(bytes)!.Table);
    }

    [Fact]
    public void Bad_values_name_their_fields_as_the_generated_path_does()
    {
        var m = new Pb.RouteTable { SwitchName = "s", Version = 1, GroupSize = uint.MaxValue };
        m.Groups.Add(new Pb.NextHopGroup { Id = 0 });
        m.Groups.Add(new Pb.NextHopGroup { Id = 5, Members = { new Pb.GroupMember { Port = uint.MaxValue, Weight = 1 } } });
        m.Routes.Add(new Pb.Route { Destination = "a", TrafficClass = "x", GroupId = 0, Mode = Pb.SpreadMode.Unspecified });
        m.Routes.Add(new Pb.Route { Destination = "b", TrafficClass = "x", GroupId = uint.MaxValue, Mode = Pb.SpreadMode.Hash });
        var ex = Assert.Throws<FabricInputException>(() => TableCodec.DecodeTable(m.ToByteArray()));
        Assert.Equal(["table.groupSize", "table.groups[0].id", "table.groups[1].members[0].port", "table.routes[0].mode", "table.routes[1].groupId"], ex.Errors.Select(e => e.Field));
        var reference = Assert.Throws<FabricInputException>(() => TableWire.FromProto(m));
        Assert.Equal(reference.Errors.Select(e => e.Field), ex.Errors.Select(e => e.Field));
    }

    [Fact]
    public void Truncated_bytes_are_refused_as_malformed_naming_the_message()
    {
        var bytes = TableCodec.EncodeTable(RandomTable(new Random(5)));
        var ex = Assert.Throws<FabricInputException>(() => TableCodec.DecodeTable(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Equal("table", ex.Errors[0].Field);
        Assert.StartsWith("malformed protobuf", ex.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Throws<FabricInputException>(() => TableCodec.DecodeUpdate([]));
    }
}

/// <summary>RouteDelta bytes on their own (routing to distribution).</summary>
public sealed class DeltaCodecTests
{
    [Property(MaxTest = 200)]
    public bool Delta_bytes_are_those_of_the_generated_code_and_decode_back(int seed)
    {
        var rng = new Random(seed);
        var a = Tables.Random(rng, version: (ulong)rng.Next(0, 100));
        var b = Tables.Mutate(a, rng, a.Version + 1);
        var d = TableDiff.Compute(a, b);
        var bytes = TableCodec.EncodeDelta(d);
        var back = TableCodec.DecodeDelta(bytes);
        return bytes.AsSpan().SequenceEqual(TableWire.ToProto(d).ToByteArray()) && back.ApplyTo(a).Table!.Equals(b);
    }

    [Fact]
    public void Bad_delta_bytes_name_the_field()
    {
        var ex = Assert.Throws<FabricInputException>(() => TableCodec.DecodeDelta([0x0a, 0xff, 0x01]));
        Assert.Equal("delta", ex.Errors[0].Field);
        var noDigest = Assert.Throws<FabricInputException>(() => TableCodec.DecodeDelta([0x10, 0x01]));
        Assert.Equal("delta.digest", noDigest.Errors[0].Field);
    }
}
