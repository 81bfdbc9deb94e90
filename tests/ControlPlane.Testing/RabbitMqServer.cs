using System.Diagnostics;

namespace ControlPlane.Testing;

/// <summary>
/// A real RabbitMQ node started from the Debian install in a temp folder, on random loopback ports,
/// with its own epmd (private ERL_EPMD_PORT) and Erlang cookie (HOME), so it never clashes with
/// another node on the machine. The guest user works because it connects from loopback.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    /// <summary>The real scripts (not Debian's /usr/sbin wrappers, which switch to the rabbitmq user when run as root).</summary>
    public static string ScriptDir => Environment.GetEnvironmentVariable("RABBITMQ_SCRIPTS") ?? "/usr/lib/rabbitmq/bin";

    private readonly string _root;
    private readonly Dictionary<string, string> _env;
    private Process? _server;
    private Process? _epmd;
    private bool _stopped;

    private RabbitMqServer(string root, int amqpPort, int distPort, int epmdPort)
    {
        _root = root;
        AmqpPort = amqpPort;
        NodeName = $"rabbit-test-{Guid.NewGuid():N}"[..20] + "@localhost";
        var mnesia = Path.Combine(root, "mnesia");
        var logs = Path.Combine(root, "log");
        Directory.CreateDirectory(mnesia);
        Directory.CreateDirectory(logs);
        var plugins = Path.Combine(root, "enabled_plugins");
        File.WriteAllText(plugins, "[].\n");
        _env = new Dictionary<string, string>
        {
            ["HOME"] = root,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = amqpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = distPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_MNESIA_BASE"] = mnesia,
            ["RABBITMQ_LOG_BASE"] = logs,
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins,
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(root, "rabbitmq-env.conf"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(root, "rabbitmq"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(root, "rabbit.pid"),
            ["ERL_EPMD_PORT"] = epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
        };
        EpmdPort = epmdPort;
    }

    /// <summary>The AMQP port on 127.0.0.1.</summary>
    public int AmqpPort { get; }

    /// <summary>The private epmd port.</summary>
    public int EpmdPort { get; }

    /// <summary>Erlang node name, unique per server.</summary>
    public string NodeName { get; }

    /// <summary>The connection string hosts take as ConnectionStrings:rabbitmq.</summary>
    public string AmqpUri => $"amqp://guest:guest@127.0.0.1:{AmqpPort}/";

    private string ServerLog => Path.Combine(_root, "server.out");

    /// <summary>The last lines of the server's output and its log files.</summary>
    public string LogTail(int lines = 40)
    {
        var tail = ServerProcess.Tail(ServerLog, lines);
        var logDir = Path.Combine(_root, "log");
        if (Directory.Exists(logDir))
            foreach (var f in Directory.GetFiles(logDir, "*.log")) tail += $"\n--- {Path.GetFileName(f)} ---\n" + ServerProcess.Tail(f, lines);
        return tail;
    }

    /// <summary>Starts a node and waits until it accepts connections; throws with the log tail when it cannot.</summary>
    public static async Task<RabbitMqServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var script = Path.Combine(ScriptDir, "rabbitmq-server");
        if (!File.Exists(script))
            throw new InvalidOperationException($"RabbitMQ not found: {script} is missing (install rabbitmq-server or set RABBITMQ_SCRIPTS)");
        var ports = ServerProcess.FreePorts(3);
        var server = new RabbitMqServer(ServerProcess.TempFolder("cp-rmq"), ports[0], ports[1], ports[2]);
        try
        {
            await server.StartProcessesAsync(cancellationToken);
            return server;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var tail = server.LogTail();
            await server.DisposeAsync();
            throw new InvalidOperationException($"could not start RabbitMQ node {server.NodeName} on port {server.AmqpPort}: {e.Message}\n--- log tail ---\n{tail}", e);
        }
    }

    private async Task StartProcessesAsync(CancellationToken ct)
    {
        // Our own epmd in the foreground, so we own its PID and can end it.
        var epmdPsi = new ProcessStartInfo(File.Exists("/usr/bin/epmd") ? "/usr/bin/epmd" : "epmd")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "-port", EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-address", "127.0.0.1" }) epmdPsi.ArgumentList.Add(a);
        _epmd = Process.Start(epmdPsi) ?? throw new InvalidOperationException("could not start epmd");
        _epmd.OutputDataReceived += (_, _) => { };
        _epmd.ErrorDataReceived += (_, _) => { };
        _epmd.BeginOutputReadLine();
        _epmd.BeginErrorReadLine();
        await StartNodeAsync(ct);
    }

    private async Task StartNodeAsync(CancellationToken ct)
    {
        var psi = new ProcessStartInfo(Path.Combine(ScriptDir, "rabbitmq-server"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _root,
        };
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        _server = Process.Start(psi) ?? throw new InvalidOperationException("could not start rabbitmq-server");
        var log = new StreamWriter(new FileStream(ServerLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var gate = new object();
        void Append(string? line)
        {
            if (line is null) return;
            lock (gate)
            {
                try { log.WriteLine(line); } catch (ObjectDisposedException) { }
            }
        }
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.Exited += (_, _) => { lock (gate) log.Dispose(); };
        _server.EnableRaisingEvents = true;
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // await_startup fails at once while the node has not registered with epmd yet, so retry.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (_server.HasExited) throw new InvalidOperationException($"rabbitmq-server exited with code {_server.ExitCode}");
            var (rc, output) = await CtlAsync(["await_startup", "--timeout", "60"], TimeSpan.FromSeconds(75));
            if (rc == 0) return;
            last = output;
            await Task.Delay(500, ct);
        }
        throw new TimeoutException($"RabbitMQ did not finish booting within 90 s; last rabbitmqctl output:\n{last}");
    }

    /// <summary>
    /// Stops the node (as a broker restart or crash would, closing every connection) and starts it again on the same
    /// ports and data folder, so durable queues and their messages survive; waits until it accepts connections.
    /// </summary>
    public async Task RestartAsync(TimeSpan? downFor = null, CancellationToken cancellationToken = default)
    {
        if (_server is { HasExited: false })
        {
            await CtlAsync(["stop"], TimeSpan.FromSeconds(60));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _server.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _server.Kill(entireProcessTree: true); }
        }
        _server?.Dispose();
        _server = null;
        if (downFor is { } d) await Task.Delay(d, cancellationToken);
        // Our epmd keeps running; start only the node again.
        if (_epmd is { HasExited: false }) await StartNodeAsync(cancellationToken);
        else await StartProcessesAsync(cancellationToken);
    }

    /// <summary>Runs rabbitmqctl against this node.</summary>
    public Task<(int ExitCode, string Output)> CtlAsync(IEnumerable<string> args, TimeSpan? timeout = null) =>
        ServerProcess.RunAsync(Path.Combine(ScriptDir, "rabbitmqctl"), ["-n", NodeName, .. args], _env, timeout ?? TimeSpan.FromSeconds(60), _root);

    /// <summary>Stops the node, ends its epmd and deletes the temp folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        if (_server is { HasExited: false })
        {
            try
            {
                await CtlAsync(["stop"], TimeSpan.FromSeconds(30));
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _server.WaitForExitAsync(cts.Token);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or InvalidOperationException)
            {
                // Fall through to killing our own process tree.
            }
            if (!_server.HasExited) _server.Kill(entireProcessTree: true);
        }
        _server?.Dispose();
        if (_epmd is { HasExited: false })
        {
            _epmd.Kill();
            await _epmd.WaitForExitAsync();
        }
        _epmd?.Dispose();
        ServerProcess.DeleteFolder(_root);
    }
}
