extern alias allinone;

using System.Diagnostics;
using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using AllInOneBench = allinone::ControlPlane.AllInOne.ConvergenceBenchmark;
using AllInOneOptions = allinone::ControlPlane.AllInOne.ConvergenceBenchmarkOptions;
using Latency = allinone::ControlPlane.AllInOne.LatencyFigures;

namespace ControlPlane.Benchmarks;

/// <summary>
/// Link failure -> every affected agent acknowledged its new table, p50/p99 over many failures, on the closed loop:
/// in one process (the all-in-one composition, in-memory bus; what `fabricctl bench convergence` runs), or with
/// `--processes` as separate service processes over a real RabbitMQ and PostgreSQL started for the run.
/// Arguments: [--processes] [failures (100)] [radix (64)] [periodMs (1000)] [--alloc: which types are allocated most]
/// [--no-warmup: count from the first failure; by default 10 warm-up failures go first and are reported apart].
/// </summary>
public sealed class ConvergenceSuite : IBenchmarkSuite
{
    public string Name => "convergence";

    public string Description => "closed loop: link failure -> all affected agents acked (p50/p99), in one process or --processes over RabbitMQ";

    public async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var processes = args.Contains("--processes");
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
        var failures = numbers.Length > 0 ? numbers[0] : 100;
        var radix = numbers.Length > 1 ? numbers[1] : 64;
        if (!processes)
        {
            // A third number sets the emulation period in ms (default 1000), e.g. to see the loop without the traffic model.
            var periodMs = numbers.Length > 2 ? numbers[2] : 1000;
            var report = await AllInOneBench.RunAsync(new AllInOneOptions { Failures = failures, Radix = radix, PeriodMs = periodMs, AdaptationPeriods = periodMs > 5000 ? 0 : 10, SampleAllocations = args.Contains("--alloc"), WarmupFailures = args.Contains("--no-warmup") ? 0 : 10 }, output.WriteLine, cancellationToken);
            output.Write(AllInOneBench.Format(report));
            return report.TimedOut == 0 ? 0 : 1;
        }

        output.WriteLine($"starting PostgreSQL, RabbitMQ and five service processes (MPFT radix {radix})");
        await using var pg = await PostgresServer.StartAsync(cancellationToken);
        await using var rabbit = await RabbitMqServer.StartAsync(cancellationToken);
        var db = await pg.CreateDatabaseAsync("convergence", cancellationToken);
        var start = Stopwatch.StartNew();
        await using var loop = await DistributedLoop.StartAsync(db, rabbit.AmqpUri, radix, checkForwarding: false);
        await loop.WaitInSyncAsync(TimeSpan.FromMinutes(10));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first tables on every switch after {start.Elapsed.TotalSeconds:F1} s"));
        var links = await loop.GetAsync(loop.Inventory, "/api/v1/fabrics/mpft/links?role=leafSpine&limit=1000");
        var ids = links.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("id").GetInt32()).ToArray();
        var rng = new Random(1);
        // Warm-up failures first, reported apart (the first failures after a start run unoptimized code in every process).
        var warmup = args.Contains("--no-warmup") ? 0 : 10;
        var warm = new List<double>();
        var down = new List<double>();
        var up = new List<double>();
        var toDistribution = new List<double>();
        var inDistribution = new List<double>();
        var switches = new List<int>();
        var timedOut = 0;
        static double Ms(RoutesConverged c) => (c.ConvergedAt - (c.TriggeredAt ?? c.ReceivedAt)).TotalMilliseconds;
        for (var i = 0; i < warmup + failures; i++)
        {
            var link = ids[rng.Next(ids.Length)];
            var measured = i >= warmup;
            try
            {
                var d = await loop.InjectAndConvergeAsync(FaultKind.LinkDown, link, timeout: TimeSpan.FromSeconds(20));
                (measured ? down : warm).Add(Ms(d));
                if (measured)
                {
                    // One machine, one clock: the port event's time (agents' process) against distribution's receipt.
                    if (d.TriggeredAt is { } at) toDistribution.Add((d.ReceivedAt - at).TotalMilliseconds);
                    inDistribution.Add((d.ConvergedAt - d.ReceivedAt).TotalMilliseconds);
                    switches.Add(d.Switches);
                }
                var u = await loop.InjectAndConvergeAsync(FaultKind.LinkUp, link, timeout: TimeSpan.FromSeconds(20));
                if (measured) up.Add(Ms(u));
            }
            catch (TimeoutException)
            {
                if (measured) timedOut++;
                else output.WriteLine($"warm-up failure {i + 1} timed out");
            }
            if (warmup > 0 && i == warmup - 1) output.WriteLine($"{warmup} warm-up failures (not counted): {Latency.Of(warm)}");
            if (measured && (i - warmup + 1) % 10 == 0) output.WriteLine($"{i - warmup + 1}/{failures}: failure -> all acked {Latency.Of(down)}");
        }
        output.WriteLine($"Convergence across processes (inventory, telemetry, routing, distribution, agents; RabbitMQ, PostgreSQL; {Environment.ProcessorCount} cores), MPFT radix {radix}:");
        if (warmup > 0) output.WriteLine($"  {warmup} warm-up failures first, not counted: {Latency.Of(warm)}");
        output.WriteLine($"  link failure -> every affected agent acked: {Latency.Of(down)}");
        output.WriteLine($"  link repair -> every affected agent acked:  {Latency.Of(up)}");
        output.WriteLine($"    failure -> distribution has the tables:   {Latency.Of(toDistribution)}");
        output.WriteLine($"    distribution -> every affected agent acked: {Latency.Of(inDistribution)}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  switches changed per failure (median): {(switches.Count == 0 ? double.NaN : switches.Order().ElementAt(switches.Count / 2))}; timed out: {timedOut}"));
        return timedOut == 0 ? 0 : 1;
    }
}
