using Xunit;

namespace ControlPlane.Testing;

/// <summary>
/// xunit fixture owning one PostgreSQL server for the test run (use it as a collection fixture so it
/// starts once). A server that cannot start fails the test with its log tail; nothing is skipped.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, object> _shared = [];
    private PostgresServer? _server;

    /// <summary>The running server.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL fixture not started");

    /// <summary>
    /// One instance per key for the whole run (e.g. a test host on its own database shared by the cases of a
    /// theory that change nothing), created on first use and disposed before the server stops.
    /// </summary>
    public async Task<T> SharedAsync<T>(string key, Func<PostgresServer, Task<T>> create) where T : class
    {
        await _gate.WaitAsync();
        try
        {
            if (_shared.TryGetValue(key, out var existing)) return (T)existing;
            var created = await create(Server);
            _shared[key] = created;
            return created;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        foreach (var item in _shared.Values)
        {
            if (item is IAsyncDisposable ad) await ad.DisposeAsync();
            else if (item is IDisposable d) d.Dispose();
        }
        _shared.Clear();
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>xunit fixture owning one RabbitMQ node for the test run.</summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    private RabbitMqServer? _server;

    /// <summary>The running node.</summary>
    public RabbitMqServer Server => _server ?? throw new InvalidOperationException("RabbitMQ fixture not started");

    /// <inheritdoc/>
    public async Task InitializeAsync() => _server = await RabbitMqServer.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
