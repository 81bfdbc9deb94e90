using ControlPlane.Contracts;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using Google.Protobuf;
using MassTransit;
using Microsoft.Extensions.Logging;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Distribution.Service;

// Bad messages are logged and counted, never thrown: a throw would make the bus retry (and dead-letter) something
// that can never succeed. Consumer names start with "Distribution" so their queues do not collide with other modules'
// in one host or on one broker.

/// <summary>New tables from routing.</summary>
public sealed class DistributionRoutesComputedConsumer(DistributorRegistry registry, DistributionIntake intake, TimeProvider time,
    ILogger<DistributionRoutesComputedConsumer> logger) : IConsumer<RoutesComputed>
{
    /// <inheritdoc/>
    public async Task Consume(ConsumeContext<RoutesComputed> context)
    {
        var received = time.GetUtcNow();
        var m = context.Message;
        var d = string.IsNullOrWhiteSpace(m.Fabric) ? null : await registry.GetAsync(m.Fabric, context.CancellationToken);
        if (d is null)
        {
            intake.Count("unknownFabric");
            logger.LogWarning("distribution: RoutesComputed v{Routing} for fabric '{Fabric}' not served here (not in the inventory or not configured); ignored", m.RoutingVersion, m.Fabric);
            return;
        }
        var wire = m.Tables ?? [];
        var deltaWire = m.Deltas ?? [];
        var tables = new SwitchTable[wire.Count];
        var deltas = new TableDelta[deltaWire.Count];
        var errors = new string?[wire.Count + deltaWire.Count];
        void Decode(int i)
        {
            try
            {
                if (i < wire.Count) tables[i] = TableCodec.DecodeTable(wire[i] ?? []);
                else deltas[i - wire.Count] = TableCodec.DecodeDelta(deltaWire[i - wire.Count] ?? []);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or FabricInputException)
            {
                errors[i] = (i < wire.Count ? $"tables[{i}] is not a valid fabric.v1.RouteTable: " : $"deltas[{i - wire.Count}] is not a valid fabric.v1.RouteDelta: ") + e.Message;
            }
        }
        // A failure's tables are decoded (and their digests checked) on every core: this is on the convergence path.
        if (errors.Length < 16) for (var i = 0; i < errors.Length; i++) Decode(i);
        else Parallel.For(0, errors.Length, Decode);
        var bad = Array.FindIndex(errors, e => e is not null);
        if (bad >= 0)
        {
            // A partial set could break make-before-break (a switch would wait for a neighbor's table that never comes).
            d.CountMalformed();
            logger.LogError("distribution {Fabric}: RoutesComputed v{Routing} refused: {Message}", m.Fabric, m.RoutingVersion, errors[bad]);
            return;
        }
        // Deltas are applied to the tables routing sent before (messages are consumed one at a time, in order).
        var fed = d.Feed.Accept(m.RoutingVersion, m.Complete, tables, deltas);
        switch (fed.Verdict)
        {
            case FeedVerdict.Stale:
                intake.Count("staleRoutes");
                logger.LogWarning("distribution {Fabric}: RoutesComputed v{Routing} ignored: {Problem}", m.Fabric, m.RoutingVersion, fed.Problem);
                return;
            case FeedVerdict.NeedsFullTables:
                intake.Count("routesWithoutBase");
                logger.LogWarning("distribution {Fabric}: RoutesComputed v{Routing} refused ({Problem}); asking routing for complete tables", m.Fabric, m.RoutingVersion, fed.Problem);
                await context.Publish(new RoutesRequested { Fabric = m.Fabric, Reason = "delta without its base: " + fed.Problem, RequestedAt = time.GetUtcNow() }, context.CancellationToken);
                return;
        }
        d.Computed(m, fed.Tables, received);
    }
}

/// <summary>Routing's messages one at a time, in the order they arrive: deltas build on the message before.</summary>
public sealed class DistributionRoutesComputedConsumerDefinition : ConsumerDefinition<DistributionRoutesComputedConsumer>
{
    /// <summary>One message at a time.</summary>
    public DistributionRoutesComputedConsumerDefinition() => ConcurrentMessageLimit = 1;
}

