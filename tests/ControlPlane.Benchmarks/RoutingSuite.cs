using System.Text.Json;
using ControlPlane.Emulation;

namespace ControlPlane.Benchmarks;

/// <summary>Routing speed and quality: `routing [--quick] [-o json] [--runs N] [--seed N]`.</summary>
public sealed class RoutingSuite : IBenchmarkSuite
{
    public string Name => "routing";

    public string Description => "route computation speed (MPFT 16K, FT3 64K), incremental update, emulator, and quality vs bound and hash ECMP";

    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var json = false;
        var options = new RoutingBenchmarkOptions { CpuClock = () => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime };
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": options = options with { Quick = true, Runs = 3 }; break;
                case "-o" when i + 1 < args.Length: json = args[++i] == "json"; break;
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0: options = options with { Runs = n }; i++; break;
                case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out var s): options = options with { Seed = s }; i++; break;
                default:
                    output.WriteLine($"unknown argument '{args[i]}'; usage: routing [--quick] [-o json|table] [--runs N] [--seed N]");
                    return Task.FromResult(2);
            }
        }
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        if (!json) output.WriteLine($"machine: {Environment.ProcessorCount} cores, load average at start {load}");
        var report = RoutingBenchmark.Run(options, json ? null : output.WriteLine);
        if (!json) output.WriteLine($"load average at end {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return Task.FromResult(0);
        }
        output.WriteLine();
        output.WriteLine("speed (single thread, median)");
        foreach (var s in report.Speed)
            output.WriteLine($"  {s.Topology}: {s.Endpoints} endpoints, {s.Switches} switches, {s.Entries:N0} entries x {s.Layers} layers, {s.Groups:N0} groups | full {s.ComputeMsMedian:F1} ms wall / {s.ComputeCpuMsMedian:F1} ms cpu (wcmp-only {s.ComputeWcmpOnlyMsMedian:F1} / {s.ComputeWcmpOnlyCpuMsMedian:F1}) | incremental {s.IncrementalMsMedian:F2} / {s.IncrementalCpuMsMedian:F2} ms ({s.IncrementalChangedSwitches} switches) | emulator {s.EmulatorMsMedian:F1} / {s.EmulatorCpuMsMedian:F1} ms (with max-min {s.EmulatorWithMaxMinMs:F0} ms wall) | tables {s.TablesBytes / 1e6:F1} MB, allocated {s.AllocatedBytesPerCompute / 1e6:F1} MB");
        output.WriteLine();
        output.WriteLine($"{"fabric",-6} {"fail",5} {"routing",-13} {"MLU",7} {"bound",7} {"/bound",7} {"/hash",7} {"compl ms",9} {"/bound",7}");
        foreach (var q in report.Quality)
            output.WriteLine($"{q.Topology,-6} {q.FailedFraction,5:P0} {q.Routing,-13} {q.MaxUtilization,7:F3} {q.LowerBound,7:F3} {q.RatioToBound,7:F3} {q.RatioToHashEcmp,7:F3} {q.CompletionMs,9:F3} {q.CompletionRatioToBound,7:F3}");
        foreach (var n in report.Notes) output.WriteLine("note: " + n);
        return Task.FromResult(0);
    }
}
