using System.Diagnostics;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using Google.Protobuf;

namespace ControlPlane.Telemetry;

/// <summary>What to measure.</summary>
public sealed record TelemetryBenchmarkOptions
{
    /// <summary>The fabric; default the DeepSeek-V3 MPFT (8 planes, 768 switches of 64 ports, 49,152 switch ports).</summary>
    public GeneratorParameters Fabric { get; init; } = new() { Kind = TopologyKind.Mpft, Name = "mpft" };

    /// <summary>Timed polls of every switch per repetition (one poll = one 100 ms period of the whole fabric).</summary>
    public int Polls { get; init; } = 10;

    /// <summary>Repetitions of the timed run, each on a fresh pipeline; the median is reported.</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>Priorities with byte and pause counters per port sample.</summary>
    public int PrioritiesPerPort { get; init; } = 2;

    /// <summary>Optics (DOM) are in one poll out of this many (DOM is commonly read at 1 Hz while counters are read at 10 Hz).</summary>
    public int OpticsEveryPolls { get; init; } = 10;

    /// <summary>Poll rate the fabric is sized for.</summary>
    public double PollHz { get; init; } = 10;

    /// <summary>Seed of the synthetic load.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>Build the per-period snapshots in the timed loop (default); off measures ingest alone.</summary>
    public bool Snapshots { get; init; } = true;

    /// <summary>
    /// CPU time consumed so far by the measuring thread, when the host can read it (the benchmark suite reads
    /// /proc/thread-self/schedstat on Linux); null uses the whole process's CPU time, which also counts GC and JIT threads.
    /// </summary>
    public Func<TimeSpan>? ThreadCpuTime { get; init; }

    /// <summary>Pipeline options.</summary>
    public TelemetryOptions Pipeline { get; init; } = new();
}

