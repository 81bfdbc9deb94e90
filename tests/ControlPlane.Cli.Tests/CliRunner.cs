namespace ControlPlane.Cli.Tests;

/// <summary>Runs fabricctl in-process and captures its output.</summary>
internal static class CliRunner
{
    public sealed record Result(int Code, string Out, string Err);

    public static Task<Result> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Runs against a server reached through <paramref name="handler"/> (e.g. a WebApplicationFactory's Server.CreateHandler()).</summary>
    public static async Task<Result> RunAsync(HttpMessageHandler? handler, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        // An empty environment: tests must not depend on the machine's FABRICCTL_* variables.
        var code = await Cli.RunAsync(args, o, e, handler, environment: _ => null);
        return new Result(code, o.ToString(), e.ToString());
    }
}

/// <summary>A temporary directory removed after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fabricctl-test-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
