using System.Security.Cryptography;
using System.Text;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution;

/// <summary>
/// Per-switch agent credentials derived from one deployment secret: credential = base64url(HMAC-SHA256(key,
/// "fabric/switch")). The control plane keeps only the key; provisioning gives each switch's agent its own credential,
/// so an agent can speak only for its own switch and a leaked credential exposes one switch. Rotating the key
/// rotates every credential.
/// </summary>
public sealed class AgentCredentials
{
    /// <summary>Shortest key accepted, in bytes.</summary>
    public const int MinKeyBytes = 16;

    private readonly byte[] _key;

    /// <summary>Creates the issuer/verifier for one key.</summary>
    /// <exception cref="FabricInputException">When the key is shorter than <see cref="MinKeyBytes"/>.</exception>
    public AgentCredentials(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyBytes) throw new FabricInputException("credentialKey", $"must be at least {MinKeyBytes} bytes, got {key.Length}");
        _key = key.ToArray();
    }

    /// <summary>Creates it from a key given as text (configuration): UTF-8 bytes of the text.</summary>
    public static AgentCredentials FromText(string key) =>
        new(Encoding.UTF8.GetBytes(key ?? throw new FabricInputException("credentialKey", "is required")));

    /// <summary>The credential of a switch's agent.</summary>
    public string Issue(string fabric, string switchName)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(fabric + "/" + switchName));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>True when <paramref name="credential"/> is the credential of exactly this switch (constant-time compare).</summary>
    public bool Verify(string fabric, string switchName, string? credential)
    {
        if (string.IsNullOrEmpty(credential)) return false;
        var expected = Encoding.ASCII.GetBytes(Issue(fabric, switchName));
        var given = Encoding.ASCII.GetBytes(credential);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
