using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>How a switch spreads the packets of one traffic class over the members of a next-hop group.</summary>
public enum ForwardingMode
{
    /// <summary>Per flow: a hash of the packet header picks one member, so one flow stays on one path (ECMP style).</summary>
    Hashed = 0,
    /// <summary>Per packet: packets are sprayed over the members in proportion to their weights (needs reordering at the NIC).</summary>
    Sprayed = 1,
}

/// <summary>How member weights of a group are chosen. The support (which members) is the same for all: live shortest up/down paths.</summary>
public enum PathWeighting
{
    /// <summary>Equal weights over every live member (the baseline).</summary>
    Ecmp = 0,
    /// <summary>Weights proportional to the fair share of end-to-end capacity each member can carry to the destination (failure aware).</summary>
    Wcmp = 1,
    /// <summary>WCMP scaled by the congestion multipliers of an <see cref="AdaptiveController"/> (falls back to WCMP without one).</summary>
    Adaptive = 2,
    /// <summary>Only the least-loaded minimal member(s), equal weights (latency-critical small flows).</summary>
    Pinned = 3,
    /// <summary>WCMP scaled by the residual capacity (1 - utilization) of each link from measured loads (falls back to WCMP without loads).</summary>
    Residual = 4,
}

/// <summary>One traffic class and how it is routed.</summary>
/// <param name="Name">Unique class name, e.g. "ep".</param>
/// <param name="Mode">Per-packet spraying or per-flow hashing.</param>
/// <param name="Weighting">How member weights are chosen.</param>
/// <param name="PinnedPaths">For <see cref="PathWeighting.Pinned"/>: how many least-loaded members to keep.</param>
public sealed record TrafficClass(string Name, ForwardingMode Mode, PathWeighting Weighting, int PinnedPaths = 1);

/// <summary>The traffic classes of a fabric and how each is routed. Data, so classes change without code.</summary>
public sealed record TrafficPolicy
{
    /// <summary>Most classes a policy may hold (switch ASICs have few traffic classes).</summary>
    public const int MaxClasses = 16;

    /// <summary>The classes, in order; the index is the class id used by tables.</summary>
    public required IReadOnlyList<TrafficClass> Classes { get; init; }

    /// <summary>
    /// The default policy from DOMAIN.md: EP all-to-all sprayed over every live path with adaptive weights;
    /// TP pinned to the two least-loaded minimal paths; KV cache sprayed on residual capacity; everything else hashed WCMP.
    /// </summary>
    public static TrafficPolicy Default { get; } = new()
    {
        Classes =
        [
            new("ep", ForwardingMode.Sprayed, PathWeighting.Adaptive),
            new("tp", ForwardingMode.Hashed, PathWeighting.Pinned, PinnedPaths: 2),
            new("kv", ForwardingMode.Sprayed, PathWeighting.Residual),
            new("other", ForwardingMode.Hashed, PathWeighting.Wcmp),
        ],
    };

    /// <summary>A one-class policy, handy for baselines: every packet routed the same way.</summary>
    public static TrafficPolicy Single(string name, ForwardingMode mode, PathWeighting weighting) =>
        new() { Classes = [new(name, mode, weighting)] };

    /// <summary>Index of a class by name, or -1.</summary>
    public int IndexOf(string name)
    {
        for (var i = 0; i < Classes.Count; i++) if (Classes[i].Name == name) return i;
        return -1;
    }

    /// <summary>Every problem with the policy, each naming its field; empty when valid.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (Classes is null || Classes.Count == 0) { e.Add(new("classes", "must hold at least one class")); return e; }
        if (Classes.Count > MaxClasses) e.Add(new("classes", $"at most {MaxClasses} classes, got {Classes.Count}"));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Classes.Count; i++)
        {
            var c = Classes[i];
            if (c is null) { e.Add(new($"classes[{i}]", "must not be null")); continue; }
            if (string.IsNullOrWhiteSpace(c.Name)) e.Add(new($"classes[{i}].name", "must not be empty"));
            else if (!seen.Add(c.Name)) e.Add(new($"classes[{i}].name", $"duplicate class name '{c.Name}'"));
            if (!Enum.IsDefined(c.Mode)) e.Add(new($"classes[{i}].mode", $"unknown mode {(int)c.Mode}"));
            if (!Enum.IsDefined(c.Weighting)) e.Add(new($"classes[{i}].weighting", $"unknown weighting {(int)c.Weighting}"));
            if (c.PinnedPaths < 1 || c.PinnedPaths > 64) e.Add(new($"classes[{i}].pinnedPaths", $"must be between 1 and 64, got {c.PinnedPaths}"));
        }
        return e;
    }
}

/// <summary>Options of a route computation.</summary>
public sealed record RoutingOptions
{
    /// <summary>Buckets per next-hop group the switch ASIC supports; member weights are integers summing to it.</summary>
    public int GroupSize { get; init; } = 64;

    /// <summary>When set, every class uses this weighting (keeping its forwarding mode); used for baselines.</summary>
    public PathWeighting? ForceWeighting { get; init; }

    /// <summary>When set, every class uses this forwarding mode; used for baselines.</summary>
    public ForwardingMode? ForceMode { get; init; }

    /// <summary>Congestion multipliers for <see cref="PathWeighting.Adaptive"/> classes; null means plain WCMP.</summary>
    public ILinkWeigher? Adaptive { get; init; }

    /// <summary>Lowest residual-capacity factor a link keeps for <see cref="PathWeighting.Residual"/>, so a hot link never drops to zero weight.</summary>
    public double ResidualFloor { get; init; } = 0.05;

    /// <summary>Table version of the result; null means the snapshot's version.</summary>
    public long? Version { get; init; }

    /// <summary>Every problem with the options, each naming its field.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (GroupSize < 1 || GroupSize > 4096) e.Add(new("groupSize", $"must be between 1 and 4096 buckets, got {GroupSize}"));
        if (!double.IsFinite(ResidualFloor) || ResidualFloor <= 0 || ResidualFloor > 1) e.Add(new("residualFloor", $"must be in (0, 1], got {ResidualFloor}"));
        if (ForceWeighting is { } w && !Enum.IsDefined(w)) e.Add(new("forceWeighting", $"unknown weighting {(int)w}"));
        return e;
    }
}
