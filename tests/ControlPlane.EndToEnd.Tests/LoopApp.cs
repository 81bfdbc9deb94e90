using ControlPlane.AllInOne;
using ControlPlane.Agent.Emulated;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Service;
using ControlPlane.Routing.Service;
using Microsoft.AspNetCore.Builder;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>
/// The main job's composition scaled down for tests (<see cref="EmbeddedLoop"/> on a small MPFT) with the in-install
/// forwarding check on and adaptation off unless a test turns it on; assertions instead of nulls on timeouts.
/// </summary>
public sealed class LoopApp : IAsyncDisposable
{
    private readonly EmbeddedLoop _loop;

    private LoopApp(EmbeddedLoop loop) => _loop = loop;

    public WebApplication App => _loop.App;

    public string BaseUrl => _loop.BaseUrl;

    public T Get<T>() where T : notnull => _loop.Get<T>();

    public EmulatedFabric Fabric => _loop.Fabric;

    public static async Task<LoopApp> StartAsync(int radix = 8, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Emulation:PeriodMs"] = "500",
            ["Emulation:CheckForwarding"] = "true",
            // Failures and repairs are measured on a calm loop; adaptation has its own test.
            ["Routing:Adaptive"] = "false",
        };
        if (extra is not null) foreach (var (k, v) in extra) settings[k] = v;
        return new LoopApp(await EmbeddedLoop.StartAsync(radix, settings));
    }

    /// <summary>Waits until every switch of the fabric has acknowledged its desired table.</summary>
    public Task WaitInSyncAsync(TimeSpan? timeout = null) => _loop.WaitInSyncAsync(timeout ?? TimeSpan.FromSeconds(90));

    /// <summary>Injects a fault and waits for the convergence event carrying its trigger id.</summary>
    public async Task<RoutesConverged> InjectAndConvergeAsync(FaultRequest fault, TimeSpan? timeout = null)
    {
        var done = await _loop.InjectAndConvergeAsync(fault, timeout ?? TimeSpan.FromSeconds(30));
        Assert.True(done is not null, $"no convergence for {fault.Kind} {fault.LinkId}{fault.Switch}: {Get<DistributionStatus>()}; {Get<RoutingStatus>().Summary()}");
        return done.Value.Event;
    }

    public ValueTask DisposeAsync() => _loop.DisposeAsync();
}
