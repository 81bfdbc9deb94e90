using System.Net.Sockets;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Inventory.Tests;

[Collection(ServersCollection.Name)]
public sealed class FixtureTests(PostgresFixture pg, RabbitMqFixture rmq)
{
    [Fact]
    public async Task Postgres_gives_each_caller_a_fresh_empty_database()
    {
        var a = await pg.Server.CreateDatabaseAsync("fixture");
        var b = await pg.Server.CreateDatabaseAsync("fixture");
        Assert.NotEqual(a, b);
        await using var conn = new NpgsqlConnection(a);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from information_schema.tables where table_schema = 'public'", conn);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task RabbitMq_accepts_tcp_connections_on_loopback()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", rmq.Server.AmqpPort);
        Assert.True(client.Connected);
        Assert.StartsWith("amqp://guest:guest@127.0.0.1:", rmq.Server.AmqpUri);
    }
}
