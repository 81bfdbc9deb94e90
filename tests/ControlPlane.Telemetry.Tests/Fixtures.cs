using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Telemetry.Tests;

/// <summary>Small fabrics and a scripted switch agent.</summary>
internal static class Fixtures
{
    public const long T0 = 1_800_000_000_000_000_000; // 2027-01-15, unix nanos
    public const long Ms = 1_000_000;
    public const long Sec = 1_000_000_000;
    public const double LineBytes = 400e9 / 8;         // 400G in bytes/s

    /// <summary>
    /// FT2 of radix 4 with 2 leaves: leaf-i ports 1,2 face hosts (leaf is end B), port 3 goes to spine-0 and 4 to
    /// spine-1 (leaf is end A); spine-j port i+1 faces leaf i, spine ports 3 and 4 are not cabled.
    /// </summary>
    public static FabricTopology SmallFabric() => FabricGenerator.Generate(new GeneratorParameters
    {
        Kind = TopologyKind.Ft2, Name = "small", Radix = 4, LeavesPerPlane = 2, NicsPerNode = 2, GpusPerNode = 2,
    });

    /// <summary>Two-plane MPFT of radix 4.</summary>
    public static FabricTopology TwoPlanes() => FabricGenerator.Generate(new GeneratorParameters
    {
        Kind = TopologyKind.Mpft, Name = "mp", Radix = 4, Planes = 2, LeavesPerPlane = 2, NicsPerNode = 2, GpusPerNode = 2,
    });

    public static TelemetryOptions Options => new();

    public static PortSample Port(uint port, ulong tx = 0, ulong rx = 0, ulong txPkts = 0, ulong rxPkts = 0,
        PortOperState state = PortOperState.Up, uint epoch = 0) =>
        new() { Port = port, TxBytes = tx, RxBytes = rx, TxPackets = txPkts, RxPackets = rxPkts, OperState = state, CounterEpoch = epoch };

    public static OpticsReading Optics(double temp = 45, double vcc = 3.3, double bias = 7, double txDbm = 1, double rxDbm = -2, double ber = 1e-8, int lanes = 8)
    {
        var o = new OpticsReading { TemperatureC = temp, SupplyVoltageV = vcc, PreFecBer = ber };
        for (var i = 0; i < lanes; i++)
        {
            o.BiasCurrentMa.Add(bias);
            o.TxPowerDbm.Add(txDbm);
            o.RxPowerDbm.Add(rxDbm - i * 0.1);
        }
        return o;
    }
}

/// <summary>A switch agent that numbers its batches like a real one.</summary>
internal sealed class ScriptedAgent(string switchName, string agentId = "")
{
    public string Switch { get; } = switchName;
    public string Id { get; } = agentId.Length > 0 ? agentId : "agent-" + switchName;
    public ulong Session { get; set; } = 0xABCDEF;
    public ulong Sequence { get; set; }
    public ulong BootId { get; set; } = 1;

    /// <summary>The next batch, sampled at <paramref name="sampleTime"/> on the switch clock.</summary>
    public TelemetryBatch Next(long sampleTime, params PortSample[] ports)
    {
        var b = new TelemetryBatch
        {
            SwitchName = Switch, AgentId = Id, SessionId = Session, Sequence = ++Sequence,
            SampleTimeUnixNanos = sampleTime, BootId = BootId,
        };
        b.Ports.Add(ports);
        return b;
    }
}
