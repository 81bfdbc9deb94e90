using System.Text.Json.Nodes;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Testing;
using Google.Protobuf;

namespace ControlPlane.Telemetry.Service.Tests;

/// <summary>Every endpoint with bad input: a problem naming the field and the reason, and nothing accepted or stored.</summary>
[Collection(ServersCollection.Name)]
public sealed class BadInputTests(PostgresFixture pg) : IAsyncLifetime
{
    private const int MaxBatch = 4096;
    private TelemetryApp _app = null!;
    private HttpClient _client = null!;
    private static readonly Fabric.FabricTopology Topology = TelemetryApp.SmallFt2("bad");
    private static readonly string Leaf = Topology.Switches.First(s => s.Tier == Fabric.SwitchTier.Leaf).Name;

    public async Task InitializeAsync()
    {
        _app = await pg.SharedAsync(nameof(BadInputTests), server => TelemetryApp.StartAsync(server, "bad",
            ("Telemetry:Pipeline:MaxBatchBytes", MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        _client = _app.CreateClient();
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    private static long _sequence;

    // A fresh sequence number each time: a batch whose samples were all refused still advances the switch's sequence.
    private TelemetryBatch Good(int? port = 1) => TelemetryApp.Batch(Topology, Leaf, (ulong)Interlocked.Increment(ref _sequence), _app.Clock.GetUtcNow(), 1_000_000, port);

    public static TheoryData<string, int, string> IngestCases() => new()
    {
        { "truncated-in-header", 400, "body" },
        { "truncated-in-samples", 400, "body" },
        { "garbage", 400, "body" },
        { "empty", 400, "body" },
        { "oversize", 413, "body" },
        { "no-agent-header", 400, "x-agent-id" },
        { "json-content-type", 415, "content-type" },
        { "unknown-switch", 400, "switch_name" },
        { "no-switch-name", 400, "switch_name" },
        { "unknown-fabric", 400, "fabric" },
        { "no-agent-id", 400, "agent_id" },
        { "nan-temperature", 400, "ports[port=1]" },
        { "infinite-ber", 400, "ports[port=1]" },
        { "port-beyond-radix", 400, "ports[port=99]" },
        { "future-sample-time", 400, "sample_time_unix_nanos" },
        { "ancient-sample-time", 400, "sample_time_unix_nanos" },
    };

    [Theory]
    [MemberData(nameof(IngestCases))]
    public async Task Bad_batches_are_refused_with_a_problem_naming_the_field(string kind, int status, string field)
    {
        var good = Good();
        var bytes = good.ToByteArray();
        string? agent = "agent-bad";
        var type = "application/x-protobuf";
        var query = "";
        switch (kind)
        {
            case "truncated-in-header": bytes = bytes[..4]; break;
            case "truncated-in-samples": bytes = bytes[..^3]; break;
            case "garbage": bytes = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]; break;
            case "empty": bytes = []; break;
            case "oversize":
                var big = Good(null);
                while (big.CalculateSize() <= MaxBatch) big.Ports.Add(big.Ports[0]);
                bytes = big.ToByteArray();
                break;
            case "no-agent-header": agent = null; break;
            case "json-content-type": type = "application/json"; break;
            case "unknown-switch": good.SwitchName = "no-such-switch"; bytes = good.ToByteArray(); break;
            case "no-switch-name": good.SwitchName = ""; bytes = good.ToByteArray(); break;
            case "unknown-fabric": query = "?fabric=nope"; break;
            case "no-agent-id": good.AgentId = ""; bytes = good.ToByteArray(); break;
            case "nan-temperature": good.Ports[0].Optics.TemperatureC = double.NaN; bytes = good.ToByteArray(); break;
            case "infinite-ber": good.Ports[0].Optics.PreFecBer = double.PositiveInfinity; bytes = good.ToByteArray(); break;
            case "port-beyond-radix": good.Ports[0].Port = 99; bytes = good.ToByteArray(); break;
            case "future-sample-time": good.SampleTimeUnixNanos += (long)3600e9; bytes = good.ToByteArray(); break;
            case "ancient-sample-time": good.SampleTimeUnixNanos -= (long)3600e9; bytes = good.ToByteArray(); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }
        using var r = await _client.PostAsync("/api/v1/telemetry/batches" + query, TelemetryApp.Protobuf(bytes, agent, type));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == status, $"{kind}: expected {status}, got {(int)r.StatusCode} {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!;
        var errors = body["errors"]?.AsObject();
        Assert.True(errors is not null && errors.ContainsKey(field), $"{kind}: expected an error for '{field}', got {text}");
        Assert.False(string.IsNullOrWhiteSpace((string?)body["detail"]), text);
        await NothingStoredAsync();
    }

    public static TheoryData<string, int, string?> QueryCases() => new()
    {
        { $"/api/v1/telemetry/ports/{Leaf}/abc?since=1h", 400, "port" },
        { $"/api/v1/telemetry/ports/{Leaf}/0", 400, "port" },
        { $"/api/v1/telemetry/ports/{Leaf}/99", 400, "port" },
        { "/api/v1/telemetry/ports/no-such-switch/1", 404, null },
        { $"/api/v1/telemetry/ports/{Leaf}/1?since=abc", 400, "since" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?since=-1h", 400, "since" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?since=0h", 400, "since" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?since=1h&until=2h", 400, "since" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?since=30d", 400, "since" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?until=tomorrow", 400, "until" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?colour=red", 400, "colour" },
        { $"/api/v1/telemetry/ports/{Leaf}/1?fabric=nope", 400, "fabric" },
        { "/api/v1/telemetry/links/abc", 400, "id" },
        { "/api/v1/telemetry/links/-1", 400, "id" },
        { "/api/v1/telemetry/links/99999", 404, null },
        { "/api/v1/telemetry/links/1?fabric=nope", 404, null },
        { "/api/v1/telemetry/links/1?since=1x", 400, "since" },
    };

    [Theory]
    [MemberData(nameof(QueryCases))]
    public async Task Bad_queries_are_refused_with_a_problem_naming_the_field(string url, int status, string? field)
    {
        using var r = await _client.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == status, $"{url}: expected {status}, got {(int)r.StatusCode} {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!;
        if (field is not null)
        {
            var errors = body["errors"]?.AsObject();
            Assert.True(errors is not null && errors.ContainsKey(field), $"{url}: expected an error for '{field}', got {text}");
        }
        Assert.False(string.IsNullOrWhiteSpace((string?)body["detail"]), text);
    }

    [Fact]
    public async Task Refusals_are_counted_by_reason_and_agent()
    {
        var bad = Good();
        bad.Ports[0].Optics.TemperatureC = double.NaN;
        await _client.PostAsync("/api/v1/telemetry/batches", TelemetryApp.Protobuf(bad.ToByteArray(), "agent-bad"));
        var (_, stats) = await TelemetryApp.GetAsync(_client, "/api/v1/telemetry/stats");
        Assert.True((long)stats!["samplesRejected"]!["notFinite"]! >= 1, stats.ToJsonString());
        Assert.True((long)stats["agents"]!["agent-" + Leaf]!["samplesRejected"]!["notFinite"]! >= 1, stats.ToJsonString());
        await NothingStoredAsync();
    }

    /// <summary>No sample accepted, and after a bucket's worth of time no row written.</summary>
    private async Task NothingStoredAsync()
    {
        await _app.AdvanceAsync(TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(1));
        var (_, stats) = await TelemetryApp.GetAsync(_client, "/api/v1/telemetry/stats");
        Assert.Equal(0, (long)stats!["samplesAccepted"]!);
        Assert.Equal(0, await _app.ScalarAsync("SELECT count(*) FROM port_series"));
    }
}
