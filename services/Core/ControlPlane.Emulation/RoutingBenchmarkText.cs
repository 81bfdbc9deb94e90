using System.Text;

namespace ControlPlane.Emulation;

/// <summary>The text form of a <see cref="RoutingBenchmarkReport"/>, shared by the benchmark suite and <c>fabricctl bench routing</c>.</summary>
public static class RoutingBenchmarkText
{
    /// <summary>The speed lines, the quality table (ratios to the bound and to hash ECMP) and the notes.</summary>
    public static string Format(RoutingBenchmarkReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine("speed (single thread, median)");
        foreach (var s in report.Speed)
            sb.AppendLine($"  {s.Topology}: {s.Endpoints} endpoints, {s.Switches} switches, {s.Entries:N0} entries x {s.Layers} layers, {s.Groups:N0} groups | full {s.ComputeMsMedian:F1} ms wall / {s.ComputeCpuMsMedian:F1} ms cpu (wcmp-only {s.ComputeWcmpOnlyMsMedian:F1} / {s.ComputeWcmpOnlyCpuMsMedian:F1}) | incremental {s.IncrementalMsMedian:F2} / {s.IncrementalCpuMsMedian:F2} ms ({s.IncrementalChangedSwitches} switches) | emulator {s.EmulatorMsMedian:F1} / {s.EmulatorCpuMsMedian:F1} ms (with max-min {s.EmulatorWithMaxMinMs:F0} ms wall) | tables {s.TablesBytes / 1e6:F1} MB, allocated {s.AllocatedBytesPerCompute / 1e6:F1} MB");
        sb.AppendLine();
        sb.AppendLine($"{"fabric",-6} {"fail",5} {"routing",-13} {"MLU",7} {"bound",7} {"/bound",7} {"/hash",7} {"compl ms",9} {"/bound",7}");
        foreach (var q in report.Quality)
            sb.AppendLine($"{q.Topology,-6} {q.FailedFraction,5:P0} {q.Routing,-13} {q.MaxUtilization,7:F3} {q.LowerBound,7:F3} {q.RatioToBound,7:F3} {q.RatioToHashEcmp,7:F3} {q.CompletionMs,9:F3} {q.CompletionRatioToBound,7:F3}");
        foreach (var n in report.Notes) sb.AppendLine("note: " + n);
        return sb.ToString();
    }
}
