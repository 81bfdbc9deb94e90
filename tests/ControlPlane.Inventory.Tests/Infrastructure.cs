using ControlPlane.Testing;

namespace ControlPlane.Inventory.Tests;

/// <summary>One PostgreSQL server and one RabbitMQ node for the whole run: every integration test class joins this collection.</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "servers";
}
