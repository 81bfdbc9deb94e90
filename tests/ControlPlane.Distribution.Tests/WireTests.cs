using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using FsCheck.Xunit;
using Google.Protobuf;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Distribution.Tests;

public sealed class WireTests
{
    [Property(MaxTest = 100)]
    public bool Table_round_trips_through_bytes(int seed)
    {
        var t = Tables.Random(new Random(seed), version: (ulong)(uint)seed + 1);
        var bytes = TableWire.ToProto(t).ToByteArray();
        var back = TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(bytes));
        return back.Equals(t) && back.Digest.SequenceEqual(t.Digest);
    }

    [Property(MaxTest = 100)]
    public bool Delta_round_trips_and_applies_after_decoding(int seed)
    {
        var rng = new Random(seed);
        var a = Tables.Random(rng, version: 1);
        var b = Tables.Mutate(a, rng, 2);
        var update = TableUpdate.Diff(TableDiff.Compute(a, b), priority: true);
        var wire = Pb.RouteUpdate.Parser.ParseFrom(TableWire.ToProto(update).ToByteArray());
        var back = TableWire.FromProto(wire)!;
        return back.Priority && back.Delta!.ApplyTo(a).Table!.Equals(b);
    }

    [Fact]
    public void Tampered_table_digest_is_refused_naming_the_field()
    {
        var m = TableWire.ToProto(Tables.Random(new Random(3), version: 1));
        m.Groups.Add(new Pb.NextHopGroup { Id = 9999, Members = { new Pb.GroupMember { Port = 1, Weight = 32 } } });
        var ex = Assert.Throws<FabricInputException>(() => TableWire.FromProto(m));
        Assert.Equal("table.digest", ex.Errors[0].Field);
    }

    [Fact]
    public void Bad_values_name_their_fields()
    {
        var m = new Pb.RouteTable { SwitchName = "s", Version = 1, GroupSize = 4 };
        m.Groups.Add(new Pb.NextHopGroup { Id = 0 });
        m.Routes.Add(new Pb.Route { Destination = "a", TrafficClass = "x", GroupId = 0, Mode = Pb.SpreadMode.Unspecified });
        var ex = Assert.Throws<FabricInputException>(() => TableWire.FromProto(m));
        Assert.Contains(ex.Errors, e => e.Field == "table.groups[0].id");
        Assert.Contains(ex.Errors, e => e.Field == "table.routes[0].mode");
    }

    [Fact]
    public void Ack_and_hello_round_trip()
    {
        var ack = new AgentAck("leaf-3", 7, false, "table full: 5 groups > 4", [1, 2, 3]);
        var back = TableWire.FromProto(Pb.RouteAck.Parser.ParseFrom(TableWire.ToProto(ack, "agent-a").ToByteArray()));
        Assert.Equal(ack.SwitchName, back.SwitchName);
        Assert.Equal(ack.Version, back.Version);
        Assert.False(back.Applied);
        Assert.Equal(ack.RejectReason, back.RejectReason);
        Assert.Equal(ack.InstalledDigest, back.InstalledDigest);

        var hello = new AgentHelloInfo("leaf-3", 6, [9, 9]);
        var h = TableWire.FromProto(Pb.AgentHello.Parser.ParseFrom(TableWire.ToProto(hello, "agent-a", "secret", "1.0").ToByteArray()));
        Assert.Equal(hello.SwitchName, h.SwitchName);
        Assert.Equal(hello.Version, h.Version);
        Assert.Equal(hello.InstalledDigest, h.InstalledDigest);
    }

    [Fact]
    public void Qos_update_is_not_a_route_update()
    {
        Assert.Null(TableWire.FromProto(new Pb.RouteUpdate { Qos = new Pb.QosConfig { SwitchName = "s" } }));
        Assert.Throws<FabricInputException>(() => TableWire.FromProto(new Pb.RouteUpdate()));
    }
}
