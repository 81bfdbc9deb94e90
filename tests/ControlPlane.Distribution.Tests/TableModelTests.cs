using ControlPlane.Distribution;
using ControlPlane.Fabric;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class TableModelTests
{
    private static SwitchTable Simple(int weightA = 2, int weightB = 2, int port = 3) =>
        new("leaf-0", 1, 4, [new NextHopGroup(1, [new GroupMember(port, weightA), new GroupMember(4, weightB)])],
            [new(new RouteKey("leaf-1", "default"), new RouteEntry(1, SpreadMode.Hash)), new(new RouteKey("leaf-0", "default"), new RouteEntry(0, SpreadMode.Hash))]);

    [Fact]
    public void Valid_table_has_no_errors()
    {
        Assert.Empty(Simple().Validate(radix: 4));
    }

    [Fact]
    public void Weights_not_summing_to_group_size_name_the_group()
    {
        var e = Assert.Single(Simple(weightA: 1).Validate(4));
        Assert.Equal("groups[1].members", e.Field);
        Assert.Contains("sum to 3", e.Reason);
    }

    [Fact]
    public void Port_beyond_radix_names_the_member()
    {
        var e = Assert.Single(Simple(port: 9).Validate(4));
        Assert.Equal("groups[1].members[1].port", e.Field);
    }

    [Fact]
    public void Route_to_missing_group_names_the_route()
    {
        var t = new SwitchTable("s", 1, 4, [], [new(new RouteKey("leaf-1", "ep"), new RouteEntry(7, SpreadMode.Spray))]);
        var e = Assert.Single(t.Validate(4));
        Assert.Equal("routes[leaf-1/ep].groupId", e.Field);
    }

    [Fact]
    public void Duplicate_group_id_is_refused_with_field()
    {
        var ex = Assert.Throws<FabricInputException>(() => new SwitchTable("s", 1, 4,
            [new NextHopGroup(1, [new GroupMember(1, 4)]), new NextHopGroup(1, [new GroupMember(2, 4)])], []));
        Assert.Equal("groups[1]", ex.Errors[0].Field);
    }

    [Fact]
    public void Digest_ignores_order_and_version_but_not_weights()
    {
        var a = Simple();
        var b = new SwitchTable("leaf-0", 9, 4, [new NextHopGroup(1, [new GroupMember(4, 2), new GroupMember(3, 2)])],
            [new(new RouteKey("leaf-0", "default"), new RouteEntry(0, SpreadMode.Hash)), new(new RouteKey("leaf-1", "default"), new RouteEntry(1, SpreadMode.Hash))]);
        Assert.True(a.Digest.SequenceEqual(b.Digest));
        Assert.False(a.Digest.SequenceEqual(Simple(1, 3).Digest));
        Assert.Equal(TableDigest.Length, a.Digest.Length);
    }

    [Property(MaxTest = 200)]
    public bool Random_tables_are_valid(int seed) => Tables.Random(new Random(seed)).Validate(16).Count == 0;
}

public sealed class DigestEncodingTests
{
    [Fact]
    public void Digest_is_sha256_of_the_documented_encoding()
    {
        // Hand-written bytes of the encoding in TableDigest's documentation, so agents in other languages can match it.
        var t = new SwitchTable("x", 5, 4, [new NextHopGroup(7, [new GroupMember(3, 1), new GroupMember(2, 3)])],
            [new(new RouteKey("b", "ep"), new RouteEntry(7, SpreadMode.Spray)), new(new RouteKey("a", "default"), new RouteEntry(0, SpreadMode.Hash))]);
        var bytes = new List<byte>();
        void U32(uint v) => bytes.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        void Str(string s) { U32((uint)s.Length); bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(s)); }
        bytes.AddRange("FTD1"u8.ToArray());
        U32(1); U32(7); U32(2); U32(2); U32(3); U32(3); U32(1);
        U32(2); Str("a"); Str("default"); U32(0); U32(1); Str("b"); Str("ep"); U32(7); U32(2);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(bytes.ToArray()), t.DigestBytes());
    }
}
