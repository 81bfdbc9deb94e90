using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Inventory.Tests;

/// <summary>TopologyChanged goes out on the bus after commit, over RabbitMQ and over the in-memory transport.</summary>
[Collection(ServersCollection.Name)]
public sealed class BusTests(PostgresFixture pg, RabbitMqFixture rmq)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Changes_are_published_to_RabbitMQ_and_received_by_an_independent_consumer()
    {
        // A separate bus, as another service would run it, with its own queue bound to the event's exchange.
        var received = Channel.CreateUnbounded<TopologyChanged>();
        var amqp = new Uri(rmq.Server.AmqpUri);
        var listener = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(amqp.Host, (ushort)amqp.Port, "/", h => { h.Username("guest"); h.Password("guest"); });
            cfg.ReceiveEndpoint($"inventory-test-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                // One at a time, so the events arrive in the order they were published.
                e.PrefetchCount = 1;
                e.ConcurrentMessageLimit = 1;
                e.Handler<TopologyChanged>(ctx => received.Writer.WriteAsync(ctx.Message).AsTask());
            });
        });
        using var startCts = new CancellationTokenSource(Wait);
        await listener.StartAsync(startCts.Token);
        try
        {
            await using var app = await InventoryApp.OnPostgresAsync(pg.Server,
                ("Bus:Transport", "RabbitMq"), ("ConnectionStrings:rabbitmq", rmq.Server.AmqpUri));
            var client = app.CreateClient();
            await app.CreateAsync(client, InventoryApp.SmallFt2("rq"));
            var (status, _, _) = await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/rq/links/4/state", """{"status":"drained","reason":"optic","by":"carol"}""");
            Assert.Equal(200, status);

            var created = await NextAsync(received.Reader);
            Assert.Equal(TopologyChangeKind.Created, created.Kind);
            Assert.Equal("rq", created.FabricName);
            Assert.Equal(1, created.Version);
            var drained = await NextAsync(received.Reader);
            Assert.Equal(TopologyChangeKind.StateChanged, drained.Kind);
            Assert.Equal(2, drained.Version);
            Assert.Equal(1, drained.PreviousVersion);
            var change = Assert.Single(drained.Changes);
            Assert.Equal(("link", "4", "up", "drained", "optic", "carol"), (change.Element, change.Id, change.From, change.To, change.Reason, change.By));

            // A rejected change publishes nothing.
            Assert.Equal(409, (await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/rq/links/4/state", """{"status":"up","expectedVersion":1}""")).Status);
            Assert.Equal(204, (await InventoryApp.SendAsync(client, HttpMethod.Delete, "/api/v1/fabrics/rq")).Status);
            var deleted = await NextAsync(received.Reader);
            Assert.Equal(TopologyChangeKind.Deleted, deleted.Kind);
            Assert.Equal(3, deleted.Version);
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Changes_are_published_over_the_in_memory_transport()
    {
        await using var app = await InventoryApp.OnPostgresAsync(pg.Server, ("Bus:Transport", "InMemory"));
        var received = Channel.CreateUnbounded<TopologyChanged>();
        var bus = app.Services.GetRequiredService<IBus>();
        var handle = bus.ConnectReceiveEndpoint($"inventory-test-{Guid.NewGuid():N}", (IReceiveEndpointConfigurator e) =>
            e.Handler<TopologyChanged>(ctx => received.Writer.WriteAsync(ctx.Message).AsTask()));
        await handle.Ready.WaitAsync(Wait);
        try
        {
            var client = app.CreateClient();
            await app.CreateAsync(client, InventoryApp.SmallFt2("im"));
            Assert.Equal(200, (await InventoryApp.SendAsync(client, HttpMethod.Post, "/api/v1/fabrics/im/switches/spine-0/state", """{"status":"drained","reason":"upgrade","by":"dave"}""")).Status);
            Assert.Equal(TopologyChangeKind.Created, (await NextAsync(received.Reader)).Kind);
            var ev = await NextAsync(received.Reader);
            Assert.Equal(2, ev.Version);
            var change = Assert.Single(ev.Changes);
            Assert.Equal(("switch", "spine-0", "drained"), (change.Element, change.Name, change.To));
        }
        finally
        {
            await handle.StopAsync();
        }
    }

    private static async Task<TopologyChanged> NextAsync(ChannelReader<TopologyChanged> reader)
    {
        using var cts = new CancellationTokenSource(Wait);
        return await reader.ReadAsync(cts.Token);
    }
}
