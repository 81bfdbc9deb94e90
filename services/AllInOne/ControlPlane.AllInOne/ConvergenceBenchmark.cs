using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Service;
using ControlPlane.Fabric;
using ControlPlane.Hosting;
using ControlPlane.Routing.Service;
using MassTransit;

namespace ControlPlane.AllInOne;

/// <summary>What the convergence benchmark runs.</summary>
public sealed record ConvergenceBenchmarkOptions
{
    /// <summary>Link failures injected (each is repaired before the next, so each is measured alone).</summary>
    public int Failures { get; init; } = 100;

    /// <summary>
    /// Failures injected and repaired first, not counted (reported apart): the first failures after a start run code the
    /// runtime has not optimized yet (tier-0 JIT), which a control plane that runs for months pays once.
    /// </summary>
    public int WarmupFailures { get; init; } = 10;

    /// <summary>Switch radix of the MPFT (64: the 16,384-endpoint, 768-switch DeepSeek-V3 fabric).</summary>
    public int Radix { get; init; } = 64;

    /// <summary>Seed of the link choice.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>When set, the bus runs over this RabbitMQ (amqp://...) instead of in memory.</summary>
    public string? RabbitMqUri { get; init; }

    /// <summary>Emulation periods watched after the first convergence, for the adaptation figures.</summary>
    public int AdaptationPeriods { get; init; } = 10;

    /// <summary>Emulation period.</summary>
    public int PeriodMs { get; init; } = 1000;

    /// <summary>When set, samples which types are allocated during the failures and reports the largest.</summary>
    public bool SampleAllocations { get; init; }

    /// <summary>How long to wait for one convergence before counting it as timed out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Each bad option, naming it.</summary>
    public IEnumerable<FieldError> Problems()
    {
        if (Failures is < 1 or > 10_000) yield return new("failures", $"must be between 1 and 10000, got {Failures}");
        if (WarmupFailures is < 0 or > 1000) yield return new("warmup", $"must be between 0 and 1000, got {WarmupFailures}");
        if (Radix is < 4 or > 128 || Radix % 2 != 0) yield return new("radix", $"must be an even number between 4 and 128, got {Radix}");
        if (AdaptationPeriods is < 0 or > 1000) yield return new("periods", $"must be between 0 and 1000, got {AdaptationPeriods}");
        if (PeriodMs is < 100 or > 60_000) yield return new("periodMs", $"must be between 100 and 60000, got {PeriodMs}");
        if (RabbitMqUri is { } u && (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps")))
            yield return new("rabbitmq", $"must be an amqp:// URI, got '{u}'");
    }
}

/// <summary>Percentiles of a set of latencies, in milliseconds.</summary>
public sealed record LatencyFigures(int Count, double P50, double P90, double P99, double Max, double Mean)
{
    /// <summary>Figures of the samples (nearest-rank percentiles).</summary>
    public static LatencyFigures Of(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0) return new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var s = samples.Order().ToArray();
        double P(double q) => s[Math.Clamp((int)Math.Ceiling(q * s.Length) - 1, 0, s.Length - 1)];
        return new(s.Length, P(0.50), P(0.90), P(0.99), s[^1], s.Average());
    }

    /// <inheritdoc/>
    public override string ToString() => Count == 0 ? "no samples" :
        string.Create(CultureInfo.InvariantCulture, $"p50 {P50:F1} ms, p90 {P90:F1} ms, p99 {P99:F1} ms, max {Max:F1} ms, mean {Mean:F1} ms (n={Count})");
}

/// <summary>Medians of routing's stages for a port event, in milliseconds.</summary>
public sealed record RoutingStages(double Queue, double Update, double Export, double Publish);

/// <summary>Garbage collections over a span of time and the total pause they caused.</summary>
public sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PauseMs, double Seconds, double AllocatedMegabytes = 0);

/// <summary>One emulation period's load against the bound.</summary>
public sealed record PeriodFigure(long Period, double MaxUtilization, double LowerBound, double Ratio, long RoutingVersion);

