using System.Runtime.CompilerServices;

namespace ControlPlane.Telemetry;

/// <summary>Index of each monotonic port counter in <see cref="PortCounters"/>.</summary>
internal static class Ctr
{
    public const int TxBytes = 0, RxBytes = 1, TxPackets = 2, RxPackets = 3, TxDrops = 4, RxDrops = 5, Ecn = 6,
        FecCorrected = 7, FecUncorrected = 8, SymbolErrors = 9, LinkDowns = 10, Count = 11;
}

[InlineArray(Ctr.Count)]
internal struct PortCounters
{
    private ulong _e;
}

[InlineArray(Ctr.Count)]
internal struct PortRates
{
    private float _e;
}

/// <summary>Per-port state, one element per switch port in a dense array (see <see cref="PortLayout"/>).</summary>
internal struct PortState
{
    public PortCounters Counters;   // baseline: last accepted readings
    public PortRates Rates;         // smoothed per-second rates (bytes/s for the byte counters)
    public long SwitchTime;         // switch clock of the baseline; 0 = no baseline
    public long SeenTime;           // control plane time of the last accepted sample; 0 = never
    public ulong BootId;
    public uint Epoch;
    public int BatchStamp;          // last batch that named this port (duplicate detection)
    public byte OperState;
    public byte RateRejects;        // consecutive samples refused for a rate above line speed
    public bool HasRates;
    public bool HasOptics;
    public byte PriorityMask;       // priorities ever reported on this port
    public float PreFecBer;
    public float TemperatureC;
    public float RxPowerMinDbm;
    public int RawHead;             // next slot in the raw ring
    public int RawCount;
}

/// <summary>Per-port, per-priority state; 8 per port.</summary>
internal struct PriorityState
{
    public ulong TxBytes, RxBytes, TxPause, RxPause;
    public long Time;               // switch clock of this priority's baseline; 0 = none
    public float TxRate, RxRate, TxPauseRate, RxPauseRate; // smoothed, bytes/s and frames/s
    public long QueueBytes;
    public bool HasRates;
    public bool CountsBytes;        // the switch reports bytes for this priority
}

/// <summary>
/// One raw-resolution point of a port, as measured over one poll interval (not smoothed). NaN means "not
/// measured in this poll": no rate on a baseline sample, no optics when DOM was not read.
/// </summary>
/// <param name="TimeUnixNanos">Control plane time of the sample (switch time corrected for the agent's clock offset).</param>
/// <param name="TxUtil">Transmit utilization, fraction of line rate.</param>
/// <param name="RxUtil">Receive utilization.</param>
/// <param name="FecUncorrectedRate">FEC-uncorrectable codewords per second.</param>
/// <param name="DropRate">Dropped packets per second, tx and rx.</param>
/// <param name="PreFecBer">Pre-FEC BER.</param>
/// <param name="TemperatureC">Module temperature.</param>
/// <param name="RxPowerMinDbm">Lowest lane receive power.</param>
public readonly record struct RawPoint(
    long TimeUnixNanos,
    float TxUtil,
    float RxUtil,
    float FecUncorrectedRate,
    float DropRate,
    float PreFecBer,
    float TemperatureC,
    float RxPowerMinDbm);

/// <summary>
/// What the snapshot builder reads of a port, packed into 40 bytes and written when a sample is committed, so that a
/// snapshot walks one small array instead of the full port and priority state (a cache line per port, not six).
/// </summary>
internal struct PortLoad
{
    public long SeenTime;           // 0 = never accepted
    public float TxRate, RxRate;    // smoothed bytes/s
    public float FecUncorrected, Drops, Ecn, Pause; // smoothed per second; Pause sums every priority, tx and rx
    public float PreFecBer;
    public byte OperState;
    public byte PriorityMask;       // priorities whose byte counters are reported and have rates
    public bool HasRates;
    public bool HasOptics;
}

/// <summary>One priority of a port as the snapshot builder reads it; 8 per port.</summary>
internal struct PriorityLoadState
{
    public float TxRate, RxRate, Pause; // smoothed bytes/s, frames/s (tx + rx)
    public uint QueueBytes;             // at most 1 GiB by validation
}
