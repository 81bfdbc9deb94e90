using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Contracts;

/// <summary>
/// Writes a snapshot's link loads as one base64 string of fabric.v1.LinkLoads bytes instead of thousands of JSON
/// objects: a plane's full snapshot was about 2.4 MB of JSON, published ten times a second per plane in deltas and
/// parsed token by token by every consumer. Reads either form (the string, or a JSON array of link objects).
/// </summary>
public sealed class LinkLoadsJsonConverter : JsonConverter<IReadOnlyList<LinkLoad>>
{
    /// <inheritdoc/>
    public override IReadOnlyList<LinkLoad> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return [];
            case JsonTokenType.StartArray: return JsonSerializer.Deserialize<List<LinkLoad>>(ref reader, options) ?? [];
            case JsonTokenType.String:
                Pb.LinkLoads m;
                try
                {
                    m = Pb.LinkLoads.Parser.ParseFrom(reader.GetBytesFromBase64());
                }
                catch (Exception e) when (e is InvalidProtocolBufferException or FormatException or InvalidOperationException)
                {
                    throw new JsonException("loads: not base64 fabric.v1.LinkLoads bytes: " + e.Message, e);
                }
                var loads = new LinkLoad[m.Links.Count];
                for (var i = 0; i < loads.Length; i++) loads[i] = FromProto(m.Links[i]);
                return loads;
            default: throw new JsonException($"loads: expected base64 fabric.v1.LinkLoads bytes or an array of links, got {reader.TokenType}");
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<LinkLoad> value, JsonSerializerOptions options)
    {
        var m = new Pb.LinkLoads();
        foreach (var l in value) m.Links.Add(ToProto(l));
        writer.WriteBase64StringValue(m.ToByteArray());
    }

    private static Pb.LinkLoadEntry ToProto(LinkLoad l)
    {
        var e = new Pb.LinkLoadEntry
        {
            LinkId = l.LinkId, UtilAToB = l.UtilAtoB, UtilBToA = l.UtilBtoA, ErrorRate = l.ErrorRate, PreFecBer = l.PreFecBer,
            DropRate = l.DropRate, EcnRate = l.EcnRate, PauseRate = l.PauseRate, Up = l.Up, Fresh = l.Fresh,
        };
        foreach (var p in l.Priorities)
            e.Priorities.Add(new Pb.PriorityLoadEntry { Priority = p.Priority, UtilAToB = p.UtilAtoB, UtilBToA = p.UtilBtoA, PauseRate = p.PauseRate, QueueBytes = p.QueueBytes });
        return e;
    }

    private static LinkLoad FromProto(Pb.LinkLoadEntry e)
    {
        var priorities = e.Priorities.Count == 0 ? [] : new PriorityLoad[e.Priorities.Count];
        for (var i = 0; i < priorities.Length; i++)
        {
            var p = e.Priorities[i];
            priorities[i] = new PriorityLoad { Priority = p.Priority, UtilAtoB = p.UtilAToB, UtilBtoA = p.UtilBToA, PauseRate = p.PauseRate, QueueBytes = p.QueueBytes };
        }
        return new LinkLoad
        {
            LinkId = e.LinkId, UtilAtoB = e.UtilAToB, UtilBtoA = e.UtilBToA, ErrorRate = e.ErrorRate, PreFecBer = e.PreFecBer,
            DropRate = e.DropRate, EcnRate = e.EcnRate, PauseRate = e.PauseRate, Up = e.Up, Fresh = e.Fresh, Priorities = priorities,
        };
    }
}
