using System.Text.Json;

namespace ControlPlane.Cli.Tests;

public class PlanCommandTests
{
    // Table 3 of the DeepSeek-V3 paper at radix 64.
    [Theory]
    [InlineData("ft2", 2_048, 96, 2_048, 9)]
    [InlineData("mpft", 16_384, 768, 16_384, 72)]
    [InlineData("ft3", 65_536, 5_120, 131_072, 491)]
    [InlineData("slimfly", 32_928, 1_568, 32_928, 146)]
    [InlineData("dragonfly", 261_632, 16_352, 384_272, 1_543)]
    public async Task Plan_json_reproduces_table_3(string kind, long endpoints, long switches, long links, double costM)
    {
        var r = await CliRunner.RunAsync("plan", kind, "--radix", "64", "-o", "json");

        Assert.Equal(0, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.Equal(endpoints, root.GetProperty("endpoints").GetInt64());
        Assert.Equal(switches, root.GetProperty("switches").GetInt64());
        Assert.Equal(links, root.GetProperty("switchLinks").GetInt64());
        Assert.Equal(costM, Math.Round(root.GetProperty("costUsd").GetDouble() / 1e6));
        Assert.Equal(kind == "slimfly" ? "slimFly" : kind, root.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Plan_all_compares_every_kind_as_in_table_3()
    {
        var r = await CliRunner.RunAsync("plan", "all", "-o", "json");
        Assert.Equal(0, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        var rows = doc.RootElement.EnumerateArray().ToDictionary(x => x.GetProperty("kind").GetString()!, x => x.GetProperty("endpoints").GetInt64());
        Assert.Equal(6, rows.Count);
        Assert.Equal(16_384, rows["mpft"]);
        Assert.Equal(32_928, rows["slimFly"]);
        Assert.Equal(261_632, rows["dragonfly"]);

        var table = await CliRunner.RunAsync("plan", "all", "--radix", "16");
        Assert.Equal(0, table.Code);
        Assert.Contains("Slim Fly", table.Out);
        Assert.Contains("Dragonfly", table.Out);
    }

    [Fact]
    public async Task Plan_json_has_every_documented_field()
    {
        var r = await CliRunner.RunAsync("plan", "ft2", "--radix", "16", "-o", "json");
        using var doc = JsonDocument.Parse(r.Out);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(
            ["kind", "radix", "portSpeedGbps", "planes", "oversubscription", "shape", "endpoints", "nodes", "gpus", "switches", "switchesByTier",
             "switchLinks", "hostLinks", "linksByRole", "media", "linksByReach", "transceivers", "cables", "switchPowerKw", "opticsPowerKw",
             "totalPowerKw", "bisectionTbps", "bisectionIsEstimate", "costUsd", "costPerEndpointUsd", "analytical", "notes"],
            names);
        var media = doc.RootElement.GetProperty("media")[0].EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["medium", "reachTier", "links", "transceivers", "cables", "powerW", "costUsd"], media);
    }

    [Fact]
    public async Task Plan_table_shows_the_figures_an_sre_reads()
    {
        var r = await CliRunner.RunAsync("plan", "mpft");
        Assert.Equal(0, r.Code);
        Assert.Contains("16,384", r.Out);
        Assert.Contains("leaf 512, spine 256", r.Out);
        Assert.Contains("72.0 M$", r.Out);
        Assert.Contains("Tb/s", r.Out);
    }

    [Fact]
    public async Task Prices_file_changes_the_cost()
    {
        using var dir = new TempDir();
        var prices = dir.File("prices.json");
        await File.WriteAllTextAsync(prices, """{ "switchUsd": 100000 }""");
        var r = await CliRunner.RunAsync("plan", "ft2", "--prices", prices, "-o", "json");
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(96 * 100_000 + 2_048 * 1_443 + 2_048 * 470, doc.RootElement.GetProperty("costUsd").GetDouble());
    }

    [Theory]
    [InlineData("""{ "switchUsd": -5 }""", "switchUsd")]
    [InlineData("""{ "switchDollars": 5 }""", "switchDollars")]
    [InlineData("""{ "mediumLinkUsd": { "copper": 5 } }""", "copper")]
    public async Task Bad_prices_file_is_a_usage_error_naming_the_field(string json, string field)
    {
        using var dir = new TempDir();
        var prices = dir.File("prices.json");
        await File.WriteAllTextAsync(prices, json);
        var r = await CliRunner.RunAsync("plan", "ft2", "--prices", prices);
        Assert.Equal(2, r.Code);
        Assert.Contains("--prices", r.Err);
        Assert.Contains(field, r.Err);
    }
}
