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
        if (File.Exists("/proc/thread-self/schedstat")) options = options with { ThreadCpuTime = ThreadCpu };
        var r = TelemetryBenchmark.Run(options);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        }
        else
        {
            var c = CultureInfo.InvariantCulture;
            output.WriteLine(string.Create(c, $"fabric                 {r.Fabric}: {r.Switches} switches, {r.SwitchPorts} switch ports, {r.Links} links, {r.Planes} planes"));
            output.WriteLine(string.Create(c, $"batch                  {r.MeanBatchBytes:F0} bytes mean, {r.SamplesPerRepetition:N0} samples timed per run"));
            output.WriteLine(string.Create(c, $"decode only            {r.DecodeSamplesPerSecond:N0} samples per {r.CpuClock} CPU-second (span decoder); Google.Protobuf objects {r.GoogleProtobufDecodeSamplesPerSecond:N0}"));
            output.WriteLine(string.Create(c, $"pipeline               {r.PipelineSamplesPerSecond:N0} samples per {r.CpuClock} CPU-second (median of {string.Join(", ", r.PipelineSamplesPerSecondRuns.Select(x => x.ToString("N0", c)))}), target 1,000,000: {(r.MeetsThroughputTarget ? "met" : "NOT met")}"));
            output.WriteLine(string.Create(c, $"                       {r.PipelineSamplesPerWallSecond:N0} samples per wall-clock second (lower when other processes share the cores)"));
            output.WriteLine(string.Create(c, $"fabric at 10 Hz        {r.RequiredSamplesPerSecond:N0} samples/s = {r.CoreFractionAtPollRate:P1} of one core: {(r.MeetsReplicaTarget ? "room to spare" : "TOO TIGHT")}"));
            output.WriteLine(string.Create(c, $"allocation             {r.AllocatedBytesPerSample:F0} bytes/sample"));
            output.WriteLine(string.Create(c, $"snapshot, all planes   delta p50 {r.SnapshotDeltaMsP50:F2} ms, max {r.SnapshotDeltaMsMax:F2} ms ({r.DeltaLinksPerPlaneMean:F0} of {r.FullLinksPerPlane} links per plane); full p50 {r.SnapshotFullMsP50:F2} ms, max {r.SnapshotFullMsMax:F2} ms; target 50 ms: {(r.MeetsSnapshotTarget ? "met" : "NOT met")}"));
            output.WriteLine(string.Create(c, $"memory per port        {r.BytesPerPortStated:N0} bytes stated, {r.BytesPerPortMeasured:N0} bytes measured (heap growth / ports)"));
            output.WriteLine(string.Create(c, $"rejected samples       {r.SamplesRejected}"));
        }
        return Task.FromResult(r.SamplesRejected == 0 ? 0 : 1);
    }

    /// <summary>CPU time of the calling thread on Linux: the first field of schedstat is nanoseconds on the CPU.</summary>
    private static TimeSpan ThreadCpu()
    {
        var text = File.ReadAllText("/proc/thread-self/schedstat");
        var ns = long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
        return TimeSpan.FromTicks(ns / 100);
    }
}
