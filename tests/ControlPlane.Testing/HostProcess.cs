using System.Diagnostics;
using System.Net.Http;

namespace ControlPlane.Testing;

/// <summary>
/// One of our service hosts run as its own operating-system process (`dotnet Host.dll`), configured only through
/// environment variables, as the chart runs it: the end-to-end tests start the services this way against real
/// PostgreSQL and RabbitMQ. Output goes to a log file whose tail is shown when something fails.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();

    private HostProcess(string name, Process process, StreamWriter log, string logPath, string baseUrl)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
        BaseUrl = baseUrl;
    }

    /// <summary>Short name used in messages.</summary>
    public string Name { get; }

    /// <summary>Where the host's output goes.</summary>
    public string LogPath { get; }

    /// <summary>http://127.0.0.1:port of the host.</summary>
    public string BaseUrl { get; }

    /// <summary>True while the process runs.</summary>
    public bool Running => !_process.HasExited;

    /// <summary>The folder holding ControlPlane.sln, found upwards from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"ControlPlane.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The built assembly of a host project, e.g. ("Routing", "ControlPlane.Routing.Host"), in the configuration the tests were built in.</summary>
    public static string HostAssembly(string serviceFolder, string project)
    {
        // The tests run from bin/<configuration>/net10.0/: the hosts are built in the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Debug";
        var path = Path.Combine(RepositoryRoot(), "services", serviceFolder, project, "bin", configuration, "net10.0", project + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{project} is not built at {path}: reference the host project from the test project", path);
        return path;
    }

    /// <summary>
    /// Starts `dotnet assembly` with the environment given (plus Urls on a free loopback port) and waits until
    /// /healthz answers 200; throws with the log tail when it exits or does not get there in time.
    /// </summary>
    public static async Task<HostProcess> StartAsync(string name, string assembly, IReadOnlyDictionary<string, string> environment, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var port = ServerProcess.FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var logPath = Path.Combine(Path.GetTempPath(), $"cp-host-{name}-{Guid.NewGuid():N}"[..32] + ".log");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        psi.ArgumentList.Add(assembly);
        psi.Environment["Urls"] = baseUrl;
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {assembly}");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var host = new HostProcess(name, process, log, logPath, baseUrl);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                var tail = ServerProcess.Tail(logPath);
                await host.DisposeAsync();
                throw new InvalidOperationException($"{name} exited with code {process.ExitCode} while starting\n--- log tail ---\n{tail}");
            }
            try
            {
                using var r = await http.GetAsync(baseUrl + "/healthz", cancellationToken);
                if (r.IsSuccessStatusCode) return host;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            await Task.Delay(200, cancellationToken);
        }
        var last = ServerProcess.Tail(logPath);
        await host.DisposeAsync();
        throw new TimeoutException($"{name} did not answer /healthz at {baseUrl}\n--- log tail ---\n{last}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            try { _log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>The last lines of the host's output.</summary>
    public string LogTail(int lines = 60) => ServerProcess.Tail(LogPath, lines);

    /// <summary>Kills the process at once, as a crash would (no graceful shutdown).</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM, as Kubernetes does) and kills it if it has not after a while.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                term?.WaitForExit(5000);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Fall through to killing it.
            }
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
        lock (_gate) _log.Dispose();
    }
}
