using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Emulation;

/// <summary>Random fault injection for offline runs (<c>--fail 2% --seed N</c>).</summary>
public static class FaultInjection
{
    /// <summary>
    /// Marks a fraction of the switch-to-switch links Down, chosen uniformly at random with the seed (deterministic).
    /// Returns the new snapshot and the failed link ids.
    /// </summary>
    /// <exception cref="FabricInputException">When the fraction is not in [0, 1].</exception>
    public static (FabricSnapshot Snapshot, IReadOnlyList<int> Failed) FailRandomLinks(FabricSnapshot snapshot, double fraction, int seed)
    {
        if (!double.IsFinite(fraction) || fraction < 0 || fraction > 1) throw new FabricInputException("fail", $"must be a fraction between 0 and 1 (e.g. 0.02 for 2%), got {fraction}");
        var t = snapshot.Topology;
        var r = new Random(seed);
        var candidates = t.Links.Where(l => l.IsSwitchLink && snapshot.LinkState(l.Id).CarriesTraffic).Select(l => l.Id).ToArray();
        var failed = candidates.OrderBy(_ => r.Next()).Take((int)Math.Round(fraction * candidates.Length)).OrderBy(x => x).ToArray();
        if (failed.Length == 0) return (snapshot, failed);
        var down = new ElementState(ElementStatus.Down, "injected failure", "fault-injection");
        return (snapshot.With(failed.Select(l => new KeyValuePair<int, ElementState>(l, down))), failed);
    }
}

/// <summary>What <c>fabricctl simulate</c> asks for.</summary>
public sealed record SimulateRequest
{
    /// <summary>alltoall, permutation, allreduce, moe (dispatch + combine), kv, tp, incast, or mixed (moe dispatch + kv + tp).</summary>
    public string Workload { get; init; } = "moe";

    /// <summary>ecmp (hashed), wcmp (sprayed), or adaptive (sprayed, with the congestion loop); "policy" uses the policy as is.</summary>
    public string Routing { get; init; } = "wcmp";

    /// <summary>Seed of the workload.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Steps of the adaptive loop when <see cref="Routing"/> is adaptive.</summary>
    public int AdaptiveSteps { get; init; } = 6;

    /// <summary>Zipf exponent of expert popularity for MoE (0 = uniform).</summary>
    public double ExpertSkew { get; init; }

    /// <summary>Compute max-min rates (per-class throughput).</summary>
    public bool MaxMinRates { get; init; } = true;

    /// <summary>Policy; null is <see cref="TrafficPolicy.Default"/>.</summary>
    public TrafficPolicy? Policy { get; init; }
}

/// <summary>A simulate report: one emulation per collective, and the routing used.</summary>
/// <param name="Topology">Fabric name.</param>
/// <param name="TopologyVersion">Snapshot version.</param>
/// <param name="Routing">Routing asked for.</param>
/// <param name="FailedLinks">Switch links not up.</param>
/// <param name="Collectives">One report per collective (e.g. MoE dispatch, then combine).</param>
/// <param name="PlaneHealth">Capacity left per plane (without the per-node list).</param>
public sealed record SimulateReport(string Topology, long TopologyVersion, string Routing, int FailedLinks, IReadOnlyList<EmulationReport> Collectives, IReadOnlyList<PlaneSummary> PlaneHealth);

/// <summary>Plane health without the per-node array, for printing.</summary>
public sealed record PlaneSummary(int Plane, string Name, double SwitchLinkCapacityFraction, double MinNodeCapacityFraction, int UnreachablePairs);

