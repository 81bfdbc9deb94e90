using System.Globalization;
using ControlPlane.Agent.Emulated;
using ControlPlane.Emulation;
using ControlPlane.Routing;
using ControlPlane.Routing.Service;
using Xunit.Abstractions;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>
/// The congestion loop closed through the emulated fabric: agents' counters, telemetry EWMA, the routing service's
/// adaptive step, distribution, installs, re-emulation. One sample per adaptive period.
/// </summary>
public sealed class AdaptationTests(ITestOutputHelper output)
{
    private const double Band = 1.05;     // within 5% of the emulator's bound
    private const int SettlePeriods = 10; // N: the ratio is within the band by then (6 measured)
    private const int StablePeriods = 6;  // M: and stays there, period after period (no oscillation)

    private static Dictionary<string, string?> Settings(string workload, int adaptivePeriodMs) => new()
    {
        ["Routing:Adaptive"] = "true",
        ["Routing:AdaptivePeriodMs"] = adaptivePeriodMs.ToString(CultureInfo.InvariantCulture),
        ["Emulation:PeriodMs"] = "500",
        ["Emulation:Workload"] = workload,
        ["Emulation:CheckForwarding"] = "false",
    };

    [Fact]
    public async Task With_a_skewed_workload_max_utilization_falls_within_5_percent_of_the_bound_and_stays_there()
    {
        // The routing service's default period (2 s) and the configuration the runaway was seen with: on the previous
        // FabricRouter this very test climbs from 1.10 to 2.0-2.5 x the bound and never settles.
        await using var loop = await LoopApp.StartAsync(extra: Settings("moe-kv-hashed", 2000));
        await loop.WaitInSyncAsync();

        // The skew is real: plain WCMP over the same physical fabric is more than 5% off the bound.
        var physical = loop.Fabric.PhysicalSnapshot();
        var wcmp = RoutingEngine.Compute(physical, EmulatedFabric.Policy, options: new RoutingOptions { GroupSize = 64 });
        var start = Emulator.Run(wcmp, loop.Fabric.Workload, new EmulatorOptions { MaxMinRates = false }).Report;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"without adaptation: max util {start.MaxFabricUtilization:F3} bound {start.LowerBoundUtilization:F3} ratio {start.RatioToBound:F3}"));
        Assert.True(start.RatioToBound > Band, $"the workload is not skewed: WCMP is at {start.RatioToBound:F3} of the bound");

        var samples = new Samples(loop, output, 2000);
        var settledAt = -1;
        for (var i = 1; i <= SettlePeriods && settledAt < 0; i++)
            if ((await samples.NextAsync()).Ratio <= Band) settledAt = i;
        Assert.True(settledAt > 0, $"ratio to the bound not within 5% after {SettlePeriods} adaptive periods: {samples}");
        output.WriteLine($"within 5% of the bound after {settledAt} adaptive periods, {samples.Steps} adaptive publishes");
        for (var i = 1; i <= StablePeriods; i++)
        {
            var s = await samples.NextAsync();
            Assert.True(s.Ratio <= Band, $"ratio left the 5% band {i} periods after settling (oscillation): {samples}");
        }
        Assert.Equal(0, loop.Get<EmulatedFabricStatus>().Snapshot.ForwardingProblems);
    }

    [Fact]
    public async Task With_nothing_hot_nothing_is_recomputed_or_published()
    {
        // The default workload is balanced under WCMP: every link direction sits inside the dead band once the
        // first tables are in, so the routing version must stop where the initial computation left it.
        await using var loop = await LoopApp.StartAsync(extra: Settings("moe-kv", 500));
        await loop.WaitInSyncAsync();
        var samples = new Samples(loop, output, 1000);
        var first = await samples.NextAsync();
        for (var i = 0; i < 8; i++)
        {
            var s = await samples.NextAsync();
            Assert.True(s.Ratio <= Band, $"ratio left the 5% band: {samples}");
            Assert.True(s.Hot == 0, $"link directions hot on a balanced workload: {samples}");
            Assert.True(s.Version == first.Version, $"routing version moved from v{first.Version} to v{s.Version} with nothing hot: {samples}");
        }
        var r = loop.Get<RoutingStatus>().Get("mpft")!;
        Assert.True(r.AdaptiveSteps > 0, "the congestion loop ran (and decided nothing needed to change)");
        Assert.True(r.LoadSnapshots > 0);
    }

    private sealed class Samples(LoopApp loop, ITestOutputHelper output, int everyMs)
    {
        private readonly List<(double Ratio, long Version, int Hot)> _all = [];
        private readonly long _v0 = loop.Get<RoutingStatus>().Get("mpft")!.RoutingVersion;

        public long Steps => _all.Count == 0 ? 0 : _all[^1].Version - _v0;

        public async Task<(double Ratio, long Version, int Hot)> NextAsync()
        {
            await Task.Delay(everyMs);
            var e = loop.Get<EmulatedFabricStatus>().Snapshot;
            var r = loop.Get<RoutingStatus>().Get("mpft")!;
            var s = (e.RatioToBound, r.RoutingVersion, r.HotDirections);
            _all.Add(s);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sample {_all.Count,2}: max util {e.MaxUtilization:F3} bound {e.LowerBound:F3} ratio {e.RatioToBound:F3} routing v{r.RoutingVersion} hot {r.HotDirections} steps {r.AdaptiveSteps} last {r.LastReason} ({r.LastSwitchesChanged} switches)"));
            return s;
        }

        public override string ToString() => string.Join(", ", _all.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Ratio:F3}/v{x.Version}/hot{x.Hot}")));
    }
}
