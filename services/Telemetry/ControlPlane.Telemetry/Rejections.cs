namespace ControlPlane.Telemetry;

/// <summary>Why a batch or a port sample was refused. Every refusal is counted per reason and per agent.</summary>
public enum RejectReason
{
    /// <summary>Not a valid protobuf encoding (truncated, bad wire type, bad length).</summary>
    Malformed = 0,
    /// <summary>Encoded batch over the byte limit, or more port samples than allowed.</summary>
    TooLarge,
    /// <summary>A required field is absent (switch name, agent id, optics lanes).</summary>
    MissingField,
    /// <summary>The switch is not in the topology.</summary>
    UnknownSwitch,
    /// <summary>The sample time is ahead of the receive time by more than the allowed skew.</summary>
    TimestampInFuture,
    /// <summary>The sample time is behind the receive time by more than the allowed skew.</summary>
    TimestampTooOld,
    /// <summary>Same session and sequence number as the last accepted batch.</summary>
    DuplicateBatch,
    /// <summary>A lower sequence number than already accepted, or a sample time not after the previous batch's.</summary>
    OutOfOrderBatch,
    /// <summary>Dropped by the ingest queue when it was full (the oldest batch goes first).</summary>
    Shed,
    /// <summary>Port 0, beyond the radix, or not cabled in the topology.</summary>
    UnknownPort,
    /// <summary>The same port twice in one batch.</summary>
    DuplicatePort,
    /// <summary>The same priority twice in one port sample.</summary>
    DuplicatePriority,
    /// <summary>NaN or infinity.</summary>
    NotFinite,
    /// <summary>A value hardware cannot report (negative current, BER above 1, temperature beyond the part's range...).</summary>
    OutOfRange,
    /// <summary>A counter rising faster than the link's line rate allows.</summary>
    RateAboveLineSpeed,
}

/// <summary>One refusal, for the host to log: which agent, which switch and port when known, why, and details.</summary>
/// <param name="Reason">Why.</param>
/// <param name="Agent">Agent id from the batch, or the transport's identity when the batch could not be decoded.</param>
/// <param name="Switch">Switch name when known, else empty.</param>
/// <param name="Port">Port number of a refused sample (as sent, so possibly 0); 0 for a whole batch.</param>
/// <param name="Samples">Port samples refused with it (the batch's sample count for a batch refusal, 0 when not decoded; 1 for a sample).</param>
/// <param name="Detail">Human-readable detail naming the field and the value.</param>
/// <param name="WholeBatch">True when the whole batch was refused, false for one port sample.</param>
public readonly record struct Rejection(RejectReason Reason, string Agent, string Switch, int Port, int Samples, string Detail, bool WholeBatch)
{
    /// <inheritdoc/>
    public override string ToString() =>
        WholeBatch ? $"{Reason} agent={Agent} switch={Switch} samples={Samples}: {Detail}" : $"{Reason} agent={Agent} switch={Switch} port={Port}: {Detail}";
}

/// <summary>Outcome of ingesting one batch.</summary>
/// <param name="SamplesAccepted">Port samples that updated state.</param>
/// <param name="SamplesRejected">Port samples refused, including every sample of a refused batch.</param>
/// <param name="Rejections">The refusals, for logging; empty when none.</param>
public readonly record struct IngestResult(int SamplesAccepted, int SamplesRejected, IReadOnlyList<Rejection> Rejections)
{
    /// <summary>True when the whole batch was refused.</summary>
    public bool BatchRejected => Rejections.Count == 1 && Rejections[0].WholeBatch;
}
