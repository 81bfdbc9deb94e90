using Npgsql;

namespace ControlPlane.Testing;

/// <summary>
/// A real PostgreSQL 15 server started from the local binaries in a temp folder on a random loopback port.
/// Durability is switched off (fsync, full_page_writes) because the data is thrown away.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>PG_BIN when set, else Debian's /usr/lib/postgresql/15/bin, else the newest /usr/lib/postgresql/*/bin with an initdb.</summary>
    public static string BinDir => Environment.GetEnvironmentVariable("PG_BIN") ?? FindBinDir();

    private static string FindBinDir()
    {
        const string preferred = "/usr/lib/postgresql/15/bin";
        if (File.Exists(Path.Combine(preferred, "initdb")) || !Directory.Exists("/usr/lib/postgresql")) return preferred;
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.Dir, "initdb")))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault() ?? preferred;
    }

    private readonly string _root;
    private readonly string _dataDir;
    private readonly string _logFile;
    private bool _stopped;
    private int _dbCounter;

    private PostgresServer(string root, int port)
    {
        _root = root;
        _dataDir = Path.Combine(root, "data");
        _logFile = Path.Combine(root, "postgres.log");
        Port = port;
    }

    /// <summary>The port the server listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Connection string to the maintenance database "postgres" as the superuser.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>Connection string to a database on this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Pooling = true,
            MaxPoolSize = 50,
            Timeout = 15,
            CommandTimeout = 300,
        }.ConnectionString;

    /// <summary>The last lines of the server log.</summary>
    public string LogTail(int lines = 40) => ServerProcess.Tail(_logFile, lines);

    /// <summary>Initialises a cluster and starts the server; throws with the log tail when it cannot.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var initdb = Path.Combine(BinDir, "initdb");
        if (!File.Exists(initdb))
            throw new InvalidOperationException($"PostgreSQL binaries not found: {initdb} is missing (install postgresql-15 or set PG_BIN)");
        var root = ServerProcess.TempFolder("cp-pg");
        var server = new PostgresServer(root, ServerProcess.FreePort());
        try
        {
            if (ServerProcess.IsRoot)
            {
                var (rc, output) = await ServerProcess.RunAsync("chown", ["-R", "postgres:postgres", root]);
                if (rc != 0) throw new InvalidOperationException($"chown of {root} to postgres failed: {output}");
            }
            var (initRc, initOut) = await server.RunAsPgAsync("initdb", ["-D", server._dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
            if (initRc != 0) throw new InvalidOperationException($"initdb failed (exit {initRc}):\n{initOut}");
            var options = $"-k {root} -h 127.0.0.1 -p {server.Port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB";
            var (startRc, startOut) = await server.RunAsPgAsync("pg_ctl", ["-D", server._dataDir, "-l", server._logFile, "-w", "-t", "60", "-o", options, "start"]);
            if (startRc != 0)
                throw new InvalidOperationException($"PostgreSQL did not start on port {server.Port} (pg_ctl exit {startRc}):\n{startOut}\n--- log tail ---\n{server.LogTail()}");
            await using var conn = new NpgsqlConnection(server.AdminConnectionString);
            await conn.OpenAsync(cancellationToken);
            return server;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var tail = server.LogTail();
            await server.DisposeAsync();
            throw new InvalidOperationException($"could not start PostgreSQL: {e.Message}\n--- log tail ---\n{tail}", e);
        }
    }

    /// <summary>Creates a fresh empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test", CancellationToken cancellationToken = default)
    {
        var name = $"{Sanitize(prefix)}_{Interlocked.Increment(ref _dbCounter)}_{Guid.NewGuid():N}"[..Math.Min(60, Sanitize(prefix).Length + 14)];
        await using var conn = new NpgsqlConnection(AdminConnectionString);
        await conn.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionString(name);
    }

    /// <summary>Stops the server (fast shutdown) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(_dataDir, "postmaster.pid")))
        {
            try
            {
                await RunAsPgAsync("pg_ctl", ["-D", _dataDir, "-m", "fast", "-w", "-t", "30", "stop"]);
            }
            catch (TimeoutException)
            {
                await RunAsPgAsync("pg_ctl", ["-D", _dataDir, "-m", "immediate", "-w", "stop"]);
            }
        }
        ServerProcess.DeleteFolder(_root);
    }

    private Task<(int, string)> RunAsPgAsync(string tool, IEnumerable<string> args)
    {
        var exe = Path.Combine(BinDir, tool);
        return ServerProcess.IsRoot
            ? ServerProcess.RunAsync("runuser", ["-u", "postgres", "--", exe, .. args], workingDirectory: _root)
            : ServerProcess.RunAsync(exe, args, workingDirectory: _root);
    }

    private static string Sanitize(string s)
    {
        var chars = s.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').Take(30).ToArray();
        return chars.Length == 0 ? "db" : new string(chars);
    }
}
