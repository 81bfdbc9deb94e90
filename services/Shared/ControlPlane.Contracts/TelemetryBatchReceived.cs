namespace ControlPlane.Contracts;

/// <summary>
/// Command to telemetry ingest: one encoded <c>fabric.v1.TelemetryBatch</c> from a switch agent, carried over the bus
/// (agents or collectors that already speak AMQP). The bytes are decoded and validated by the ingest, as over HTTP.
/// </summary>
public sealed record TelemetryBatchReceived
{
    /// <summary>Who the transport says sent it (named in rejections when the bytes cannot be decoded).</summary>
    public required string AgentId { get; init; }

    /// <summary>The protobuf encoding of a <c>fabric.v1.TelemetryBatch</c>.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>Fabric the switch belongs to; may be null when the switch name is unique among the fabrics served.</summary>
    public string? Fabric { get; init; }

    /// <summary>When the sender handed it to the bus; ingest uses its own receive time for skew checks.</summary>
    public DateTimeOffset? SentAt { get; init; }
}