/// <summary>The pure function behind <c>fabricctl simulate</c>.</summary>
public static class Simulation
{
    /// <summary>Routes the snapshot as asked, runs the workload's collectives, and reports loads, per-class throughput and ratios to the bound.</summary>
    /// <exception cref="FabricInputException">When the workload or routing name is unknown.</exception>
    public static SimulateReport Run(FabricSnapshot snapshot, SimulateRequest request)
    {
        var t = snapshot.Topology;
        var policy = request.Policy ?? TrafficPolicy.Default;
        var errors = new List<FieldError>();
        var (options, adaptive) = request.Routing switch
        {
            "ecmp" => (new RoutingOptions { ForceWeighting = PathWeighting.Ecmp, ForceMode = ForwardingMode.Hashed }, false),
            "wcmp" => (new RoutingOptions { ForceWeighting = PathWeighting.Wcmp, ForceMode = ForwardingMode.Sprayed }, false),
            "adaptive" => (new RoutingOptions { ForceWeighting = PathWeighting.Adaptive, ForceMode = ForwardingMode.Sprayed }, true),
            "policy" => (new RoutingOptions(), policy.Classes.Any(c => c.Weighting == PathWeighting.Adaptive)),
            _ => (new RoutingOptions(), false),
        };
        if (request.Routing is not ("ecmp" or "wcmp" or "adaptive" or "policy")) errors.Add(new("routing", $"unknown routing '{request.Routing}'; use ecmp, wcmp, adaptive or policy"));
        int Cls(string name, int fallback) { var i = policy.IndexOf(name); return i >= 0 ? i : Math.Min(fallback, policy.Classes.Count - 1); }
        var ep = Cls("ep", 0);
        var other = Cls("other", policy.Classes.Count - 1);
        Workload[] collectives = request.Workload switch
        {
            "alltoall" => [WorkloadGenerator.AllToAll(t, ep)],
            "permutation" => [WorkloadGenerator.Permutation(t, other, request.Seed)],
            "allreduce" => [WorkloadGenerator.RingAllReduce(t, other, request.Seed)],
            "moe" => [WorkloadGenerator.Moe(t, ep, request.Seed, expertSkew: request.ExpertSkew), WorkloadGenerator.Moe(t, ep, request.Seed, combine: true, expertSkew: request.ExpertSkew)],
            "kv" => [WorkloadGenerator.KvCache(t, Cls("kv", 0), request.Seed)],
            "tp" => [WorkloadGenerator.TensorParallel(t, Cls("tp", 0), request.Seed)],
            "incast" => [WorkloadGenerator.Incast(t, other, request.Seed)],
            "mixed" => [WorkloadGenerator.Mix("mixed", WorkloadGenerator.Moe(t, ep, request.Seed, expertSkew: request.ExpertSkew), WorkloadGenerator.KvCache(t, Cls("kv", 0), request.Seed), WorkloadGenerator.TensorParallel(t, Cls("tp", 0), request.Seed))],
            _ => [],
        };
        if (collectives.Length == 0) errors.Add(new("workload", $"unknown workload '{request.Workload}'; use alltoall, permutation, allreduce, moe, kv, tp, incast or mixed"));
        if (request.AdaptiveSteps < 0 || request.AdaptiveSteps > 100) errors.Add(new("adaptiveSteps", $"must be between 0 and 100, got {request.AdaptiveSteps}"));
        if (errors.Count > 0) throw new FabricInputException(errors);

        var emOptions = new EmulatorOptions { MaxMinRates = request.MaxMinRates };
        var reports = new List<EmulationReport>();
        RoutingResult routes = RoutingEngine.Compute(snapshot, policy, options: options);
        foreach (var w in collectives)
        {
            var res = Emulator.Run(routes, w, emOptions);
            if (adaptive)
            {
                var ap = new AdaptivePolicy();
                var state = AdaptiveState.Initial(t.Links.Count);
                for (var i = 0; i < request.AdaptiveSteps; i++)
                {
                    state = AdaptiveController.Step(state, snapshot, res.Utilization, ap);
                    var next = RoutingEngine.Compute(snapshot, policy, res.Utilization, options with { Adaptive = state.Weigher, Version = routes.Version + 1 });
                    routes = AdaptiveController.LimitChange(routes, next, ap.MaxBucketChangePerStep);
                    res = Emulator.Run(routes, w, emOptions with { MaxMinRates = request.MaxMinRates && i == request.AdaptiveSteps - 1 });
                }
            }
            reports.Add(res.Report);
        }
        var failed = t.Links.Count(l => l.IsSwitchLink && !snapshot.IsLinkUsable(l.Id));
        var health = routes.PlaneHealth.Select(h => new PlaneSummary(h.Plane, h.Name, h.SwitchLinkCapacityFraction, h.MinNodeCapacityFraction, h.UnreachablePairs)).ToList();
        return new SimulateReport(t.Name, snapshot.Version, request.Routing, failed, reports, health);
    }
}
