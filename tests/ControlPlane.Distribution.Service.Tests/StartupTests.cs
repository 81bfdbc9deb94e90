namespace ControlPlane.Distribution.Service.Tests;

/// <summary>Bad configuration stops the host at start with the key named.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Agents:CredentialKey", "", "Agents:CredentialKey")]
    [InlineData("Agents:CredentialKey", "short", "Agents:CredentialKey")]
    [InlineData("Distribution:PriorityWaveTimeout", "-00:00:01", "Distribution:PriorityWaveTimeout")]
    [InlineData("Distribution:Jitter", "2", "Distribution:Jitter")]
    [InlineData("Distribution:ConvergenceHistory", "0", "Distribution:ConvergenceHistory")]
    public void Bad_options_stop_the_host_naming_the_key(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Store:Provider"] = "Sqlite",
            ["Store:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dist-startup-" + Guid.NewGuid().ToString("N")),
            ["Agents:CredentialKey"] = DistributionApp.Key,
            [key] = value,
        };
        using var app = new DistributionApp(settings);
        var e = Assert.ThrowsAny<Exception>(() => app.Server);
        var text = e.ToString();
        Assert.Contains(named, text);
    }
}