/// <summary>Figures measured by <see cref="TelemetryBenchmark.Run"/>. Times are wall-clock on one thread.</summary>
public sealed record TelemetryBenchmarkReport
{
    /// <summary>Fabric name and kind.</summary>
    public required string Fabric { get; init; }
    /// <summary>Switches.</summary>
    public required int Switches { get; init; }
    /// <summary>Switch ports (all cabled in the default fabric).</summary>
    public required int SwitchPorts { get; init; }
    /// <summary>Links.</summary>
    public required int Links { get; init; }
    /// <summary>Planes.</summary>
    public required int Planes { get; init; }
    /// <summary>Port samples timed per repetition.</summary>
    public required long SamplesPerRepetition { get; init; }
    /// <summary>Mean encoded batch size, bytes.</summary>
    public required double MeanBatchBytes { get; init; }
    /// <summary>Decode only with the pipeline's span decoder, samples per CPU-second.</summary>
    public required double DecodeSamplesPerSecond { get; init; }
    /// <summary>Decode only with Google.Protobuf's parser (objects per sample), samples per CPU-second, for comparison.</summary>
    public required double GoogleProtobufDecodeSamplesPerSecond { get; init; }
    /// <summary>
    /// Decode + validation + rates + EWMA + raw ring + downsampling + per-period snapshots of every plane, samples per
    /// CPU-second of the one thread doing the work (see <see cref="CpuClock"/>). Median of repetitions.
    /// </summary>
    public required double PipelineSamplesPerSecond { get; init; }
    /// <summary>Whose CPU time <see cref="PipelineSamplesPerSecond"/> divides by: "thread" or "process".</summary>
    public required string CpuClock { get; init; }
    /// <summary>The same per wall-clock second: lower than the CPU figure when other processes share the cores.</summary>
    public required double PipelineSamplesPerWallSecond { get; init; }
    /// <summary>Each repetition's figure, per CPU-second.</summary>
    public required IReadOnlyList<double> PipelineSamplesPerSecondRuns { get; init; }
    /// <summary>Samples per second the fabric produces at <see cref="TelemetryBenchmarkOptions.PollHz"/>.</summary>
    public required double RequiredSamplesPerSecond { get; init; }
    /// <summary>Fraction of one core the fabric at the poll rate needs (required / measured).</summary>
    public required double CoreFractionAtPollRate { get; init; }
    /// <summary>Bytes allocated per sample in the pipeline run (decode objects mostly).</summary>
    public required double AllocatedBytesPerSample { get; init; }
    /// <summary>Time to build one period's delta snapshots of every plane, median, ms.</summary>
    public required double SnapshotDeltaMsP50 { get; init; }
    /// <summary>Worst delta build, ms.</summary>
    public required double SnapshotDeltaMsMax { get; init; }
    /// <summary>Time to build full snapshots of every plane, median, ms.</summary>
    public required double SnapshotFullMsP50 { get; init; }
    /// <summary>Worst full build, ms.</summary>
    public required double SnapshotFullMsMax { get; init; }
    /// <summary>Links in a delta snapshot of one plane, mean.</summary>
    public required double DeltaLinksPerPlaneMean { get; init; }
    /// <summary>Links in a full snapshot of one plane.</summary>
    public required int FullLinksPerPlane { get; init; }
    /// <summary>Stated state per port (<see cref="TelemetryPipeline.BytesPerPort"/>).</summary>
    public required int BytesPerPortStated { get; init; }
    /// <summary>Managed heap growth from building a pipeline and a snapshot builder, per port.</summary>
    public required double BytesPerPortMeasured { get; init; }
    /// <summary>Samples rejected during the run (expected 0: the load is valid).</summary>
    public required long SamplesRejected { get; init; }
    /// <summary>Target: at least 1,000,000 samples per second on one core.</summary>
    public required bool MeetsThroughputTarget { get; init; }
    /// <summary>Target: snapshot of a period out within 50 ms of its end (worst build, full or delta).</summary>
    public required bool MeetsSnapshotTarget { get; init; }
    /// <summary>Target: the fabric at the poll rate needs under half a core.</summary>
    public required bool MeetsReplicaTarget { get; init; }
}

/// <summary>
/// The reusable telemetry measurement behind <c>fabricctl bench telemetry</c> and the benchmark suite: a synthetic
/// but valid 10 Hz load for every switch port of a fabric (varying utilization per port, 2 priorities, optics at
/// 1 Hz, per-switch clock skew and network delay), pre-encoded so that the timed part is decode + pipeline +
/// snapshots.
/// </summary>
public static class TelemetryBenchmark
{
    private const long Ms = 1_000_000;

    /// <summary>Runs the measurement on the calling thread.</summary>
    public static TelemetryBenchmarkReport Run(TelemetryBenchmarkOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Polls, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Repeat, 1);
        var topo = FabricGenerator.Generate(options.Fabric);
        var layout = new PortLayout(topo);
        var t0 = 1_800_000_000_000_000_000L;
        var periodNs = UnixNanos.FromTimeSpan(options.Pipeline.Period);
        var load = new Load(topo, layout, options, t0, periodNs);
        var polls = new List<(byte[] Bytes, long Receive)[]>();
        for (var k = 0; k <= options.Polls; k++) polls.Add(load.Poll(k));
        var batches = polls.Sum(p => p.Length);
        var meanBytes = polls.Sum(p => p.Sum(b => (double)b.Bytes.Length)) / batches;
        var samplesPerPoll = polls[1].Sum(b => TelemetryBatch.Parser.ParseFrom(b.Bytes).Ports.Count);

