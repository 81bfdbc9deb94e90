using System.Text.Json;
using ControlPlane.Emulation;

namespace ControlPlane.Benchmarks;

/// <summary>Routing speed and quality: `routing [--quick] [--speed-only] [--fabric mpft|ft3] [-o json] [--runs N] [--incremental-runs N] [--seed N]`.</summary>
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
                case "--speed-only": options = options with { SpeedOnly = true, IncrementalRuns = options.IncrementalRuns > 0 ? options.IncrementalRuns : 41 }; break;
                case "--fabric" when i + 1 < args.Length && args[i + 1] is "mpft" or "ft3": options = options with { Fabric = args[++i] }; break;
                case "--incremental-runs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var m) && m > 0: options = options with { IncrementalRuns = m }; i++; break;
                case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out var s): options = options with { Seed = s }; i++; break;
                default:
                    output.WriteLine($"unknown argument '{args[i]}'; usage: routing [--quick] [--speed-only] [--fabric mpft|ft3] [-o json|table] [--runs N] [--incremental-runs N] [--seed N]");
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
        output.Write(RoutingBenchmarkText.Format(report));
        return Task.FromResult(0);
    }
}
