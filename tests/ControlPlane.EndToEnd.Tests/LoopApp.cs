using System.Diagnostics;
using System.Globalization;
using ControlPlane.AllInOne;
using ControlPlane.Agent.Emulated;
using ControlPlane.Distribution.Service;
using ControlPlane.Hosting;
using ControlPlane.Routing.Service;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>
/// The all-in-one composition (every module, one emulated agent per switch) on a fresh embedded store, a small MPFT,
/// real Kestrel on a free loopback port, and the in-install forwarding check on: what the main job runs, scaled down.
/// </summary>
public sealed class LoopApp : IAsyncDisposable
{
    private readonly string _data;

    private LoopApp(WebApplication app, string data)
    {
        App = app;
        _data = data;
    }

    public WebApplication App { get; }

    public string BaseUrl => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public ConvergenceWatch Watch => Get<ConvergenceWatch>();

    public EmulatedFabric Fabric => Get<EmulatedFabric>();

    public static async Task<LoopApp> StartAsync(int radix = 8, IDictionary<string, string?>? extra = null)
    {
        var data = ServerProcess.TempFolder("cp-e2e");
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Store:Provider"] = "Sqlite",
            ["Store:DataDirectory"] = data,
            ["Inventory:Seed:Enabled"] = "true",
            ["Inventory:Seed:Name"] = "mpft",
            ["Inventory:Seed:Kind"] = "mpft",
            ["Inventory:Seed:Radix"] = radix.ToString(CultureInfo.InvariantCulture),
            ["Emulation:Enabled"] = "true",
            ["Emulation:Fabric"] = "mpft",
            ["Emulation:PeriodMs"] = "500",
            ["Emulation:CheckForwarding"] = "true",
            ["Summary:Enabled"] = "false",
            // Failures and repairs are measured on a calm loop; adaptation has its own test.
            ["Routing:Adaptive"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (extra is not null) foreach (var (k, v) in extra) settings[k] = v;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = data, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<ConvergenceWatch>();
        builder.AddAllModules(b => b.AddBusConsumers(x => x.AddConsumer<ConvergenceProbe>()));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapAllModules();
        await app.StartAsync();
        return new LoopApp(app, data);
    }

    /// <summary>Waits until every switch of the fabric has acknowledged its desired table.</summary>
    public async Task WaitInSyncAsync(TimeSpan? timeout = null)
    {
        var distribution = Get<DistributionStatus>();
        var routing = Get<RoutingStatus>();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < (timeout ?? TimeSpan.FromSeconds(90)))
        {
            var d = distribution.Summaries.FirstOrDefault(s => s.Fabric == "mpft");
            var t = Fabric.Topology;
            var e = Get<EmulatedFabricStatus>().Snapshot;
            if (t is not null && d is not null && d.Switches == t.Switches.Count && d.InSync == d.Switches && d.Rollout is null && (routing.Get("mpft")?.RoutingVersion ?? 0) > 0
                && e.Agents == t.Switches.Count && e.AgentsDown == 0 && e.MinVersion > 0)
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"not in sync: {distribution}; {routing.Summary()}; {Get<EmulatedFabricStatus>().Summary()}");
    }

    /// <summary>Injects a fault and waits for the convergence event carrying its trigger id.</summary>
    public async Task<ControlPlane.Contracts.RoutesConverged> InjectAndConvergeAsync(FaultRequest fault, TimeSpan? timeout = null)
    {
        var trigger = "e2e-" + Guid.NewGuid().ToString("N")[..12];
        var wait = Watch.WaitFor(trigger);
        await Fabric.InjectAsync(fault, trigger, CancellationToken.None);
        var done = await Task.WhenAny(wait, Task.Delay(timeout ?? TimeSpan.FromSeconds(30)));
        Assert.True(done == wait, $"no convergence for {fault.Kind} {fault.LinkId}{fault.Switch}: {Get<DistributionStatus>()}; {Get<RoutingStatus>().Summary()}");
        return (await wait).Event;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        ServerProcess.DeleteFolder(_data);
    }
}