        // Decode only, with the pipeline's span decoder and with Google.Protobuf; the first pass warms the JIT up.
        var cpuClock = options.ThreadCpuTime ?? (() => Process.GetCurrentProcess().TotalProcessorTime);
        var sw = new Stopwatch();
        double decodeRate = 0, googleRate = 0;
        var scratch = new PortSampleData[64];
        for (var pass = 0; pass < 2; pass++)
        {
            var d0 = cpuClock();
            long decoded = 0;
            for (var k = 1; k <= options.Polls; k++)
            {
                foreach (var (bytes, _) in polls[k])
                {
                    BatchHeader h = default;
                    TelemetryWire.Decode(bytes, ref h, ref scratch, options.Pipeline.MaxPortsPerBatch, out var n);
                    decoded += n;
                }
            }
            decodeRate = decoded / (cpuClock() - d0).TotalSeconds;
            d0 = cpuClock();
            decoded = 0;
            for (var k = 1; k <= options.Polls; k++)
                foreach (var (bytes, _) in polls[k]) decoded += TelemetryBatch.Parser.ParseFrom(bytes).Ports.Count;
            googleRate = decoded / (cpuClock() - d0).TotalSeconds;
        }

        // Memory of the state.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(true);
        var probe = new TelemetryPipeline(topo, options.Pipeline);
        var probeBuilder = new LinkLoadSnapshotBuilder(probe);
        var after = GC.GetTotalMemory(true);
        var measuredPerPort = (after - before) / (double)layout.PortCount;
        GC.KeepAlive(probe);
        GC.KeepAlive(probeBuilder);

