using System.Text;
using ControlPlane.Distribution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Hosting;

/// <summary>The agent credential key (section "Agents"), shared by every module that issues or checks agent credentials.</summary>
public sealed class AgentKeyOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Agents";

    /// <summary>The deployment secret agent credentials derive from (text, at least 16 bytes in UTF-8). Required.</summary>
    public string? CredentialKey { get; set; }

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrEmpty(CredentialKey))
            yield return $"{Section}:CredentialKey is required: the key agent credentials derive from (text of at least {AgentCredentials.MinKeyBytes} bytes), e.g. Agents__CredentialKey=...";
        else if (Encoding.UTF8.GetByteCount(CredentialKey) < AgentCredentials.MinKeyBytes)
            yield return $"{Section}:CredentialKey must be at least {AgentCredentials.MinKeyBytes} bytes, got {Encoding.UTF8.GetByteCount(CredentialKey)}";
    }
}

/// <summary>Registers <see cref="AgentCredentials"/> from Agents:CredentialKey, once for the whole host.</summary>
public static class AgentCredentialsExtensions
{
    /// <summary>
    /// Adds the options (validated at start: the host refuses to start naming Agents:CredentialKey when it is missing
    /// or short) and the <see cref="AgentCredentials"/> singleton. Safe to call from several modules.
    /// </summary>
    public static IHostApplicationBuilder AddAgentCredentials(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(IValidateOptions<AgentKeyOptions>))) return builder;
        builder.AddControlPlaneOptions<AgentKeyOptions>(AgentKeyOptions.Section, o => o.Problems());
        builder.Services.TryAddSingleton(sp => AgentCredentials.FromText(sp.GetRequiredService<IOptions<AgentKeyOptions>>().Value.CredentialKey!));
        return builder;
    }

}