/// <summary>Agent hellos: authenticated, then the session is recorded and the agent brought up to date.</summary>
public sealed class DistributionAgentHelloConsumer(DistributorRegistry registry, DistributionIntake intake, AgentCredentials credentials, TimeProvider time,
    ILogger<DistributionAgentHelloConsumer> logger) : IConsumer<AgentHelloSent>
{
    /// <inheritdoc/>
    public async Task Consume(ConsumeContext<AgentHelloSent> context)
    {
        var m = context.Message;
        var d = string.IsNullOrWhiteSpace(m.Fabric) ? null : await registry.GetAsync(m.Fabric, context.CancellationToken);
        if (d is null)
        {
            intake.Count("unknownFabric");
            logger.LogWarning("distribution: hello for fabric '{Fabric}' not served here; ignored", m.Fabric);
            return;
        }
        Pb.AgentHello hello;
        try
        {
            hello = Pb.AgentHello.Parser.ParseFrom(m.Payload ?? []);
        }
        catch (InvalidProtocolBufferException e)
        {
            d.CountMalformed();
            logger.LogWarning("distribution {Fabric}: hello refused: payload is not a fabric.v1.AgentHello ({Bytes} bytes): {Message}", m.Fabric, m.Payload?.Length ?? 0, e.Message);
            return;
        }
        if (string.IsNullOrWhiteSpace(hello.SwitchName) || string.IsNullOrWhiteSpace(m.ReplyQueue) || !QueueNames.IsValid(m.ReplyQueue))
        {
            d.CountMalformed();
            logger.LogWarning("distribution {Fabric}: hello from agent {Agent} refused: {Field} is missing or invalid", m.Fabric, hello.AgentId,
                string.IsNullOrWhiteSpace(hello.SwitchName) ? "switch_name" : "replyQueue");
            return;
        }
        if (!credentials.Verify(m.Fabric, hello.SwitchName, hello.Credential))
        {
            d.CountRejectedCredential();
            logger.LogWarning("distribution {Fabric}: hello refused: agent {Agent} has no valid credential for switch {Switch}", m.Fabric, hello.AgentId, hello.SwitchName);
            return;
        }
        d.Hello(TableWire.FromProto(hello), hello.AgentId, m.ReplyQueue, time.GetUtcNow());
    }
}

/// <summary>Agent acks, alone or batched by an agent host: each authenticated for its own switch, then taken by the planner.</summary>
public sealed class DistributionRouteAckConsumer(DistributorRegistry registry, DistributionIntake intake, AgentCredentials credentials,
    ILogger<DistributionRouteAckConsumer> logger) : IConsumer<RouteAckSent>, IConsumer<RouteAcksSent>
{
    /// <inheritdoc/>
    public async Task Consume(ConsumeContext<RouteAckSent> context)
    {
        var m = context.Message;
        var d = await FabricAsync(m.Fabric, context.CancellationToken);
        if (d is not null) Take(d, m);
    }

    /// <inheritdoc/>
    public async Task Consume(ConsumeContext<RouteAcksSent> context)
    {
        var m = context.Message;
        var d = await FabricAsync(m.Fabric, context.CancellationToken);
        if (d is null) return;
        if (m.Acks is null)
        {
            d.CountMalformed();
            logger.LogWarning("distribution {Fabric}: ack batch refused: acks is missing", m.Fabric);
            return;
        }
        foreach (var a in m.Acks)
        {
            if (a is null || !string.Equals(a.Fabric, m.Fabric, StringComparison.Ordinal))
            {
                d.CountMalformed();
                logger.LogWarning("distribution {Fabric}: an ack of a batch refused: {Why}", m.Fabric, a is null ? "it is null" : $"it names fabric '{a.Fabric}'");
                continue;
            }
            Take(d, a);
        }
    }

    private async Task<FabricDistributor?> FabricAsync(string? fabric, CancellationToken ct)
    {
        var d = string.IsNullOrWhiteSpace(fabric) ? null : await registry.GetAsync(fabric, ct);
        if (d is null)
        {
            intake.Count("unknownFabric");
            logger.LogWarning("distribution: ack for fabric '{Fabric}' not served here; ignored", fabric);
        }
        return d;
    }

    private void Take(FabricDistributor d, RouteAckSent m)
    {
        Pb.RouteAck ack;
        try
        {
            ack = Pb.RouteAck.Parser.ParseFrom(m.Payload ?? []);
        }
        catch (InvalidProtocolBufferException e)
        {
            d.CountMalformed();
            logger.LogWarning("distribution {Fabric}: ack refused: payload is not a fabric.v1.RouteAck ({Bytes} bytes): {Message}", m.Fabric, m.Payload?.Length ?? 0, e.Message);
            return;
        }
        if (string.IsNullOrWhiteSpace(ack.SwitchName))
        {
            d.CountMalformed();
            logger.LogWarning("distribution {Fabric}: ack from agent {Agent} refused: switch_name is missing", m.Fabric, ack.AgentId);
            return;
        }
        if (!credentials.Verify(m.Fabric, ack.SwitchName, ack.Credential))
        {
            d.CountRejectedCredential();
            logger.LogWarning("distribution {Fabric}: ack refused: agent {Agent} has no valid credential for switch {Switch}", m.Fabric, ack.AgentId, ack.SwitchName);
            return;
        }
        d.Ack(TableWire.FromProto(ack), ack.AgentId);
    }
}

/// <summary>Follows fabrics created, imported and deleted in the inventory.</summary>
public sealed class DistributionTopologyChangedConsumer(DistributorRegistry registry) : IConsumer<TopologyChanged>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<TopologyChanged> context) => registry.OnTopologyChangedAsync(context.Message, context.CancellationToken);
}

/// <summary>Queue names an agent may give as its reply queue.</summary>
public static class QueueNames
{
    /// <summary>ASCII letters, digits, '-', '_' and '.', 1 to 200 characters (a queue name, not a URI).</summary>
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 200 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
