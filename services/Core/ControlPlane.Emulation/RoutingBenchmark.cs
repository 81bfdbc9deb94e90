using System.Diagnostics;
using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Emulation;

/// <summary>Options of the routing benchmark.</summary>
public sealed record RoutingBenchmarkOptions
{
    /// <summary>Small fabrics (radix 16) and fewer runs, for a quick look.</summary>
    public bool Quick { get; init; }

    /// <summary>Timed runs per figure (the median is reported), after one warm-up run.</summary>
    public int Runs { get; init; } = 5;

    /// <summary>Fractions of switch links failed at random for the quality table.</summary>
    public IReadOnlyList<double> FailureFractions { get; init; } = [0, 0.01, 0.02, 0.05];

    /// <summary>Seed of the failures and the workload.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>Adaptive loop steps (emulate, measure, step the controller, reroute).</summary>
    public int AdaptiveSteps { get; init; } = 6;

    /// <summary>
    /// Process CPU time, supplied by the caller (e.g. Process.TotalProcessorTime) so figures on a shared machine can be
    /// read without the wait for other processes; null reports NaN. The core itself reads no clock.
    /// </summary>
    public Func<TimeSpan>? CpuClock { get; init; }

    /// <summary>Only the full compute (default policy) and the incremental update: no emulator, no quality table.</summary>
    public bool SpeedOnly { get; init; }

    /// <summary>Only this fabric ("mpft" or "ft3"), or null for both.</summary>
    public string? Fabric { get; init; }

    /// <summary>Timed incremental updates (median reported), after one warm-up; 0 = <see cref="Runs"/>.</summary>
    public int IncrementalRuns { get; init; }
}

/// <summary>Speed figures for one fabric.</summary>
/// <remarks>Wall-clock medians (Stopwatch) and, when a CPU clock was supplied, CPU-time medians of the same runs.</remarks>
public sealed record SpeedFigures(string Topology, int Endpoints, int Switches, long Entries, int Layers, int Groups,
    double ComputeMsMedian, double ComputeCpuMsMedian, double ComputeWcmpOnlyMsMedian, double ComputeWcmpOnlyCpuMsMedian,
    double IncrementalMsMedian, double IncrementalCpuMsMedian, int IncrementalChangedSwitches,
    double EmulatorMsMedian, double EmulatorCpuMsMedian, double EmulatorWithMaxMinMs, long TablesBytes, long AllocatedBytesPerCompute);

/// <summary>One row of the quality table: one fabric, one failure level, one routing.</summary>
public sealed record QualityRow(string Topology, double FailedFraction, int FailedLinks, string Routing,
    double MaxUtilization, double LowerBound, double RatioToBound, double RatioToHashEcmp,
    double CompletionMs, double CompletionBoundMs, double CompletionRatioToBound, string Note);

/// <summary>Every figure of the routing benchmark.</summary>
public sealed record RoutingBenchmarkReport(string Mode, IReadOnlyList<SpeedFigures> Speed, IReadOnlyList<QualityRow> Quality, IReadOnlyList<string> Notes);

