using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace ControlPlane.Charts.Tests;

/// <summary>Runs the helm binary that tests/run.sh installs (or HELM from the environment) against the chart.</summary>
internal static class Helm
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ChartPath => Path.Combine(RepoRoot, "charts", "controlplane");

    public static string Binary
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("HELM");
            var path = !string.IsNullOrEmpty(fromEnv) ? fromEnv : Path.Combine(RepoRoot, "artifacts", "tools", "helm", "helm");
            if (!File.Exists(path))
                throw new InvalidOperationException($"helm not found at {path}: run the tests through tests/run.sh, which installs it, or set HELM");
            return path;
        }
    }

    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"helm {string.Join(' ', args)} did not finish in 60 s");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Renders the chart and returns every manifest as a YAML mapping.</summary>
    public static IReadOnlyList<YamlMappingNode> Template(params string[] extraArgs)
    {
        var (code, output) = Run(["template", "fabric", ChartPath, .. extraArgs]);
        Assert.True(code == 0, output);
        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static string FindRepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "ControlPlane.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("ControlPlane.sln not found above " + AppContext.BaseDirectory);
    }
}
