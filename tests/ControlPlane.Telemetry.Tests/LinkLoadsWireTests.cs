using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Telemetry.Tests;

/// <summary>Link loads in the snapshot's JSON envelope: protobuf bytes written, both forms read, bad input named.</summary>
public sealed class LinkLoadsWireTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static LinkLoadSnapshot Snapshot(params LinkLoad[] loads) => new()
    {
        Fabric = "f", Plane = 2, Sequence = 9, IsFull = true, PeriodEnd = DateTimeOffset.UnixEpoch, MaxLagMs = 1.5, Loads = loads,
    };

    private static LinkLoad Load(int id) => new()
    {
        LinkId = id, UtilAtoB = 0.1 * id, UtilBtoA = 1.0 / 3, ErrorRate = 2.5, PreFecBer = 1e-12, DropRate = 4, EcnRate = 5, PauseRate = 6,
        Up = id % 2 == 0, Fresh = true,
        Priorities = id % 3 == 0 ? [] : [new PriorityLoad { Priority = 3, UtilAtoB = 0.25, UtilBtoA = 0.5, PauseRate = 7, QueueBytes = 1L << 40 }],
    };

    [Fact]
    public void Loads_travel_as_one_protobuf_string_and_come_back_exactly()
    {
        var s = Snapshot([.. Enumerable.Range(-2, 50).Select(Load)]);
        var json = JsonSerializer.Serialize(s, Web);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(json).RootElement.GetProperty("loads").ValueKind);
        var back = JsonSerializer.Deserialize<LinkLoadSnapshot>(json, Web)!;
        Assert.Equal(s.Loads.Count, back.Loads.Count);
        for (var i = 0; i < s.Loads.Count; i++)
        {
            Assert.Equal(s.Loads[i] with { Priorities = [] }, back.Loads[i] with { Priorities = [] });
            Assert.Equal(s.Loads[i].Priorities, back.Loads[i].Priorities);
        }
    }

    [Fact]
    public void A_json_array_of_links_is_read_too()
    {
        var json = """{"fabric":"f","plane":0,"sequence":1,"isFull":true,"periodEnd":"2026-01-01T00:00:00Z","maxLagMs":0,"loads":[{"linkId":7,"utilAtoB":0.5,"utilBtoA":0.25,"errorRate":0,"preFecBer":0,"dropRate":0,"ecnRate":0,"pauseRate":0,"up":true,"fresh":true}]}""";
        var s = JsonSerializer.Deserialize<LinkLoadSnapshot>(json, Web)!;
        Assert.Equal(7, Assert.Single(s.Loads).LinkId);
        Assert.Equal(0.25, s.Loads[0].UtilBtoA);
    }

    [Theory]
    [InlineData("\"not base64!\"")]
    [InlineData("\"AAEC\"")]
    [InlineData("17")]
    public void Bad_loads_are_refused_naming_the_field(string loads)
    {
        var json = $$"""{"fabric":"f","plane":0,"sequence":1,"isFull":true,"periodEnd":"2026-01-01T00:00:00Z","maxLagMs":0,"loads":{{loads}}}""";
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<LinkLoadSnapshot>(json, Web));
        Assert.Contains("loads", e.Message, StringComparison.Ordinal);
    }
}
