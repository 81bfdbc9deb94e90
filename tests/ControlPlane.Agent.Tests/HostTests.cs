using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Protos.Fabric.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using SpreadMode = ControlPlane.Distribution.SpreadMode;

namespace ControlPlane.Agent.Tests;

/// <summary>The host as a single real switch's agent, and refusals to start.</summary>
public sealed class HostTests
{
    private static readonly AgentCredentials Creds = AgentCredentials.FromText(AgentApp.Key);

    private static Dictionary<string, string?> Single(string queue) => new()
    {
        ["Emulation:Enabled"] = "false",
        ["Agent:Fabric"] = "lab",
        ["Agent:Switch"] = "p0-leaf-0",
        ["Agent:Credential"] = Creds.Issue("lab", "p0-leaf-0"),
        ["Agent:Queue"] = queue,
        ["Agent:Radix"] = "8",
    };

    [Fact]
    public async Task A_single_agent_says_hello_applies_its_table_and_drops_other_switches_updates()
    {
        var queue = "agent-" + Guid.NewGuid().ToString("N")[..8];
        await using var app = new AgentApp(Single(queue));
        _ = app.Server;
        await AgentApp.EventuallyAsync(() => app.Hellos().Any(), "the hello");
        var hello = app.Hellos().First();
        Assert.Equal("p0-leaf-0", hello.SwitchName);
        Assert.True(Creds.Verify("lab", "p0-leaf-0", hello.Credential));
        Assert.Equal(queue, app.Recorder.Of<ControlPlane.Contracts.AgentHelloSent>().First().ReplyQueue);

        var table = new SwitchTableBuilder("p0-leaf-0", 3, 64).Route("p0-leaf-1", "ep", [5, 6], [32, 32], SpreadMode.Spray).Local("p0-leaf-0", "ep").Build();
        await app.SendUpdateAsync("lab", "p0-leaf-0", new RouteUpdate { Table = TableWire.ToProto(table) }.ToByteArray());
        await AgentApp.EventuallyAsync(() => app.Acks().Any(), "the ack");
        var ack = app.Acks().Single();
        Assert.True(ack.Applied);
        Assert.Equal(3ul, ack.Version);
        Assert.Equal(table.DigestBytes(), ack.InstalledDigest.ToByteArray());

        var directory = app.Services.GetRequiredService<AgentDirectory>();
        await app.SendUpdateAsync("lab", "p0-leaf-1", new RouteUpdate { Table = TableWire.ToProto(table) }.ToByteArray());
        await AgentApp.EventuallyAsync(() => directory.Dropped == 1, "the drop");
        Assert.Single(app.Acks());
    }

    [Fact]
    public void The_host_refuses_to_start_without_what_it_needs_naming_it()
    {
        var s = Single("q");
        s.Remove("Agent:Credential");
        s["Agent:Radix"] = "0";
        using (var app = new AgentApp(s))
        {
            var e = Assert.ThrowsAny<Exception>(() => app.Server);
            Assert.Contains("Agent:Credential", e.ToString());
            Assert.Contains("Agent:Radix", e.ToString());
        }
        using (var app = new AgentApp(new Dictionary<string, string?> { ["Emulation:Enabled"] = "true", ["Emulation:PeriodMs"] = "1" }))
        {
            var e = Assert.ThrowsAny<Exception>(() => app.Server);
            Assert.Contains("Agents:CredentialKey", e.ToString());
            Assert.Contains("Emulation:PeriodMs", e.ToString());
        }
    }
}