/// <summary>
/// The routing benchmark (<c>fabricctl bench routing</c> and the "routing" benchmark suite): speed of full and
/// incremental table computation and of the emulator on MPFT (16,384 endpoints) and FT3 (65,536), and routing quality
/// (max link utilization and completion of an EP all-to-all) for hash ECMP, sprayed ECMP, sprayed WCMP and adaptive,
/// healthy and with random link failures, as ratios to a certified lower bound and to hash ECMP in the same run.
/// Single thread; uses Stopwatch for timing only.
/// </summary>
public static class RoutingBenchmark
{
    /// <summary>Runs everything; <paramref name="log"/> receives progress lines.</summary>
    public static RoutingBenchmarkReport Run(RoutingBenchmarkOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        var radixMpft = options.Quick ? 16 : 64;
        var radixFt3 = options.Quick ? 16 : 64;
        var fabrics = new List<FabricTopology>();
        if (options.Fabric is null or "mpft") fabrics.Add(FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft, Radix = radixMpft, Name = "mpft" }));
        if (options.Fabric is null or "ft3") fabrics.Add(FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft3, Radix = radixFt3, Name = "ft3" }));
        if (fabrics.Count == 0) throw new FabricInputException("fabric", $"must be mpft or ft3, got '{options.Fabric}'");
        var speed = new List<SpeedFigures>();
        var quality = new List<QualityRow>();
        var notes = new List<string>
        {
            "workload: MoE EP dispatch all-to-all (each NIC to the same-index NIC of 4 nodes, 128 tokens x top-8 x 7168 B per GPU, uniform experts), one flow per NIC pair",
            "utilization is at the ideal pace (demand offered over the time the busiest NIC needs at line rate); completion = max over links of bytes / capacity with routing fixed",
            "lower bound = max over leaf and pod cuts of deliverable demand / live cut capacity (valid for any routing, even fractional)",
        };
        foreach (var t in fabrics)
        {
            log($"{t.Name}: {t.EndpointCount} endpoints, {t.Switches.Count} switches");
            speed.Add(Speed(t, options, log));
            if (!options.SpeedOnly) quality.AddRange(Quality(t, options, log));
        }
        return new RoutingBenchmarkReport((options.Quick ? "quick" : "full") + (options.SpeedOnly ? " speed-only" : ""), speed, quality, notes);
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs.Count == 0 ? double.NaN : xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2;
    }

    private static SpeedFigures Speed(FabricTopology t, RoutingBenchmarkOptions o, Action<string> log)
    {
        var snap = FabricSnapshot.Initial(t);
        var policy = TrafficPolicy.Default;
        var wcmp = TrafficPolicy.Single("all", ForwardingMode.Sprayed, PathWeighting.Wcmp);
        RoutingEngine.Compute(snap, policy); // warm-up (also builds the cached graph)
        var times = new List<double>();
        var wtimes = new List<double>();
        var ctimes = new List<double>();
        var cwtimes = new List<double>();
        double Cpu() => o.CpuClock is null ? double.NaN : o.CpuClock().TotalMilliseconds;
        RoutingResult res = null!;
        long alloc = 0;
        for (var i = 0; i < o.Runs; i++)
        {
            GC.Collect();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var c0 = Cpu();
            var sw = Stopwatch.StartNew();
            res = RoutingEngine.Compute(snap, policy);
            times.Add(sw.Elapsed.TotalMilliseconds);
            ctimes.Add(Cpu() - c0);
            alloc = GC.GetAllocatedBytesForCurrentThread() - before;
            if (o.SpeedOnly) continue;
            c0 = Cpu();
            sw.Restart();
            RoutingEngine.Compute(snap, wcmp);
            wtimes.Add(sw.Elapsed.TotalMilliseconds);
            cwtimes.Add(Cpu() - c0);
        }
        log($"  compute default policy {Median(times):F1} ms (cpu {Median(ctimes):F1}), wcmp only {Median(wtimes):F1} ms (cpu {Median(cwtimes):F1})");
        // Incremental: fail one random leaf-spine link, update, repair; median of the failure updates.
        var r = new Random(o.Seed);
        var inc = new List<double>();
        var cinc = new List<double>();
        var changed = 0;
        var incAlloc = new List<double>();
        var switchLinks = t.Links.Where(l => l.IsSwitchLink).Select(l => l.Id).ToArray();
        var incRuns = o.IncrementalRuns > 0 ? o.IncrementalRuns : o.Runs;
        for (var i = 0; i <= incRuns; i++)
        {
            var l = switchLinks[r.Next(switchLinks.Length)];
            var next = snap.WithLink(l, new ElementState(ElementStatus.Down));
            var before = GC.GetAllocatedBytesForCurrentThread();
            var c0 = Cpu();
            var sw = Stopwatch.StartNew();
            var (_, deltas) = RoutingEngine.Update(res, next);
            if (i > 0) { inc.Add(sw.Elapsed.TotalMilliseconds); cinc.Add(Cpu() - c0); incAlloc.Add(GC.GetAllocatedBytesForCurrentThread() - before); }
            changed = deltas.Count;
        }
        log($"  incremental {Median(inc):F2} ms (cpu {Median(cinc):F2}, min wall {inc.Min():F2}) ({changed} switches changed, {Median(incAlloc) / 1e6:F2} MB allocated per update)");
        if (o.SpeedOnly)
            return new SpeedFigures(t.Name, t.EndpointCount, t.Switches.Count, res.EntryCount, res.LayerCount, res.GroupCount,
                Median(times), Median(ctimes), double.NaN, double.NaN, Median(inc), Median(cinc), changed, double.NaN, double.NaN, double.NaN, res.ApproximateBytes, alloc);
        var workload = WorkloadGenerator.Moe(t, 0, o.Seed);
        var sprayed = RoutingEngine.Compute(snap, wcmp);
        Emulator.Run(sprayed, workload, new EmulatorOptions { MaxMinRates = false });
        var em = new List<double>();
        var cem = new List<double>();
        for (var i = 0; i < Math.Min(3, o.Runs); i++)
        {
            var c0 = Cpu();
            var sw = Stopwatch.StartNew();
            Emulator.Run(sprayed, workload, new EmulatorOptions { MaxMinRates = false });
            em.Add(sw.Elapsed.TotalMilliseconds);
            cem.Add(Cpu() - c0);
        }
        var swm = Stopwatch.StartNew();
        var withMm = Emulator.Run(sprayed, workload);
        var mmMs = withMm.Report.MaxMinComputed ? swm.Elapsed.TotalMilliseconds : double.NaN;
        log($"  emulator {Median(em):F1} ms (cpu {Median(cem):F1}) (max-min {(double.IsNaN(mmMs) ? "skipped" : $"{mmMs:F0} ms")})");
        return new SpeedFigures(t.Name, t.EndpointCount, t.Switches.Count, res.EntryCount, res.LayerCount, res.GroupCount,
            Median(times), Median(ctimes), Median(wtimes), Median(cwtimes), Median(inc), Median(cinc), changed, Median(em), Median(cem), mmMs, res.ApproximateBytes, alloc);
    }

    private static IEnumerable<QualityRow> Quality(FabricTopology t, RoutingBenchmarkOptions o, Action<string> log)
    {
        var workload = WorkloadGenerator.Moe(t, 0, o.Seed);
        var switchLinks = t.Links.Where(l => l.IsSwitchLink).Select(l => l.Id).ToArray();
        var noMm = new EmulatorOptions { MaxMinRates = false };
        foreach (var frac in o.FailureFractions)
        {
            var r = new Random(o.Seed * 31 + (int)(frac * 1000));
            var fail = switchLinks.OrderBy(_ => r.Next()).Take((int)Math.Round(frac * switchLinks.Length)).ToArray();
            var snap = FabricSnapshot.Initial(t).With(fail.Select(l => new KeyValuePair<int, ElementState>(l, new ElementState(ElementStatus.Down))));
            var single = TrafficPolicy.Single("ep", ForwardingMode.Sprayed, PathWeighting.Wcmp);
            var rows = new List<(string Name, EmulationReport Rep, string Note)>();
            var hash = Emulator.Run(RoutingEngine.Compute(snap, single, options: new RoutingOptions { ForceWeighting = PathWeighting.Ecmp, ForceMode = ForwardingMode.Hashed }), workload, noMm).Report;
            rows.Add(("hash-ecmp", hash, ""));
            rows.Add(("sprayed-ecmp", Emulator.Run(RoutingEngine.Compute(snap, single, options: new RoutingOptions { ForceWeighting = PathWeighting.Ecmp }), workload, noMm).Report, ""));
            var wcmpRes = RoutingEngine.Compute(snap, single);
            var wcmp = Emulator.Run(wcmpRes, workload, noMm);
            rows.Add(("sprayed-wcmp", wcmp.Report, ""));
            rows.Add(("hash-wcmp", Emulator.Run(RoutingEngine.Compute(snap, single, options: new RoutingOptions { ForceMode = ForwardingMode.Hashed }), workload, noMm).Report, ""));

            // Adaptive loop: measure, step the controller, reroute with the bucket limit; report the last step.
            var adaptivePolicy = TrafficPolicy.Single("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive);
            var ap = new AdaptivePolicy();
            var state = AdaptiveState.Initial(t.Links.Count);
            var current = RoutingEngine.Compute(snap, adaptivePolicy);
            var last = wcmp;
            var trace = new List<string> { $"{last.Report.MaxFabricUtilization:F3}" };
            for (var step = 0; step < o.AdaptiveSteps; step++)
            {
                state = AdaptiveController.Step(state, snap, last.Utilization, ap);
                var next = RoutingEngine.Compute(snap, adaptivePolicy, options: new RoutingOptions { Adaptive = state.Weigher, Version = current.Version + 1 });
                current = AdaptiveController.LimitChange(current, next, ap.MaxBucketChangePerStep);
                last = Emulator.Run(current, workload, noMm);
                trace.Add($"{last.Report.MaxFabricUtilization:F3}");
            }
            rows.Add(("adaptive", last.Report, $"MLU per step {string.Join(" ", trace)}; hot {state.HotDirections}"));

            foreach (var (name, rep, note) in rows)
            {
                var row = new QualityRow(t.Name, frac, fail.Length, name, rep.MaxFabricUtilization, rep.LowerBoundUtilization, rep.RatioToBound,
                    hash.MaxFabricUtilization > 0 ? rep.MaxFabricUtilization / hash.MaxFabricUtilization : double.NaN,
                    rep.CompletionSeconds * 1e3, rep.LowerBoundCompletionSeconds * 1e3,
                    rep.LowerBoundCompletionSeconds > 0 ? rep.CompletionSeconds / rep.LowerBoundCompletionSeconds : double.NaN, note);
                log($"  {frac:P0} {name,-13} MLU {row.MaxUtilization:F3} bound {row.LowerBound:F3} ratio {row.RatioToBound:F3} vs hash {row.RatioToHashEcmp:F3} completion {row.CompletionMs:F3} ms ({row.CompletionRatioToBound:F3}x bound) {note}");
                yield return row;
            }
        }
    }
}
