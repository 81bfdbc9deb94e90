using ControlPlane.Contracts;
using Google.Protobuf;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Telemetry.Service;

/// <summary>Reads only what routing a batch needs: its switch name (field 1), without decoding the samples.</summary>
public static class BatchPeek
{
    /// <summary>The switch_name of an encoded TelemetryBatch ("" when absent); throws <see cref="InvalidProtocolBufferException"/> on bad bytes before it.</summary>
    public static string SwitchName(byte[] payload)
    {
        var input = new CodedInputStream(payload);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) return input.ReadString();
            input.SkipLastField();
        }
        return "";
    }
}

/// <summary>Ingest over the bus: the same queue and checks as HTTP; refusals are logged and counted, never retried.</summary>
public sealed class TelemetryBatchConsumer(ShardRegistry registry, TelemetryMetrics metrics, ILogger<TelemetryBatchConsumer> logger) : IConsumer<TelemetryBatchReceived>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<TelemetryBatchReceived> context)
    {
        var m = context.Message;
        var agent = string.IsNullOrWhiteSpace(m.AgentId) ? "(unknown)" : m.AgentId;
        var payload = m.Payload ?? [];
        string name;
        try
        {
            name = BatchPeek.SwitchName(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            Refuse(new Rejection(RejectReason.Malformed, agent, "", 0, 0, $"not a TelemetryBatch ({payload.Length} bytes): {e.Message}", true));
            return Task.CompletedTask;
        }
        var (shard, _, error) = registry.Route(m.Fabric, name);
        if (shard is null)
        {
            Refuse(new Rejection(string.IsNullOrEmpty(name) ? RejectReason.MissingField : RejectReason.UnknownSwitch, agent, name, 0, 0, error!, true));
            return Task.CompletedTask;
        }
        shard.Enqueue(payload, agent, wantResult: false);
        return Task.CompletedTask;
    }

    private void Refuse(Rejection r)
    {
        metrics.Rejected(r);
        logger.LogWarning("telemetry batch rejected: {Reason} agent={Agent} switch={Switch} via bus: {Detail}", r.Reason, r.Agent, r.Switch, r.Detail);
    }
}

/// <summary>
/// Telemetry takes at most half the processors for dispatching batches (at least one): the consumer only hands each batch
/// to its shard, and a period's batches from every switch must never fill the thread pool in front of a failure's
/// rollout, which shares the process in the all-in-one host.
/// </summary>
public sealed class TelemetryBatchConsumerDefinition : ConsumerDefinition<TelemetryBatchConsumer>
{
    /// <summary>Creates the definition.</summary>
    public TelemetryBatchConsumerDefinition() => ConcurrentMessageLimit = Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>Reloads a fabric's topology when the inventory says it changed.</summary>
public sealed class TopologyChangedConsumer(ShardRegistry registry) : IConsumer<TopologyChanged>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<TopologyChanged> context) => registry.ReloadAsync(context.Message.FabricName, context.CancellationToken);
}
