namespace ControlPlane.Cli;

/// <summary>Process exit codes of fabricctl (documented in README.md).</summary>
public static class ExitCodes
{
    /// <summary>Success; for validate and cabling: nothing wrong found.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found problems (validation, cabling, bad input file) or the server refused the request.</summary>
    public const int Problems = 1;

    /// <summary>The command line is wrong: unknown verb, kind or option, a bad option value, a missing file.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached.</summary>
    public const int Unreachable = 3;
}

/// <summary>A command-line mistake; the message names the option and the reason. Exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
