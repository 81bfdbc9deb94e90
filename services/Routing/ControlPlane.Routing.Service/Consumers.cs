using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using Google.Protobuf;
using MassTransit;
using Microsoft.Extensions.Logging;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Routing.Service;

/// <summary>
/// Decodes and authenticates port events, then hands them to the fabric's router. Shared by the bus consumer and
/// benchmarks. Refusals are logged and counted, never thrown: a bad message must not be retried forever.
/// </summary>
public sealed class PortEventIntake(RoutingRegistry registry, RoutingStatus status, AgentCredentials credentials, TimeProvider time, ILogger<PortEventIntake> logger)
{
    /// <summary>Takes one envelope; <paramref name="consumedTicks"/> is when it came off the bus (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    /// <returns>True when the event was queued for routing.</returns>
    public bool Accept(PortStateReported message, long consumedTicks)
    {
        var fabric = message.Fabric ?? "";
        var payload = message.Payload ?? [];
        Pb.PortStateEvent ev;
        try
        {
            ev = Pb.PortStateEvent.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            status.Reject(fabric, PortEventRejection.Malformed);
            logger.LogWarning("routing: port event refused: payload of {Bytes} bytes for fabric '{Fabric}' is not a fabric.v1.PortStateEvent: {Message}", payload.Length, fabric, e.Message);
            return false;
        }
        if (string.IsNullOrEmpty(ev.SwitchName) || ev.Port == 0)
        {
            status.Reject(fabric, PortEventRejection.Malformed);
            logger.LogWarning("routing: port event refused: fabric '{Fabric}', agent '{Agent}': {Field} is missing", fabric, ev.AgentId, string.IsNullOrEmpty(ev.SwitchName) ? "switch_name" : "port");
            return false;
        }
        if (registry.Find(fabric) is null)
        {
            status.RejectUnrouted(PortEventRejection.UnknownFabric);
            logger.LogWarning("routing: port event refused: fabric '{Fabric}' is not routed here (agent '{Agent}', switch '{Switch}')", fabric, ev.AgentId, ev.SwitchName);
            return false;
        }
        if (!credentials.Verify(fabric, ev.SwitchName, ev.Credential))
        {
            status.Reject(fabric, PortEventRejection.BadCredential);
            logger.LogWarning("routing: port event refused: agent '{Agent}' presented no valid credential for switch '{Switch}' of fabric '{Fabric}'", ev.AgentId, ev.SwitchName, fabric);
            return false;
        }
        var at = ev.TimeUnixNanos > 0 ? DateTimeOffset.UnixEpoch.AddTicks(ev.TimeUnixNanos / 100) : time.GetUtcNow();
        var port = ev.Port > int.MaxValue ? int.MaxValue : (int)ev.Port;
        return registry.Post(fabric, new PortWork(ev.SwitchName, port, ev.Up, ev.TimeUnixNanos, at, message.TriggerId, ev.AgentId, consumedTicks));
    }
}

/// <summary>Port events from switch agents (the priority lane).</summary>
public sealed class PortStateReportedConsumer(PortEventIntake intake) : IConsumer<PortStateReported>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<PortStateReported> context)
    {
        intake.Accept(context.Message, Stopwatch.GetTimestamp());
        return Task.CompletedTask;
    }
}

/// <summary>One at a time, so the events of one port reach the router in the order the bus delivers them.</summary>
public sealed class PortStateReportedConsumerDefinition : ConsumerDefinition<PortStateReportedConsumer>
{
    /// <summary>Creates the definition.</summary>
    public PortStateReportedConsumerDefinition() => ConcurrentMessageLimit = 1;
}

/// <summary>Inventory changes: create, drain, delete.</summary>
public sealed class RoutingTopologyChangedConsumer(RoutingRegistry registry) : IConsumer<TopologyChanged>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<TopologyChanged> context) => registry.TopologyChangedAsync(context.Message);
}

/// <summary>Link loads from telemetry, for the congestion loop.</summary>
public sealed class RoutingLinkLoadConsumer(RoutingRegistry registry, ILogger<RoutingLinkLoadConsumer> logger) : IConsumer<LinkLoadSnapshot>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<LinkLoadSnapshot> context)
    {
        var m = context.Message;
        if (string.IsNullOrEmpty(m.Fabric) || !registry.Post(m.Fabric, new LoadsWork(m)))
            logger.LogDebug("routing: link loads for fabric '{Fabric}' ignored: not routed here", m.Fabric);
        return Task.CompletedTask;
    }
}

/// <summary>A late distribution asks for the complete tables again.</summary>
public sealed class RoutesRequestedConsumer(RoutingRegistry registry, ILogger<RoutesRequestedConsumer> logger) : IConsumer<RoutesRequested>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<RoutesRequested> context)
    {
        var m = context.Message;
        if (string.IsNullOrWhiteSpace(m.Fabric) || !registry.Post(m.Fabric, new RepublishWork("requested: " + (m.Reason ?? ""))))
            logger.LogInformation("routing: tables requested for fabric '{Fabric}' which is not routed here (yet); its first computation will publish them", m.Fabric);
        return Task.CompletedTask;
    }
}
