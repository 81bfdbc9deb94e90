using System.Globalization;
using System.Text;

namespace ControlPlane.Telemetry;

/// <summary>The text form of a <see cref="TelemetryBenchmarkReport"/>, shared by the benchmark suite and <c>fabricctl bench telemetry</c>.</summary>
public static class TelemetryBenchmarkText
{
    /// <summary>One line per figure, with the targets and whether they are met.</summary>
    public static string Format(TelemetryBenchmarkReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(c, $"fabric                 {r.Fabric}: {r.Switches} switches, {r.SwitchPorts} switch ports, {r.Links} links, {r.Planes} planes"));
        sb.AppendLine(string.Create(c, $"batch                  {r.MeanBatchBytes:F0} bytes mean, {r.SamplesPerRepetition:N0} samples timed per run"));
        sb.AppendLine(string.Create(c, $"decode only            {r.DecodeSamplesPerSecond:N0} samples per {r.CpuClock} CPU-second (span decoder); Google.Protobuf objects {r.GoogleProtobufDecodeSamplesPerSecond:N0}"));
        sb.AppendLine(string.Create(c, $"pipeline               {r.PipelineSamplesPerSecond:N0} samples per {r.CpuClock} CPU-second (median of {string.Join(", ", r.PipelineSamplesPerSecondRuns.Select(x => x.ToString("N0", c)))}), target 1,000,000: {(r.MeetsThroughputTarget ? "met" : "NOT met")}"));
        sb.AppendLine(string.Create(c, $"                       {r.PipelineSamplesPerWallSecond:N0} samples per wall-clock second (lower when other processes share the cores)"));
        sb.AppendLine(string.Create(c, $"fabric at 10 Hz        {r.RequiredSamplesPerSecond:N0} samples/s = {r.CoreFractionAtPollRate:P1} of one core: {(r.MeetsReplicaTarget ? "room to spare" : "TOO TIGHT")}"));
        sb.AppendLine(string.Create(c, $"allocation             {r.AllocatedBytesPerSample:F0} bytes/sample"));
        sb.AppendLine(string.Create(c, $"snapshot, all planes   delta p50 {r.SnapshotDeltaMsP50:F2} ms, max {r.SnapshotDeltaMsMax:F2} ms ({r.DeltaLinksPerPlaneMean:F0} of {r.FullLinksPerPlane} links per plane); full p50 {r.SnapshotFullMsP50:F2} ms, max {r.SnapshotFullMsMax:F2} ms; target 50 ms: {(r.MeetsSnapshotTarget ? "met" : "NOT met")}"));
        sb.AppendLine(string.Create(c, $"memory per port        {r.BytesPerPortStated:N0} bytes stated, {r.BytesPerPortMeasured:N0} bytes measured (heap growth / ports)"));
        sb.AppendLine(string.Create(c, $"rejected samples       {r.SamplesRejected}"));
        return sb.ToString();
    }
}
