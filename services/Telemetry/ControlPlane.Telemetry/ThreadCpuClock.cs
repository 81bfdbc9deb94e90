using System.Globalization;

namespace ControlPlane.Telemetry;

/// <summary>
/// CPU time of the calling thread on Linux (/proc/thread-self/schedstat, first field in nanoseconds), so benchmark
/// figures on a shared machine count only this thread's work. Used by the benchmark drivers, never by the pipeline.
/// </summary>
public static class ThreadCpuClock
{
    private const string Path = "/proc/thread-self/schedstat";

    /// <summary>True when the kernel exposes per-thread CPU time.</summary>
    public static bool Available => File.Exists(Path);

    /// <summary>CPU time of the calling thread.</summary>
    public static TimeSpan Read()
    {
        var text = File.ReadAllText(Path);
        var ns = long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
        return TimeSpan.FromTicks(ns / 100);
    }
}
