using System.Security.Cryptography;

namespace ControlPlane.AllInOne;

/// <summary>What the all-in-one host sets up before the modules: the things one process can decide for itself.</summary>
public static class AllInOneDefaults
{
    /// <summary>
    /// Gives the process an agent credential key when none is configured: the emulated agents and the services that
    /// check them live in this process, so a key made up at start (and never written anywhere) is enough.
    /// </summary>
    public static WebApplicationBuilder AddAllInOneDefaults(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["Agents:CredentialKey"]))
            builder.Configuration["Agents:CredentialKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return builder;
    }
}
