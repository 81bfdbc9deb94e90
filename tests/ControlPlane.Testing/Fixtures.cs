using Xunit;

namespace ControlPlane.Testing;

/// <summary>
/// xunit fixture owning one PostgreSQL server for the test run (use it as a collection fixture so it
/// starts once). A server that cannot start fails the test with its log tail; nothing is skipped.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    /// <summary>The running server.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL fixture not started");

    /// <inheritdoc/>
    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
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
