using System.Globalization;
using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Service;
using ControlPlane.Hosting;
using ControlPlane.Routing.Service;
using MassTransit;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ControlPlane.AllInOne;

/// <summary>The console summary (section "Summary").</summary>
public sealed class SummaryOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Summary";

    /// <summary>Print the live summary.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the line is refreshed, in milliseconds.</summary>
    public int IntervalMs { get; set; } = 1000;
}

/// <summary>Adds the live one-line summary and the convergence event lines.</summary>
public static class LiveSummaryExtensions
{
    /// <summary>Registers the summary printer and its RoutesConverged consumer.</summary>
    public static IHostApplicationBuilder AddLiveSummary(this IHostApplicationBuilder builder)
    {
        builder.AddControlPlaneOptions<SummaryOptions>(SummaryOptions.Section)
            .Validate(o => o.IntervalMs is >= 100 and <= 60_000, "Summary:IntervalMs must be between 100 and 60000");
        builder.Services.AddSingleton<ConsoleLines>();
        builder.Services.AddHostedService<LiveSummary>();
        builder.AddBusConsumers(x => x.AddConsumer<ConvergencePrinter>());
        return builder;
    }
}

/// <summary>
/// Writes to the console: event lines scroll, the summary line stays at the bottom (rewritten in place on a
/// terminal; printed when it changes, at most every few seconds, when the output is redirected).
/// </summary>
public sealed class ConsoleLines
{
    private readonly object _gate = new();
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private string _status = "";
    private string _lastPrinted = "";
    private DateTime _lastPrintedAt;

    /// <summary>An event: printed on its own line above the summary.</summary>
    public void Event(string line)
    {
        lock (_gate)
        {
            var stamped = $"{DateTime.Now:HH:mm:ss} {line}";
            if (_interactive) Console.Out.Write("\r\u001b[2K" + stamped + "\n" + _status);
            else Console.Out.WriteLine(stamped);
            Console.Out.Flush();
        }
    }

    /// <summary>The summary line.</summary>
    public void Status(string line)
    {
        lock (_gate)
        {
            _status = line;
            if (_interactive)
            {
                var width = Console.WindowWidth > 20 ? Console.WindowWidth - 1 : 200;
                Console.Out.Write("\r\u001b[2K" + (line.Length > width ? line[..width] : line));
            }
            else if (line != _lastPrinted && (DateTime.UtcNow - _lastPrintedAt).TotalSeconds >= 5)
            {
                Console.Out.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
                _lastPrinted = line;
                _lastPrintedAt = DateTime.UtcNow;
            }
            Console.Out.Flush();
        }
    }

    /// <summary>Ends the summary line so that what follows starts on a fresh one.</summary>
    public void Finish(string line)
    {
        lock (_gate)
        {
            Console.Out.Write(_interactive ? "\r\u001b[2K" + line + "\n" : $"{DateTime.Now:HH:mm:ss} {line}\n");
            Console.Out.Flush();
        }
    }
}

/// <summary>Prints each convergence (failure to every affected agent acknowledged) as an event line.</summary>
public sealed class ConvergencePrinter(ConsoleLines console, IOptions<SummaryOptions> options) : IConsumer<RoutesConverged>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<RoutesConverged> context)
    {
        if (!options.Value.Enabled) return Task.CompletedTask;
        var m = context.Message;
        var from = m.TriggeredAt ?? m.ReceivedAt;
        var ms = (m.ConvergedAt - from).TotalMilliseconds;
        var why = m.TriggerIds.Count > 0 ? $" ({string.Join(", ", m.TriggerIds.Take(3))}{(m.TriggerIds.Count > 3 ? ", ..." : "")})" : "";
        var lag = m.Lagging.Count > 0 ? $", {m.Lagging.Count} lagging" : "";
        console.Event(string.Create(CultureInfo.InvariantCulture,
            $"{m.Fabric}: routing v{m.RoutingVersion}{why} installed on {m.Switches} switches in {m.Waves} waves, {ms:F0} ms from {(m.TriggeredAt is null ? "computation" : "failure")} to last ack{lag}"));
        return Task.CompletedTask;
    }
}

/// <summary>Refreshes the one-line summary: routing version, convergence, max link utilization against the bound, faults.</summary>
public sealed class LiveSummary(
    RoutingStatus routing, DistributionStatus distribution, EmulatedFabricStatus emulation, ConsoleLines console,
    IServer server, IHostApplicationLifetime lifetime, IOptions<SummaryOptions> options, IOptions<StoreOptions> store, ILogger<LiveSummary> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled) return;
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (TaskCanceledException) { return; }
        }
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var url = addresses.FirstOrDefault() ?? "(no address)";
        console.Event($"fabric control plane, all-in-one: API on {url}; try `fabricctl --server {url} loop status`. Ctrl+C stops.");
        console.Event($"store: {store.Value.Provider} in {store.Value.DataDirectory}; bus: in-memory; emulated agents: one per switch");
        logger.LogInformation("all-in-one serving on {Url}", url);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.IntervalMs));
        try
        {
            do console.Status(Line());
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
        console.Finish("stopping: " + Line());
    }

    /// <summary>The summary as it stands.</summary>
    public string Line()
    {
        var inv = CultureInfo.InvariantCulture;
        var e = emulation.Snapshot;
        var fabric = string.IsNullOrEmpty(e.Fabric) ? routing.Fabrics.FirstOrDefault() ?? "" : e.Fabric;
        var r = string.IsNullOrEmpty(fabric) ? null : routing.Get(fabric);
        var d = distribution.Summaries.FirstOrDefault(s => s.Fabric == fabric);
        var parts = new List<string>();
        parts.Add(r is null ? "routing: waiting for a fabric" :
            r.RoutingVersion == 0 ? $"routing {fabric}: {r.State}" :
            string.Create(inv, $"{fabric} routing v{r.RoutingVersion} ({r.LastReason}, {r.LastComputeMs:F1} ms, {r.LastSwitchesChanged} sw), {r.LinksDownByOverlay} links down"));
        parts.Add(d is null ? "tables: waiting" :
            $"tables {d.InSync}/{d.Switches} in sync" + (d.Lagging > 0 ? $", {d.Lagging} lagging" : "") +
            (d.Rollout is { } ro ? $", rollout wave {ro.Wave + 1}/{ro.Waves}" : "") +
            (d.LastConvergenceMs is { } ms ? string.Create(inv, $", last converged in {ms:F0} ms") : ""));
        parts.Add(e.Agents == 0 ? $"agents: {e.State}" :
            e.Period == 0 ? $"{e.Agents} agents ({e.AgentsDown} down), first period pending" :
            string.Create(inv, $"{e.Agents} agents ({e.AgentsDown} down), period {e.Period}: max util {e.MaxUtilization:P0}, bound {e.LowerBound:P0}, x{e.RatioToBound:F3}"));
        parts.Add($"faults {e.ActiveFaults}, loops/holes found {e.ForwardingProblems}");
        return string.Join(" | ", parts);
    }
}
