using System.Threading.Channels;
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
/// <see cref="RouteAckSent"/>, <see cref="PortStateReported"/> and <see cref="TelemetryBatchReceived"/>. Acks of the
/// agents sharing this transport (an emulated fabric's hundreds) are batched without waiting: an ack goes out at once
/// when none is being published, and the acks that arrive meanwhile go together in one <see cref="RouteAcksSent"/>, since
/// the bus's cost is per message and a rollout's wave makes its switches ack within the same few milliseconds.
/// </summary>
public sealed class BusAgentTransport : IAgentTransport
{
    private const int MaxBatch = 512;
    private readonly IPublishEndpoint _publish;
    private readonly TimeProvider _time;
    private readonly Channel<(RouteAckSent Ack, TaskCompletionSource Sent)> _acks = Channel.CreateUnbounded<(RouteAckSent, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private long _batches;
    private long _acksSent;

    /// <summary>Creates the transport; <paramref name="replyQueue"/> is named in hellos.</summary>
    public BusAgentTransport(IPublishEndpoint publish, string replyQueue, TimeProvider time)
    {
        _publish = publish ?? throw new ArgumentNullException(nameof(publish));
        ReplyQueue = string.IsNullOrWhiteSpace(replyQueue) ? throw new ArgumentException("reply queue is required", nameof(replyQueue)) : replyQueue;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _ = Task.Run(PumpAcksAsync);
    }

    /// <summary>Queue named in hellos.</summary>
    public string ReplyQueue { get; }

    /// <summary>Messages that carried acks so far (one per batch).</summary>
    public long AckMessages => Interlocked.Read(ref _batches);

    /// <summary>Acks sent so far.</summary>
    public long AcksSent => Interlocked.Read(ref _acksSent);

    /// <inheritdoc/>
    public Task HelloAsync(string fabric, AgentHello hello, CancellationToken cancellationToken) =>
        _publish.Publish(new AgentHelloSent { Fabric = fabric, Payload = hello.ToByteArray(), ReplyQueue = ReplyQueue, SentAt = _time.GetUtcNow() }, cancellationToken);

    /// <inheritdoc/>
    public Task AckAsync(string fabric, RouteAck ack, CancellationToken cancellationToken)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_acks.Writer.TryWrite((new RouteAckSent { Fabric = fabric, Payload = ack.ToByteArray(), SentAt = _time.GetUtcNow() }, sent)))
            return Task.FromException(new ObjectDisposedException(nameof(BusAgentTransport)));
        return sent.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public Task PortStateAsync(string fabric, PortStateEvent portEvent, string? triggerId, CancellationToken cancellationToken) =>
        _publish.Publish(new PortStateReported { Fabric = fabric, Payload = portEvent.ToByteArray(), TriggerId = triggerId }, cancellationToken);

    /// <inheritdoc/>
    public Task TelemetryAsync(string fabric, TelemetryBatch batch, CancellationToken cancellationToken) =>
        _publish.Publish(new TelemetryBatchReceived { AgentId = batch.AgentId, Payload = batch.ToByteArray(), Fabric = fabric, SentAt = _time.GetUtcNow() }, cancellationToken);

    private async Task PumpAcksAsync()
    {
        var batch = new List<(RouteAckSent Ack, TaskCompletionSource Sent)>();
        while (await _acks.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _acks.Reader.TryRead(out var a)) batch.Add(a);
            foreach (var group in batch.GroupBy(a => a.Ack.Fabric, StringComparer.Ordinal))
            {
                var items = group.ToList();
                try
                {
                    // One ack alone goes as the plain message every agent sends; several go as one batch.
                    if (items.Count == 1) await _publish.Publish(items[0].Ack);
                    else await _publish.Publish(new RouteAcksSent { Fabric = group.Key, Acks = [.. items.Select(i => i.Ack)] });
                    Interlocked.Increment(ref _batches);
                    Interlocked.Add(ref _acksSent, items.Count);
                    foreach (var i in items) i.Sent.TrySetResult();
                }
                catch (Exception e)
                {
                    // The agents see their ack fail, as they would have with one publish each; distribution retries.
                    foreach (var i in items) i.Sent.TrySetException(e);
                }
            }
        }
    }
}
