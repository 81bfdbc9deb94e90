using System.Diagnostics;
using System.Globalization;
using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Service;
using ControlPlane.Hosting;
using ControlPlane.Routing.Service;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ControlPlane.AllInOne;

/// <summary>
/// The all-in-one composition started in this process on a fresh embedded store (SQLite in a folder of its own,
/// Kestrel on a free loopback port, no console summary), seeding an MPFT named "mpft" with one emulated agent per switch,
/// and following convergence on the bus: what the convergence benchmark and the end-to-end tests run.
/// </summary>
public sealed class EmbeddedLoop : IAsyncDisposable
{
    /// <summary>The fabric it seeds and emulates.</summary>
    public const string FabricName = "mpft";

    private readonly string _data;

    private EmbeddedLoop(WebApplication app, string data)
    {
        App = app;
        _data = data;
    }

    /// <summary>The running host.</summary>
    public WebApplication App { get; }

    /// <summary>http://127.0.0.1:port the API listens on.</summary>
    public string BaseUrl => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>A service of the host.</summary>
    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>The emulated fabric (inject faults, read data planes).</summary>
    public EmulatedFabric Fabric => Get<EmulatedFabric>();

    /// <summary>
    /// Starts it with an MPFT of <paramref name="radix"/>; <paramref name="settings"/> add to or override the defaults
    /// (configuration keys as in appsettings, e.g. "Routing:Adaptive"). The folder is deleted on dispose.
    /// </summary>
    public static async Task<EmbeddedLoop> StartAsync(int radix, IReadOnlyDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default)
    {
        var data = Path.Combine(Path.GetTempPath(), "cp-loop-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Store:Provider"] = "Sqlite",
            ["Store:DataDirectory"] = data,
            ["Inventory:Seed:Enabled"] = "true",
            ["Inventory:Seed:Name"] = FabricName,
            ["Inventory:Seed:Kind"] = "mpft",
            ["Inventory:Seed:Radix"] = radix.ToString(CultureInfo.InvariantCulture),
            ["Emulation:Enabled"] = "true",
            ["Emulation:Fabric"] = FabricName,
            ["Summary:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = data, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(all);
        builder.Services.AddSingleton<ConvergenceWatch>();
        builder.AddAllModules(b => b.AddBusConsumers(x => x.AddConsumer<ConvergenceProbe>()));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapAllModules();
        var loop = new EmbeddedLoop(app, data);
        try
        {
            await app.StartAsync(cancellationToken);
            return loop;
        }
        catch
        {
            await loop.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until every switch has acknowledged its desired table, no rollout runs, and every emulated agent is up
    /// and holds a table.
    /// </summary>
    public async Task WaitInSyncAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var distribution = Get<DistributionStatus>();
        var routing = Get<RoutingStatus>();
        var emulation = Get<EmulatedFabricStatus>();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var d = distribution.Summaries.FirstOrDefault(s => s.Fabric == FabricName);
            var t = Fabric.Topology;
            var e = emulation.Snapshot;
            if (t is not null && d is not null && d.Switches == t.Switches.Count && d.InSync == d.Switches && d.Rollout is null && (routing.Get(FabricName)?.RoutingVersion ?? 0) > 0
                && e.Agents == t.Switches.Count && e.AgentsDown == 0 && e.MinVersion > 0)
                return;
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"not in sync after {timeout}: {distribution}; {routing.Summary()}; {emulation.Summary()}");
    }

    /// <summary>
    /// Injects a fault and waits for the convergence carrying its trigger id that changed some switch; null after
    /// <paramref name="timeout"/>. ClientMs is measured here, from the injection call to the event's arrival.
    /// </summary>
    public async Task<(RoutesConverged Event, double ClientMs)?> InjectAndConvergeAsync(FaultRequest fault, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var trigger = $"loop-{fault.Kind}-{Guid.NewGuid():N}"[..32];
        var wait = Get<ConvergenceWatch>().WaitFor(trigger);
        var t0 = Stopwatch.GetTimestamp();
        await Fabric.InjectAsync(fault, trigger, cancellationToken);
        if (await Task.WhenAny(wait, Task.Delay(timeout, cancellationToken)) != wait) return null;
        var (ev, ticks) = await wait;
        return (ev, Stopwatch.GetElapsedTime(t0, ticks).TotalMilliseconds);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try { await App.StopAsync(CancellationToken.None); }
        finally
        {
            await App.DisposeAsync();
            try { Directory.Delete(_data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
