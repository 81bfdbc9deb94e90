using ControlPlane.Fabric;
using Google.Protobuf;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Distribution.Wire;

/// <summary>
/// Converts between the distribution core's model and the fabric.v1 protobuf messages. Decoding checks what the wire
/// cannot: ranges, duplicates, and that a full table's digest matches its contents; every problem names its field.
/// </summary>
public static class TableWire
{
    /// <summary>A full table as sent to an agent (digest included).</summary>
    public static Pb.RouteTable ToProto(SwitchTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var m = new Pb.RouteTable
        {
            SwitchName = table.SwitchName,
            Version = table.Version,
            GroupSize = (uint)table.GroupSize,
            Digest = ByteString.CopyFrom(table.Digest),
        };
        m.Groups.AddRange(table.Groups.Values.Select(ToProto));
        m.Routes.AddRange(table.Routes.Select(ToProto));
        return m;
    }

    /// <summary>A delta as sent to an agent.</summary>
    public static Pb.RouteDelta ToProto(TableDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var m = new Pb.RouteDelta
        {
            SwitchName = delta.SwitchName,
            BaseVersion = delta.BaseVersion,
            Version = delta.Version,
            Digest = ByteString.CopyFrom(delta.Digest.AsSpan()),
        };
        m.UpsertGroups.AddRange(delta.UpsertGroups.Select(ToProto));
        m.RemoveGroupIds.AddRange(delta.RemoveGroupIds.Select(i => (uint)i));
        m.UpsertRoutes.AddRange(delta.UpsertRoutes.Select(ToProto));
        m.RemoveRoutes.AddRange(delta.RemoveRoutes.Select(k => new Pb.RouteKey { Destination = k.Destination, TrafficClass = k.TrafficClass }));
        return m;
    }

    /// <summary>A planned update as the message to send.</summary>
    public static Pb.RouteUpdate ToProto(TableUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var m = new Pb.RouteUpdate { Priority = update.Priority };
        if (update.Table is { } t) m.Table = ToProto(t);
        else if (update.Delta is { } d) m.Delta = ToProto(d);
        else throw new ArgumentException("update carries neither a table nor a delta", nameof(update));
        return m;
    }

    /// <summary>Decodes a full table; its digest must match its contents.</summary>
    /// <exception cref="FabricInputException">Out-of-range values, duplicates or a digest mismatch, each naming the field.</exception>
    public static SwitchTable FromProto(Pb.RouteTable m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var e = new List<FieldError>();
        if (m.GroupSize > int.MaxValue) e.Add(new("table.groupSize", $"too large: {m.GroupSize}"));
        var groups = Groups(m.Groups, "table.groups", e);
        var routes = Routes(m.Routes, "table.routes", e);
        Throw(e);
        var t = new SwitchTable(m.SwitchName, m.Version, (int)m.GroupSize, groups, routes);
        if (!m.Digest.Span.SequenceEqual(t.Digest))
            throw new FabricInputException("table.digest", $"{TableDigest.Short(m.Digest.Span)} does not match the contents ({TableDigest.Short(t.Digest)})");
        return t;
    }

    /// <summary>Decodes a delta (its digest is checked when applied).</summary>
    /// <exception cref="FabricInputException">Out-of-range values or duplicates, each naming the field.</exception>
    public static TableDelta FromProto(Pb.RouteDelta m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var e = new List<FieldError>();
        var groups = Groups(m.UpsertGroups, "delta.upsertGroups", e);
        var routes = Routes(m.UpsertRoutes, "delta.upsertRoutes", e);
        var removeGroups = new List<int>();
        for (var i = 0; i < m.RemoveGroupIds.Count; i++)
            if (WireChecks.RemovedGroupId(m.RemoveGroupIds[i], i, e) is { } id) removeGroups.Add(id);
        var removeRoutes = m.RemoveRoutes.Select(k => new RouteKey(k.Destination, k.TrafficClass)).ToList();
        if (m.Digest.Length != TableDigest.Length) e.Add(new("delta.digest", $"must be {TableDigest.Length} bytes, got {m.Digest.Length}"));
        Throw(e);
        return new TableDelta(m.SwitchName, m.BaseVersion, m.Version, groups, removeGroups, routes, removeRoutes, m.Digest.Span);
    }

