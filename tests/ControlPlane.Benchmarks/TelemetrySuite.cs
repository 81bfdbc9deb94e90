using System.Globalization;
using System.Text.Json;
using ControlPlane.Fabric;
using ControlPlane.Telemetry;

namespace ControlPlane.Benchmarks;

/// <summary>
/// Telemetry ingest figures: decode, rates and snapshots per second on one core, snapshot build time, memory per
/// port. Args: <c>[-o json] [--polls N] [--repeat R] [--planes P] [--no-snapshots]</c>.
/// </summary>
public sealed class TelemetrySuite : IBenchmarkSuite
{
    /// <inheritdoc/>
    public string Name => "telemetry";

    /// <inheritdoc/>
    public string Description => "telemetry ingest: samples/s through decode+rates+snapshots, snapshot time, memory per port (MPFT)";

    /// <inheritdoc/>
    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var json = false;
        var options = new TelemetryBenchmarkOptions();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-o" or "--output" when i + 1 < args.Length:
                    json = args[++i] == "json";
                    break;
                case "--polls" when i + 1 < args.Length:
                    options = options with { Polls = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--repeat" when i + 1 < args.Length:
                    options = options with { Repeat = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--no-snapshots":
                    options = options with { Snapshots = false };
                    break;
                case "--planes" when i + 1 < args.Length:
                    options = options with { Fabric = options.Fabric with { Planes = int.Parse(args[++i], CultureInfo.InvariantCulture) } };
                    break;
                default:
                    output.WriteLine($"unknown argument '{args[i]}'; usage: telemetry [-o json] [--polls N] [--repeat R] [--planes P] [--no-snapshots]");
                    return Task.FromResult(2);
            }
        }
        if (ThreadCpuClock.Available) options = options with { ThreadCpuTime = ThreadCpuClock.Read };
        var r = TelemetryBenchmark.Run(options);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            output.Write(TelemetryBenchmarkText.Format(r));
        }
        return Task.FromResult(r.SamplesRejected == 0 ? 0 : 1);
    }
}