/// <summary>The convergence benchmark's figures.</summary>
public sealed record ConvergenceReport
{
    /// <summary>"in-memory" or "rabbitmq".</summary>
    public required string Transport { get; init; }
    /// <summary>Fabric description.</summary>
    public required string Fabric { get; init; }
    /// <summary>Switches (each with its own agent).</summary>
    public required int Switches { get; init; }
    /// <summary>From start to every agent holding its first table.</summary>
    public required double StartupSeconds { get; init; }
    /// <summary>Link failures injected.</summary>
    public required int Failures { get; init; }
    /// <summary>Failures or repairs that did not converge within the timeout.</summary>
    public required int TimedOut { get; init; }
    /// <summary>Warm-up failures injected before the measured ones (not counted in the figures).</summary>
    public int WarmupFailures { get; init; }
    /// <summary>The warm-up failures' failure -> all acked (cold code: the first failures after start).</summary>
    public LatencyFigures WarmupFailureToAllAcked { get; init; } = LatencyFigures.Of([]);
    /// <summary>Link failure (port event time) to the last affected agent's ack, as the loop reports it.</summary>
    public required LatencyFigures FailureToAllAcked { get; init; }
    /// <summary>Same, measured by the benchmark: from the injection call to receiving RoutesConverged.</summary>
    public required LatencyFigures InjectionToConvergedEvent { get; init; }
    /// <summary>Link repair to the last affected agent's ack.</summary>
    public required LatencyFigures RepairToAllAcked { get; init; }
    /// <summary>Inside routing: port event consumed to RoutesComputed published (the routing service's own figure).</summary>
    public required LatencyFigures RoutingPortEventToPublished { get; init; }
    /// <summary>Failure (port event time) to distribution receiving routing's tables: agent event, bus, routing, bus.</summary>
    public LatencyFigures FailureToDistribution { get; init; } = LatencyFigures.Of([]);
    /// <summary>Distribution receiving the tables to the last affected agent's ack: waves, bus both ways, agent installs.</summary>
    public LatencyFigures DistributionToAllAcked { get; init; } = LatencyFigures.Of([]);
    /// <summary>Inside routing, per failure: queued, engine update, export + encode, publish (medians, ms).</summary>
    public RoutingStages RoutingStagesP50 { get; init; } = new(double.NaN, double.NaN, double.NaN, double.NaN);
    /// <summary>Garbage collections during the failures (gen0, gen1, gen2) and the total time the runtime was paused for them.</summary>
    public GcFigures GcDuringFailures { get; init; } = new(0, 0, 0, 0, 0);
    /// <summary>With <see cref="ConvergenceBenchmarkOptions.SampleAllocations"/>: the types allocated most during the failures.</summary>
    public IReadOnlyList<AllocatedType> AllocatedDuringFailures { get; init; } = [];
    /// <summary>With <see cref="ConvergenceBenchmarkOptions.SampleAllocations"/>: what the bus delivered during the failures, by message type.</summary>
    public IReadOnlyList<BusTraffic> BusTrafficDuringFailures { get; init; } = [];
    /// <summary>Switches whose tables changed per failure (median).</summary>
    public required double SwitchesPerChange { get; init; }
    /// <summary>Make-before-break waves per failure (median).</summary>
    public required double WavesPerChange { get; init; }
    /// <summary>Loops or blackholes the emulated fabric found in installed tables during the run.</summary>
    public required long ForwardingProblems { get; init; }
    /// <summary>Per emulation period after startup: max link utilization against the bound.</summary>
    public required IReadOnlyList<PeriodFigure> Adaptation { get; init; }
    /// <summary>First period from which the ratio stays within 5% of the bound, or null.</summary>
    public int? PeriodsToWithin5Percent { get; init; }
    /// <summary>Largest ratio after that period (oscillation shows here).</summary>
    public double MaxRatioAfterSettling { get; init; }
    /// <summary>Processor count of the machine.</summary>
    public int Processors { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Runs the whole loop in this process (every module, one emulated agent per switch) on a fresh store, waits for the
/// first tables to be installed everywhere, watches the load against the bound for some periods, then fails and
/// repairs random leaf-spine links one at a time and measures failure -> every affected agent acknowledged.
/// </summary>
public static class ConvergenceBenchmark
{
    /// <summary>Runs it; progress lines go to <paramref name="progress"/>.</summary>
    public static async Task<ConvergenceReport> RunAsync(ConvergenceBenchmarkOptions o, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var problems = o.Problems().ToList();
        if (problems.Count > 0) throw new FabricInputException(problems);
        progress ??= _ => { };
        var total = Stopwatch.StartNew();
        progress($"starting the loop: MPFT radix {o.Radix}, {(o.RabbitMqUri is null ? "in-memory bus" : "RabbitMQ")}");
        await using var loop = await EmbeddedLoop.StartAsync(o.Radix, new Dictionary<string, string?>
        {
            ["Emulation:PeriodMs"] = o.PeriodMs.ToString(CultureInfo.InvariantCulture),
            ["Bus:Transport"] = o.RabbitMqUri is null ? "InMemory" : "RabbitMq",
            ["Bus:EndpointPrefix"] = o.RabbitMqUri is null ? null : "bench" + Guid.NewGuid().ToString("N")[..6],
            ["ConnectionStrings:rabbitmq"] = o.RabbitMqUri,
            ["Logging:LogLevel:Default"] = "Error",
        }, cancellationToken);
        var routing = loop.Get<RoutingStatus>();
        var emulation = loop.Get<EmulatedFabricStatus>();
        var fabric = loop.Fabric;

        // 1. Every agent holds its first table.
        await loop.WaitInSyncAsync(TimeSpan.FromMinutes(10), cancellationToken);
        var startup = total.Elapsed.TotalSeconds;
        var topology = fabric.Topology!;
        progress(string.Create(CultureInfo.InvariantCulture, $"first tables on all {topology.Switches.Count} switches after {startup:F1} s"));

        // 2. Load against the bound, period by period.
        var periods = new List<PeriodFigure>();
        var lastPeriod = emulation.Snapshot.Period;
        while (periods.Count < o.AdaptationPeriods)
        {
            await Task.Delay(Math.Max(50, o.PeriodMs / 5), cancellationToken);
            var s = emulation.Snapshot;
            if (s.Period == lastPeriod) continue;
            lastPeriod = s.Period;
            periods.Add(new(s.Period, s.MaxUtilization, s.LowerBound, s.RatioToBound, routing.Get("mpft")?.RoutingVersion ?? 0));
            progress(string.Create(CultureInfo.InvariantCulture, $"period {s.Period}: max link utilization {s.MaxUtilization:F3}, bound {s.LowerBound:F3}, ratio {s.RatioToBound:F3}"));
        }
        int? settled = null;
        for (var i = 0; i < periods.Count; i++)
            if (periods.Skip(i).All(p => p.Ratio <= 1.05)) { settled = i; break; }
        var maxAfter = settled is { } k ? periods.Skip(k).Select(p => p.Ratio).DefaultIfEmpty(double.NaN).Max() : double.NaN;

        // 3. Failures, one at a time, each repaired before the next.
        var rng = new Random(o.Seed);
        var candidates = topology.Links.Where(l => l.Role == LinkRole.LeafSpine).Select(l => l.Id).ToArray();
        if (candidates.Length == 0) throw new InvalidOperationException("no leaf-spine link to fail");
        var down = new List<double>();
        var downClient = new List<double>();
        var toDistribution = new List<double>();
        var inDistribution = new List<double>();
        var stages = new List<PortStagesView>();
        var up = new List<double>();
        var switches = new List<double>();
        var waves = new List<double>();
        var timedOut = 0;
        // Warm-up: failures on the same kind of links, measured apart.
        var warm = new List<double>();
        for (var i = 0; i < o.WarmupFailures; i++)
        {
            var link = candidates[rng.Next(candidates.Length)];
            if (await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkDown, LinkId = link }, o.Timeout, cancellationToken) is var (wev, _)) warm.Add(FailureToAcked(wev));
            else timedOut++;
            if (await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkUp, LinkId = link }, o.Timeout, cancellationToken) is null) timedOut++;
        }
        if (o.WarmupFailures > 0) progress($"{o.WarmupFailures} warm-up failures (not counted): {LatencyFigures.Of(warm)}");
        using var sampler = o.SampleAllocations ? new AllocationSampler() : null;
        sampler?.Start();
        var traffic = o.SampleAllocations ? new BusTrafficSampler() : null;
        using var trafficHandle = traffic is null ? null : new DisposableHandle(loop.Get<IBus>().ConnectReceiveObserver(traffic));
        traffic?.Start();
        var (gc0, gc1, gc2, pause0, bytes0) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());
        var failuresWatch = Stopwatch.StartNew();
        for (var i = 0; i < o.Failures; i++)
        {
            var link = candidates[rng.Next(candidates.Length)];
            if (await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkDown, LinkId = link }, o.Timeout, cancellationToken) is var (ev, clientMs))
            {
                down.Add(FailureToAcked(ev));
                downClient.Add(clientMs);
                if (ev.TriggeredAt is { } at) toDistribution.Add((ev.ReceivedAt - at).TotalMilliseconds);
                inDistribution.Add((ev.ConvergedAt - ev.ReceivedAt).TotalMilliseconds);
                if (routing.Get(EmbeddedLoop.FabricName)?.LastPortStages is { } st) stages.Add(st);
                switches.Add(ev.Switches);
                waves.Add(ev.Waves);
            }
            else timedOut++;
            if (await loop.InjectAndConvergeAsync(new FaultRequest { Kind = FaultKind.LinkUp, LinkId = link }, o.Timeout, cancellationToken) is var (upEv, _)) up.Add(FailureToAcked(upEv));
            else timedOut++;
            if ((i + 1) % 10 == 0 || i == o.Failures - 1)
                progress($"{i + 1}/{o.Failures} failures: failure -> all acked {LatencyFigures.Of(down)}");
        }
        var gcDuring = new GcFigures(GC.CollectionCount(0) - gc0, GC.CollectionCount(1) - gc1, GC.CollectionCount(2) - gc2, (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds, failuresWatch.Elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes() - bytes0) / 1e6);
        sampler?.Stop();
        traffic?.Stop();
        var r = routing.Get("mpft");
        var portLatency = r?.PortEventLatencyMs;
        var report = new ConvergenceReport
        {
            Transport = o.RabbitMqUri is null ? "in-memory" : "rabbitmq",
            Fabric = $"MPFT radix {o.Radix}: {topology.EndpointCount:N0} endpoints, {topology.Switches.Count} switches, {topology.Planes.Count} planes",
            Switches = topology.Switches.Count,
            StartupSeconds = startup,
            Failures = o.Failures,
            WarmupFailures = o.WarmupFailures,
            WarmupFailureToAllAcked = LatencyFigures.Of(warm),
            TimedOut = timedOut,
            FailureToAllAcked = LatencyFigures.Of(down),
            InjectionToConvergedEvent = LatencyFigures.Of(downClient),
            RepairToAllAcked = LatencyFigures.Of(up),
            RoutingPortEventToPublished = portLatency is null ? LatencyFigures.Of([]) : new LatencyFigures(portLatency.Count, portLatency.Median, double.NaN, portLatency.P99, double.NaN, double.NaN),
            FailureToDistribution = LatencyFigures.Of(toDistribution),
            DistributionToAllAcked = LatencyFigures.Of(inDistribution),
            RoutingStagesP50 = new(Median([.. stages.Select(x => x.QueueMs)]), Median([.. stages.Select(x => x.UpdateMs)]), Median([.. stages.Select(x => x.ExportMs)]), Median([.. stages.Select(x => x.PublishMs)])),
            GcDuringFailures = gcDuring,
            AllocatedDuringFailures = sampler?.Top(25) ?? [],
            BusTrafficDuringFailures = traffic?.Top(12) ?? [],
            SwitchesPerChange = Median(switches),
            WavesPerChange = Median(waves),
            ForwardingProblems = emulation.Snapshot.ForwardingProblems,
            Adaptation = periods,
            PeriodsToWithin5Percent = settled,
            MaxRatioAfterSettling = maxAfter,
        };
        return report;
    }

    // As the loop reports it: the port event's time to the last ack (same clock).
    private static double FailureToAcked(RoutesConverged ev) => (ev.ConvergedAt - (ev.TriggeredAt ?? ev.ReceivedAt)).TotalMilliseconds;

    private sealed class DisposableHandle(ConnectHandle handle) : IDisposable
    {
        public void Dispose() => handle.Disconnect();
    }

    private static double Median(List<double> xs) => xs.Count == 0 ? double.NaN : xs.Order().ElementAt(xs.Count / 2);

    /// <summary>The report as text.</summary>
    public static string Format(ConvergenceReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine($"Convergence of the closed loop ({r.Transport} bus, one process, {r.Processors} cores): {r.Fabric}");
        b.AppendLine(string.Create(inv, $"  startup to first tables on every switch: {r.StartupSeconds:F1} s"));
        if (r.WarmupFailures > 0) b.AppendLine($"  {r.WarmupFailures} warm-up failures first, not counted:  {r.WarmupFailureToAllAcked}");
        b.AppendLine($"  link failure -> every affected agent acked:   {r.FailureToAllAcked}");
        b.AppendLine($"  injection -> RoutesConverged received:         {r.InjectionToConvergedEvent}");
        b.AppendLine($"  link repair -> every affected agent acked:    {r.RepairToAllAcked}");
        b.AppendLine(string.Create(inv, $"  routing, port event -> tables published:      p50 {r.RoutingPortEventToPublished.P50:F1} ms, p99 {r.RoutingPortEventToPublished.P99:F1} ms"));
        b.AppendLine($"  failure -> distribution has the tables:      {r.FailureToDistribution}");
        b.AppendLine(string.Create(inv, $"    of which inside routing (p50): queued {r.RoutingStagesP50.Queue:F1} ms, engine {r.RoutingStagesP50.Update:F1} ms, export+encode {r.RoutingStagesP50.Export:F1} ms, publish {r.RoutingStagesP50.Publish:F1} ms"));
        b.AppendLine($"  distribution -> every affected agent acked:  {r.DistributionToAllAcked}");
        b.AppendLine(string.Create(inv, $"  per failure: {r.SwitchesPerChange:F0} switches changed (median), {r.WavesPerChange:F0} make-before-break waves; {r.TimedOut} timed out; {r.ForwardingProblems} loops/holes found"));
        b.AppendLine(string.Create(inv, $"  garbage collections during the failures ({r.GcDuringFailures.Seconds:F0} s): gen0 {r.GcDuringFailures.Gen0}, gen1 {r.GcDuringFailures.Gen1}, gen2 {r.GcDuringFailures.Gen2}; paused {r.GcDuringFailures.PauseMs:F0} ms in all ({System.Runtime.GCSettings.IsServerGC switch { true => "server", false => "workstation" }} GC); {r.GcDuringFailures.AllocatedMegabytes:F0} MB allocated"));
        foreach (var t in r.BusTrafficDuringFailures)
            b.AppendLine(string.Create(inv, $"    bus: {t.MessageType,-26} {t.Messages,8} messages {t.Megabytes,9:F1} MB ({t.Megabytes * 1e3 / Math.Max(1, t.Messages),7:F1} KB each)"));
        foreach (var t in r.AllocatedDuringFailures)
            b.AppendLine(string.Create(inv, $"    {t.Megabytes,8:F1} MB {t.Share,6:P1}  {t.Type}"));
        if (r.Adaptation.Count > 0)
        {
            b.AppendLine($"  load vs bound over {r.Adaptation.Count} periods: " + string.Join(", ", r.Adaptation.Select(p => p.Ratio.ToString("F3", inv))));
            b.AppendLine(r.PeriodsToWithin5Percent is { } k
                ? string.Create(inv, $"  within 5% of the bound from period {k} on; largest ratio after: {r.MaxRatioAfterSettling:F3}")
                : "  never settled within 5% of the bound");
        }
        return b.ToString();
    }
}
