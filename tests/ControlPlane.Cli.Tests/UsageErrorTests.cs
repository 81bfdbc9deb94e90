namespace ControlPlane.Cli.Tests;

public class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "plan", "torus" }, "<kind>", "torus")]
    [InlineData(new[] { "plan", "mpft", "--radix", "0" }, "--radix", "between 4 and 512")]
    [InlineData(new[] { "plan", "mpft", "--radix", "63" }, "--radix", "even")]
    [InlineData(new[] { "plan", "mpft", "--planes", "10000000" }, "--planes", "between 1 and 64")]
    [InlineData(new[] { "plan", "mpft", "--planes", "3" }, "--nics-per-node", "multiple of planes")]
    [InlineData(new[] { "plan", "ft2", "--oversubscription", "0.5" }, "--oversubscription", "between 1 and 16")]
    [InlineData(new[] { "plan", "ft2", "--speed", "300" }, "--speed", "must be one of")]
    [InlineData(new[] { "plan", "slimfly", "--planes", "2" }, "--planes", "one plane")]
    [InlineData(new[] { "plan", "ft3", "--radix", "abc" }, "--radix", "'abc' is not a whole number")]
    [InlineData(new[] { "plan", "ft2", "-o", "xml" }, "--output", "'xml' is not one of table, json")]
    [InlineData(new[] { "topology", "generate", "ft2", "-o", "x", "--format", "xml" }, "--format", "not one of json, yaml, ibnetdiscover")]
    [InlineData(new[] { "get", "links", "-f", "prod", "--status", "broken" }, "--status", "not one of up, down, drained, maintenance")]
    [InlineData(new[] { "drain", "link", "abc", "-f", "prod", "-r", "x" }, "<id>", "not a whole number")]
    [InlineData(new[] { "plan", "ft2", "--colour" }, "--colour", "")]
    [InlineData(new[] { "topology", "generate", "slimfly", "-o", "x.json" }, "<kind>", "fabricctl plan slimfly")]
    [InlineData(new[] { "topology", "generate", "ft2" }, "--output", "")]
    [InlineData(new[] { "topology", "validate", "/nonexistent/fabric.json" }, "/nonexistent/fabric.json", "no such file")]
    [InlineData(new[] { "get", "links" }, "--fabric", "FABRICCTL_FABRIC")]
    [InlineData(new[] { "get", "links", "--fabric", "prod", "--server", "ftp://x" }, "--server", "http")]
    [InlineData(new[] { "drain", "link", "12", "--fabric", "prod" }, "--reason", "")]
    [InlineData(new[] { "bench", "convergence", "--warmup", "-1" }, "--warmup", "between 0 and 1000")]
    [InlineData(new[] { "bench", "convergence", "--failures", "0" }, "--failures", "between 1 and 10000")]
    [InlineData(new[] { "bench", "convergence", "--radix", "7" }, "--radix", "even number")]
    public async Task Bad_command_lines_exit_2_naming_the_option(string[] args, string option, string reason)
    {
        var r = await CliRunner.RunAsync(args);
        Assert.Equal(2, r.Code);
        Assert.Contains(option, r.Err);
        Assert.Contains(reason, r.Err);
        Assert.StartsWith("error: ", r.Err);
    }

    [Fact]
    public async Task No_verb_shows_help_and_exits_2()
    {
        var r = await CliRunner.RunAsync();
        Assert.Equal(2, r.Code);
        Assert.Contains("plan", r.Out);
        Assert.Contains("topology", r.Out);
    }

    [Fact]
    public async Task Help_exits_0()
    {
        var r = await CliRunner.RunAsync("plan", "--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("--oversubscription", r.Out);
    }

    [Fact]
    public async Task Unreachable_server_exits_3()
    {
        var r = await CliRunner.RunAsync("get", "fabrics", "--server", "http://127.0.0.1:1");
        Assert.Equal(3, r.Code);
        Assert.Contains("cannot reach the server", r.Err);
    }
}