        var runs = new List<double>();
        var cpuRuns = new List<double>();
        var deltaMs = new List<double>();
        var fullMs = new List<double>();
        var deltaLinks = new List<int>();
        double allocPerSample = 0;
        long rejected = 0;
        for (var r = -1; r < options.Repeat; r++) // r = -1 warms the JIT up and is not reported
        {
            var p = new TelemetryPipeline(topo, options.Pipeline);
            var b = new LinkLoadSnapshotBuilder(p);
            foreach (var (bytes, recv) in polls[0]) p.Ingest(bytes, recv, "bench");
            b.Build(t0 + periodNs);
            GC.Collect();
            var alloc0 = GC.GetAllocatedBytesForCurrentThread();
            long samples = 0;
            var cpu0 = cpuClock();
            sw.Restart();
            for (var k = 1; k <= options.Polls; k++)
            {
                foreach (var (bytes, recv) in polls[k]) samples += p.Ingest(bytes, recv, "bench").SamplesAccepted;
                if (!options.Snapshots) continue;
                var end = t0 + (k + 1) * periodNs;
                var s0 = Stopwatch.GetTimestamp();
                var snaps = b.Build(end);
                var ms = Stopwatch.GetElapsedTime(s0).TotalMilliseconds;
                if (snaps[0].IsFull) fullMs.Add(ms);
                else
                {
                    deltaMs.Add(ms);
                    foreach (var s in snaps) deltaLinks.Add(s.Loads.Count);
                }
            }
            var secs = sw.Elapsed.TotalSeconds;
            var cpuSecs = (cpuClock() - cpu0).TotalSeconds;
            allocPerSample = (GC.GetAllocatedBytesForCurrentThread() - alloc0) / (double)Math.Max(1, samples);
            if (r < 0)
            {
                deltaMs.Clear();
                fullMs.Clear();
                deltaLinks.Clear();
                continue;
            }
            runs.Add(samples / secs);
            cpuRuns.Add(samples / cpuSecs);
            // A full build of every plane, timed on its own.
            b.RequestFull();
            var f0 = Stopwatch.GetTimestamp();
            b.Build(t0 + (options.Polls + 2) * periodNs);
            fullMs.Add(Stopwatch.GetElapsedTime(f0).TotalMilliseconds);
            rejected += p.Metrics.Read().SamplesRejected.Values.Sum();
        }
        var wallMedian = runs.Order().ElementAt(runs.Count / 2);
        var cpuMedian = cpuRuns.Order().ElementAt(cpuRuns.Count / 2);
        // Per core: samples per CPU-second of the measuring thread (or the process), so that other load on a shared
        // machine does not count against it; the wall-clock figure is reported beside it.
        var median = cpuMedian;
        var required = layout.PortCount * options.PollHz;
        var worstSnapshot = Math.Max(deltaMs.DefaultIfEmpty(0).Max(), fullMs.DefaultIfEmpty(0).Max());
        return new TelemetryBenchmarkReport
        {
            Fabric = $"{topo.Name} ({topo.Kind})",
            Switches = topo.Switches.Count,
            SwitchPorts = layout.PortCount,
            Links = topo.Links.Count,
            Planes = layout.PlaneCount,
            SamplesPerRepetition = (long)samplesPerPoll * options.Polls,
            MeanBatchBytes = Math.Round(meanBytes, 1),
            DecodeSamplesPerSecond = Math.Round(decodeRate),
            GoogleProtobufDecodeSamplesPerSecond = Math.Round(googleRate),
            PipelineSamplesPerSecond = Math.Round(median),
            PipelineSamplesPerWallSecond = Math.Round(wallMedian),
            CpuClock = options.ThreadCpuTime is null ? "process" : "thread",
            PipelineSamplesPerSecondRuns = cpuRuns.Select(x => Math.Round(x)).ToArray(),
            RequiredSamplesPerSecond = required,
            CoreFractionAtPollRate = Math.Round(required / median, 3),
            AllocatedBytesPerSample = Math.Round(allocPerSample, 1),
            SnapshotDeltaMsP50 = Math.Round(Percentile(deltaMs, 0.5), 3),
            SnapshotDeltaMsMax = Math.Round(deltaMs.DefaultIfEmpty(0).Max(), 3),
            SnapshotFullMsP50 = Math.Round(Percentile(fullMs, 0.5), 3),
            SnapshotFullMsMax = Math.Round(fullMs.DefaultIfEmpty(0).Max(), 3),
            DeltaLinksPerPlaneMean = Math.Round(deltaLinks.DefaultIfEmpty(0).Average(), 1),
            FullLinksPerPlane = layout.PlaneCount == 0 ? 0 : layout.PlaneLinks(0).Length,
            BytesPerPortStated = TelemetryPipeline.BytesPerPort(options.Pipeline),
            BytesPerPortMeasured = Math.Round(measuredPerPort, 1),
            SamplesRejected = rejected,
            MeetsThroughputTarget = median >= 1_000_000,
            MeetsSnapshotTarget = worstSnapshot <= 50,
            MeetsReplicaTarget = required / median < 0.5,
        };
    }

    private static double Percentile(List<double> xs, double q)
    {
        if (xs.Count == 0) return 0;
        var s = xs.Order().ToArray();
        return s[(int)Math.Min(s.Length - 1, Math.Floor(q * s.Length))];
    }

    /// <summary>Synthetic valid load: each port's utilization wanders around its own mean; counters stay monotonic.</summary>
    private sealed class Load
    {
        private readonly FabricTopology _topo;
        private readonly PortLayout _layout;
        private readonly TelemetryBenchmarkOptions _o;
        private readonly long _t0, _period;
        private readonly ulong[] _tx, _rx, _pkts, _fec;
        private readonly double[] _mean;
        private readonly long[] _skew;
        private readonly Random _rng;

        public Load(FabricTopology topo, PortLayout layout, TelemetryBenchmarkOptions o, long t0, long period)
        {
            _topo = topo;
            _layout = layout;
            _o = o;
            _t0 = t0;
            _period = period;
            _rng = new Random(o.Seed);
            _tx = new ulong[layout.PortCount];
            _rx = new ulong[layout.PortCount];
            _pkts = new ulong[layout.PortCount];
            _fec = new ulong[layout.PortCount];
            _mean = new double[layout.PortCount];
            for (var i = 0; i < _mean.Length; i++)
            {
                _mean[i] = 0.2 + 0.6 * _rng.NextDouble();
                _tx[i] = (ulong)_rng.NextInt64(0, 1L << 50);
                _rx[i] = (ulong)_rng.NextInt64(0, 1L << 50);
            }
            _skew = new long[topo.Switches.Count];
            for (var s = 0; s < _skew.Length; s++) _skew[s] = _rng.NextInt64(-50 * Ms, 50 * Ms);
        }

        public (byte[] Bytes, long Receive)[] Poll(int k)
        {
            var result = new (byte[], long)[_topo.Switches.Count];
            var dt = _period / 1e9;
            for (var s = 0; s < _topo.Switches.Count; s++)
            {
                var sampleTime = _t0 + k * _period + _skew[s];
                var batch = new TelemetryBatch
                {
                    SwitchName = _topo.Switches[s].Name,
                    AgentId = "agent-" + _topo.Switches[s].Name,
                    SessionId = 0x5EED,
                    Sequence = (ulong)k + 1,
                    SampleTimeUnixNanos = sampleTime,
                    BootId = 1,
                };
                var links = _topo.SwitchPortLinks(s);
                for (var i = 0; i < links.Length; i++)
                {
                    if (links[i] < 0) continue;
                    var idx = _layout.PortIndex(s, (uint)(i + 1));
                    var line = _layout.LineBytesPerSecond(idx) * dt;
                    var u = Math.Clamp(_mean[idx] + 0.1 * (_rng.NextDouble() - 0.5), 0, 0.98);
                    var txInc = (ulong)(u * line);
                    var rxInc = (ulong)(Math.Clamp(_mean[idx] * 0.9, 0, 0.98) * line);
                    _tx[idx] += txInc;
                    _rx[idx] += rxInc;
                    _pkts[idx] += txInc / 4096;
                    if (_rng.Next(100) == 0) _fec[idx]++;
                    var ps = new PortSample
                    {
                        Port = (uint)(i + 1),
                        OperState = PortOperState.Up,
                        TxBytes = _tx[idx],
                        RxBytes = _rx[idx],
                        TxPackets = _pkts[idx],
                        RxPackets = _rx[idx] / 4096,
                        EcnMarkedPackets = _pkts[idx] / 1000,
                        FecCorrectedCodewords = _pkts[idx] / 64,
                        FecUncorrectedCodewords = _fec[idx],
                        SymbolErrors = _pkts[idx] / 32,
                    };
                    for (var q = 0; q < _o.PrioritiesPerPort; q++)
                    {
                        var prio = q == 0 ? 3u : (uint)((q * 2) % 8);
                        ps.Priorities.Add(new PrioritySample
                        {
                            Priority = prio,
                            TxBytes = _tx[idx] / (ulong)(q + 2),
                            RxBytes = _rx[idx] / (ulong)(q + 2),
                            TxPauseFrames = _pkts[idx] / 100_000,
                            QueueBytes = (ulong)_rng.Next(0, 1 << 20),
                        });
                    }
                    if (k % _o.OpticsEveryPolls == 0)
                    {
                        var o = new OpticsReading { TemperatureC = 45 + _rng.NextDouble() * 10, SupplyVoltageV = 3.3, PreFecBer = 1e-8 * (1 + _rng.NextDouble()) };
                        for (var l = 0; l < 8; l++)
                        {
                            o.BiasCurrentMa.Add(7 + _rng.NextDouble());
                            o.TxPowerDbm.Add(1 + _rng.NextDouble());
                            o.RxPowerDbm.Add(-2 - _rng.NextDouble());
                        }
                        ps.Optics = o;
                    }
                    batch.Ports.Add(ps);
                }
                // Received 1 to 3 ms after the sample, on the control plane's clock (the switch clock is off by its skew).
                result[s] = (batch.ToByteArray(), sampleTime - _skew[s] + Ms + _rng.NextInt64(0, 2 * Ms));
            }
            return result;
        }
    }
}
