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
        {
            if (m.RemoveGroupIds[i] is 0 or > int.MaxValue) e.Add(new($"delta.removeGroupIds[{i}]", $"must be between 1 and {int.MaxValue}, got {m.RemoveGroupIds[i]}"));
            else removeGroups.Add((int)m.RemoveGroupIds[i]);
        }
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
            var g = src[i];
            if (g.Id is 0 or > int.MaxValue) { e.Add(new($"{field}[{i}].id", $"must be between 1 and {int.MaxValue}, got {g.Id}")); continue; }
            if (!seen.Add(g.Id)) { e.Add(new($"{field}[{i}].id", $"group {g.Id} appears twice")); continue; }
            var ok = true;
            for (var j = 0; j < g.Members.Count; j++)
            {
                if (g.Members[j].Port > int.MaxValue) { e.Add(new($"{field}[{i}].members[{j}].port", $"too large: {g.Members[j].Port}")); ok = false; }
                if (g.Members[j].Weight > int.MaxValue) { e.Add(new($"{field}[{i}].members[{j}].weight", $"too large: {g.Members[j].Weight}")); ok = false; }
            }
            if (ok) r.Add(new NextHopGroup((int)g.Id, g.Members.Select(x => new GroupMember((int)x.Port, (int)x.Weight))));
        }
        return r;
    }

    private static List<KeyValuePair<RouteKey, RouteEntry>> Routes(IReadOnlyList<Pb.Route> src, string field, List<FieldError> e)
    {
        var r = new List<KeyValuePair<RouteKey, RouteEntry>>(src.Count);
        // Tables are encoded in key order, where a duplicate can only follow its twin; a set is needed only otherwise.
        var ordered = true;
        for (var i = 1; i < src.Count && ordered; i++)
            ordered = new RouteKey(src[i - 1].Destination, src[i - 1].TrafficClass).CompareTo(new RouteKey(src[i].Destination, src[i].TrafficClass)) < 0;
        var seen = ordered ? null : new HashSet<RouteKey>();
        for (var i = 0; i < src.Count; i++)
        {
            var x = src[i];
            var k = new RouteKey(Names.Intern(x.Destination), Names.Intern(x.TrafficClass));
            if (seen is not null && !seen.Add(k)) { e.Add(new($"{field}[{i}]", $"route {k} appears twice")); continue; }
            if (x.GroupId > int.MaxValue) { e.Add(new($"{field}[{i}].groupId", $"too large: {x.GroupId}")); continue; }
            SpreadMode mode;
            switch (x.Mode)
            {
                case Pb.SpreadMode.Hash: mode = SpreadMode.Hash; break;
                case Pb.SpreadMode.Spray: mode = SpreadMode.Spray; break;
                default: e.Add(new($"{field}[{i}].mode", $"must be hash or spray, got {x.Mode}")); continue;
            }
            r.Add(new(k, new RouteEntry((int)x.GroupId, mode)));
        }
        return r;
    }

    /// <summary>
    /// Destination and class names shared by every decoded table: a fabric has a few hundred leaves and a handful of
    /// classes, yet each decoded table would otherwise keep its own copy of every name, and tables are long-lived, so
    /// the copies would be promoted and traced by every collection. Bounded: past the cap, names are kept as decoded.
    /// </summary>
    private static class Names
    {
        private const int Cap = 1 << 16;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);

        public static string Intern(string name)
        {
            if (Pool.TryGetValue(name, out var shared)) return shared;
            return Pool.Count < Cap ? Pool.GetOrAdd(name, name) : name;
        }
    }

    private static void Throw(List<FieldError> e)
    {
        if (e.Count > 0) throw new FabricInputException(e);
    }
}
