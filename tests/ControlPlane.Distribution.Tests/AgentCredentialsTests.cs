using ControlPlane.Distribution;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Tests;

public class AgentCredentialsTests
{
    private static readonly AgentCredentials Issuer = AgentCredentials.FromText("a-deployment-secret-of-some-length");

    [Fact]
    public void A_switch_credential_verifies_for_that_switch_only()
    {
        var c = Issuer.Issue("mpft", "p0-leaf-1");
        Assert.True(Issuer.Verify("mpft", "p0-leaf-1", c));
        Assert.False(Issuer.Verify("mpft", "p0-leaf-2", c));
        Assert.False(Issuer.Verify("other", "p0-leaf-1", c));
        Assert.False(Issuer.Verify("mpft", "p0-leaf-1", null));
        Assert.False(Issuer.Verify("mpft", "p0-leaf-1", c[..^1]));
        Assert.False(AgentCredentials.FromText("another-deployment-secret-xx").Verify("mpft", "p0-leaf-1", c));
    }

    [Fact]
    public void A_short_key_is_refused_naming_the_field()
    {
        var e = Assert.Throws<FabricInputException>(() => AgentCredentials.FromText("short"));
        Assert.Contains(e.Errors, x => x.Field == "credentialKey");
    }
}
