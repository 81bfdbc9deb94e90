extern alias inventoryhost;

using System.Text.Json.Nodes;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ControlPlane.Cli.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>The inventory host in memory, on a fresh database of the real PostgreSQL server.</summary>
internal sealed class InventoryHost(string connectionString) : WebApplicationFactory<inventoryhost::Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Inventory:Seed:Enabled", "false");
        builder.UseSetting("Bus:Transport", "InMemory");
        builder.UseSetting("Store:Provider", "Postgres");
        builder.UseSetting("ConnectionStrings:inventory", connectionString);
    }
}

/// <summary>fabricctl's online verbs against the real inventory service (in-process host, real PostgreSQL).</summary>
[Collection(PostgresCollection.Name)]
public sealed class OnlineCommandTests(PostgresFixture pg)
{
    private const string Server = "http://inventory.test";

    [Fact]
    public async Task Import_get_drain_history_and_undrain_round_trip_through_the_server()
    {
        await using var host = new InventoryHost(await pg.Server.CreateDatabaseAsync("cli"));
        using var dir = new TempDir();
        var file = dir.File("lab.json");
        Assert.Equal(0, (await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "-o", file)).Code);

        var handler = host.Server.CreateHandler();
        var import = await CliRunner.RunAsync(handler, "topology", "import", file, "--fabric", "lab", "--server", Server);
        Assert.True(import.Code == 0, import.Err);

        var fabrics = JsonNode.Parse((await CliRunner.RunAsync(handler, "get", "fabrics", "--server", Server, "-o", "json")).Out)!.AsArray();
        Assert.Contains(fabrics, f => (string?)f!["name"] == "lab");

        var leaves = await CliRunner.RunAsync(handler, "get", "switches", "--fabric", "lab", "--server", Server, "--tier", "leaf", "-o", "json");
        Assert.True(leaves.Code == 0, leaves.Err);
        var leafItems = ItemsOf(leaves.Out);
        Assert.Equal(8, leafItems.Count);
        Assert.All(leafItems, s => Assert.Equal("leaf", (string?)s!["tier"]));

        var uplinks = ItemsOf((await CliRunner.RunAsync(handler, "get", "links", "--fabric", "lab", "--server", Server, "--role", "leafSpine", "-o", "json")).Out);
        var linkId = (int)uplinks[0]!["id"]!;

        var drain = await CliRunner.RunAsync(handler, "drain", "link", linkId.ToString(), "--reason", "flapping optic OPS-1", "--by", "alice", "--fabric", "lab", "--server", Server);
        Assert.True(drain.Code == 0, drain.Err);

        var drained = ItemsOf((await CliRunner.RunAsync(handler, "get", "links", "--fabric", "lab", "--server", Server, "--status", "drained", "-o", "json")).Out);
        var only = Assert.Single(drained);
        Assert.Equal(linkId, (int)only!["id"]!);
        Assert.Equal("flapping optic OPS-1", (string?)only["reason"]);
        Assert.Equal("alice", (string?)only["by"]);

        var history = await CliRunner.RunAsync(handler, "history", "--fabric", "lab", "--server", Server, "-o", "json");
        Assert.True(history.Code == 0, history.Err);
        Assert.Contains("flapping optic OPS-1", history.Out);

        Assert.Equal(0, (await CliRunner.RunAsync(handler, "undrain", "link", linkId.ToString(), "--fabric", "lab", "--server", Server)).Code);
        Assert.Empty(ItemsOf((await CliRunner.RunAsync(handler, "get", "links", "--fabric", "lab", "--server", Server, "--status", "drained", "-o", "json")).Out));
    }

    [Fact]
    public async Task Server_refusals_are_shown_with_their_reason_and_exit_1()
    {
        await using var host = new InventoryHost(await pg.Server.CreateDatabaseAsync("cli"));
        var handler = host.Server.CreateHandler();

        var unknownFabric = await CliRunner.RunAsync(handler, "get", "switches", "--fabric", "nope", "--server", Server);
        Assert.Equal(1, unknownFabric.Code);
        Assert.Contains("404", unknownFabric.Err);

        using var dir = new TempDir();
        var file = dir.File("lab.json");
        await CliRunner.RunAsync("topology", "generate", "ft2", "--radix", "8", "-o", file);
        Assert.Equal(0, (await CliRunner.RunAsync(handler, "topology", "import", file, "--fabric", "lab", "--server", Server)).Code);

        var unknownLink = await CliRunner.RunAsync(handler, "drain", "link", "99999", "--reason", "x", "--fabric", "lab", "--server", Server);
        Assert.Equal(1, unknownLink.Code);
        Assert.Contains("404", unknownLink.Err);

        var stale = await CliRunner.RunAsync(handler, "drain", "link", "3", "--reason", "x", "--expected-version", "999", "--fabric", "lab", "--server", Server);
        Assert.Equal(1, stale.Code);
        Assert.Contains("409", stale.Err);

        var duplicate = await CliRunner.RunAsync(handler, "topology", "import", file, "--fabric", "lab", "--server", Server);
        Assert.Equal(1, duplicate.Code);
        Assert.Contains("409", duplicate.Err);
    }

    [Fact]
    public async Task An_unreachable_server_exits_3()
    {
        // A port nobody listens on: bind an ephemeral port, note it, release it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var r = await CliRunner.RunAsync("get", "fabrics", "--server", $"http://127.0.0.1:{port}");
        Assert.Equal(3, r.Code);
        Assert.Contains("cannot reach the server", r.Err);
    }

    private static JsonArray ItemsOf(string json)
    {
        var node = JsonNode.Parse(json)!;
        return node is JsonArray a ? a : node["items"]!.AsArray();
    }
}