    /// <summary>Decodes an update; QoS updates are not route updates and give null.</summary>
    /// <exception cref="FabricInputException">Invalid contents, each naming the field.</exception>
    public static TableUpdate? FromProto(Pb.RouteUpdate m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return m.BodyCase switch
        {
            Pb.RouteUpdate.BodyOneofCase.Table => TableUpdate.Full(FromProto(m.Table), m.Priority),
            Pb.RouteUpdate.BodyOneofCase.Delta => TableUpdate.Diff(FromProto(m.Delta), m.Priority),
            Pb.RouteUpdate.BodyOneofCase.Qos => null,
            _ => throw new FabricInputException("body", "update carries no table, delta or QoS config"),
        };
    }

    /// <summary>An agent's ack on the wire.</summary>
    public static Pb.RouteAck ToProto(AgentAck ack, string agentId)
    {
        ArgumentNullException.ThrowIfNull(ack);
        return new Pb.RouteAck
        {
            SwitchName = ack.SwitchName,
            AgentId = agentId,
            Version = ack.Version,
            Applied = ack.Applied,
            RejectReason = ack.RejectReason ?? "",
            InstalledDigest = ByteString.CopyFrom(ack.InstalledDigest),
        };
    }

    /// <summary>An ack from the wire.</summary>
    public static AgentAck FromProto(Pb.RouteAck m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new AgentAck(m.SwitchName, m.Version, m.Applied, m.Applied ? null : m.RejectReason, m.InstalledDigest.ToByteArray());
    }

    /// <summary>A hello on the wire (the credential is the transport's business).</summary>
    public static Pb.AgentHello ToProto(AgentHelloInfo hello, string agentId, string credential, string softwareVersion)
    {
        ArgumentNullException.ThrowIfNull(hello);
        return new Pb.AgentHello
        {
            SwitchName = hello.SwitchName,
            AgentId = agentId,
            Credential = credential,
            TableVersion = hello.Version,
            TableDigest = ByteString.CopyFrom(hello.InstalledDigest),
            SoftwareVersion = softwareVersion,
        };
    }

    /// <summary>A hello from the wire, for the planner (authenticate the credential before calling this).</summary>
    public static AgentHelloInfo FromProto(Pb.AgentHello m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new AgentHelloInfo(m.SwitchName, m.TableVersion, m.TableDigest.ToByteArray());
    }

    private static Pb.NextHopGroup ToProto(NextHopGroup g)
    {
        var m = new Pb.NextHopGroup { Id = (uint)g.Id };
        m.Members.AddRange(g.Members.Select(x => new Pb.GroupMember { Port = (uint)x.Port, Weight = (uint)x.Weight }));
        return m;
    }

    private static Pb.Route ToProto(KeyValuePair<RouteKey, RouteEntry> r) => new()
    {
        Destination = r.Key.Destination,
        TrafficClass = r.Key.TrafficClass,
        GroupId = (uint)r.Value.GroupId,
        Mode = r.Value.Mode == SpreadMode.Spray ? Pb.SpreadMode.Spray : Pb.SpreadMode.Hash,
    };

    private static List<NextHopGroup> Groups(IReadOnlyList<Pb.NextHopGroup> src, string field, List<FieldError> e)
    {
        var r = new List<NextHopGroup>(src.Count);
        var seen = new HashSet<uint>();
        for (var i = 0; i < src.Count; i++)
        {
            var members = src[i].Members.Select(x => (x.Port, x.Weight)).ToArray();
            if (WireChecks.Group(src[i].Id, members, field, i, seen, e) is { } g) r.Add(g);
        }
        return r;
    }

    private static List<KeyValuePair<RouteKey, RouteEntry>> Routes(IReadOnlyList<Pb.Route> src, string field, List<FieldError> e) =>
        WireChecks.Routes(src.Select(x => new WireChecks.RawRoute(WireChecks.Names.Intern(x.Destination), WireChecks.Names.Intern(x.TrafficClass), x.GroupId, (int)x.Mode)).ToArray(), field, e);

    private static void Throw(List<FieldError> e) => WireChecks.Throw(e);
}
