using System.Text.Json;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>`fabricctl bench convergence` runs the loop and prints the figures it measured (not their speed: a benchmark).</summary>
public sealed class ConvergenceBenchTests
{
    [Fact]
    public async Task Bench_convergence_measures_every_failure_on_a_small_fabric_and_reports_json()
    {
        var (rc, output, error) = await Fabricctl.RunAsync("bench", "convergence", "--radix", "8", "--failures", "3", "--periods", "2", "-o", "json");
        Assert.True(rc == 0, error);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(96, r.GetProperty("switches").GetInt32());
        Assert.Equal(3, r.GetProperty("failureToAllAcked").GetProperty("count").GetInt32());
        Assert.Equal(3, r.GetProperty("repairToAllAcked").GetProperty("count").GetInt32());
        Assert.Equal(0, r.GetProperty("timedOut").GetInt32());
        Assert.True(r.GetProperty("failureToAllAcked").GetProperty("p50").GetDouble() > 0);
        Assert.True(r.GetProperty("switchesPerChange").GetDouble() > 0);
        Assert.Equal(2, r.GetProperty("adaptation").GetArrayLength());
        Assert.Contains("first tables", error); // progress goes to stderr, figures to stdout
    }

    [Theory]
    [InlineData("--failures", "0", "failures")]
    [InlineData("--radix", "7", "radix")]
    [InlineData("--rabbitmq", "http://x", "rabbitmq")]
    public async Task Bad_options_are_refused_naming_them(string option, string value, string field)
    {
        var (rc, _, error) = await Fabricctl.RunAsync("bench", "convergence", option, value);
        Assert.Equal(2, rc);
        Assert.Contains("--" + field, error);
    }
}
