using ControlPlane.Contracts;
using ControlPlane.Protos.Fabric.V1;
using Google.Protobuf;
using MassTransit;

namespace ControlPlane.Agent;

/// <summary>How an agent's messages reach the control plane. The reference uses the bus; a vendor agent may use gRPC or HTTP.</summary>
public interface IAgentTransport
{
    /// <summary>Sends a hello (after start, reconnect, restart or a silent keepalive interval).</summary>
    Task HelloAsync(string fabric, AgentHello hello, CancellationToken cancellationToken);

    /// <summary>Sends the answer to one update.</summary>
    Task AckAsync(string fabric, RouteAck ack, CancellationToken cancellationToken);

    /// <summary>Sends a port state change, with the correlation id of what caused it when known.</summary>
    Task PortStateAsync(string fabric, PortStateEvent portEvent, string? triggerId, CancellationToken cancellationToken);

    /// <summary>Sends one telemetry batch.</summary>
    Task TelemetryAsync(string fabric, TelemetryBatch batch, CancellationToken cancellationToken);
}

/// <summary>
/// The bus transport: publishes <see cref="AgentHelloSent"/> (naming the queue updates must come back on),
/// <see cref="RouteAckSent"/>, <see cref="PortStateReported"/> and <see cref="TelemetryBatchReceived"/>.
/// </summary>
public sealed class BusAgentTransport(IPublishEndpoint publish, string replyQueue, TimeProvider time) : IAgentTransport
{
    /// <summary>Queue named in hellos.</summary>
    public string ReplyQueue { get; } = string.IsNullOrWhiteSpace(replyQueue) ? throw new ArgumentException("reply queue is required", nameof(replyQueue)) : replyQueue;

    /// <inheritdoc/>
    public Task HelloAsync(string fabric, AgentHello hello, CancellationToken cancellationToken) =>
        publish.Publish(new AgentHelloSent { Fabric = fabric, Payload = hello.ToByteArray(), ReplyQueue = ReplyQueue, SentAt = time.GetUtcNow() }, cancellationToken);

    /// <inheritdoc/>
    public Task AckAsync(string fabric, RouteAck ack, CancellationToken cancellationToken) =>
        publish.Publish(new RouteAckSent { Fabric = fabric, Payload = ack.ToByteArray(), SentAt = time.GetUtcNow() }, cancellationToken);

    /// <inheritdoc/>
    public Task PortStateAsync(string fabric, PortStateEvent portEvent, string? triggerId, CancellationToken cancellationToken) =>
        publish.Publish(new PortStateReported { Fabric = fabric, Payload = portEvent.ToByteArray(), TriggerId = triggerId }, cancellationToken);

    /// <inheritdoc/>
    public Task TelemetryAsync(string fabric, TelemetryBatch batch, CancellationToken cancellationToken) =>
        publish.Publish(new TelemetryBatchReceived { AgentId = batch.AgentId, Payload = batch.ToByteArray(), Fabric = fabric, SentAt = time.GetUtcNow() }, cancellationToken);
}
