namespace ControlPlane.Fabric.Planning;

/// <summary>A count with a name, e.g. ("leaf", 512).</summary>
/// <param name="Name">What is counted.</param>
/// <param name="Count">How many.</param>
public sealed record NamedCount(string Name, long Count);

/// <summary>Links of one medium with their parts, power and cost.</summary>
/// <param name="Medium">camelCase medium name, e.g. "sr8".</param>
/// <param name="ReachTier">"rack", "row", "hall" or "campus".</param>
/// <param name="Links">Links of this medium.</param>
/// <param name="Transceivers">Pluggable modules (two per link for module media, none for cable assemblies).</param>
/// <param name="Cables">Cables: one per link (a DAC or AOC assembly, or the fibre between two modules).</param>
/// <param name="PowerW">Power of all link ends of this medium.</param>
/// <param name="CostUsd">Cost of these links.</param>
public sealed record MediaLine(string Medium, string ReachTier, long Links, long Transceivers, long Cables, double PowerW, double CostUsd);

/// <summary>What a fabric design needs and costs: the planner's answer.</summary>
/// <param name="Kind">camelCase topology kind.</param>
/// <param name="Radix">Switch radix.</param>
/// <param name="PortSpeedGbps">Port speed.</param>
/// <param name="Planes">Planes.</param>
/// <param name="Oversubscription">Leaf down:up ratio (1 for non-tree kinds).</param>
/// <param name="Shape">The parameters that define the shape, e.g. "q=28, k'=42, p=21" for Slim Fly.</param>
/// <param name="Endpoints">Endpoints (NICs).</param>
/// <param name="Nodes">Nodes (hosts).</param>
/// <param name="Gpus">GPUs.</param>
/// <param name="Switches">Switches in total.</param>
/// <param name="SwitchesByTier">Switches per tier ("leaf", "spine", "core"; "router" for Slim Fly and Dragonfly).</param>
/// <param name="SwitchLinks">Switch-to-switch links.</param>
/// <param name="HostLinks">Host (endpoint) links.</param>
/// <param name="LinksByRole">Links per role (camelCase role names).</param>
/// <param name="Media">Links, transceivers and cables per medium.</param>
/// <param name="LinksByReach">Links per reach tier (rack, row, hall, campus).</param>
/// <param name="Transceivers">Pluggable modules in total.</param>
/// <param name="Cables">Cables in total.</param>
/// <param name="SwitchPowerKw">Power of the switches.</param>
/// <param name="OpticsPowerKw">Power of the link ends.</param>
/// <param name="TotalPowerKw">Switches plus optics.</param>
/// <param name="BisectionTbps">Bisection bandwidth, Tb/s, one direction.</param>
/// <param name="BisectionIsEstimate">True for Slim Fly and Dragonfly, whose bisection is estimated, not computed from a cut.</param>
/// <param name="CostUsd">Switches plus links.</param>
/// <param name="CostPerEndpointUsd">Cost divided by endpoints.</param>
/// <param name="Analytical">True when counted from formulas (Slim Fly, Dragonfly), false when counted from a generated topology.</param>
/// <param name="Notes">Assumptions an operator should know.</param>
public sealed record PlanReport(
    string Kind,
    int Radix,
    int PortSpeedGbps,
    int Planes,
    double Oversubscription,
    string Shape,
    long Endpoints,
    long Nodes,
    long Gpus,
    long Switches,
    IReadOnlyList<NamedCount> SwitchesByTier,
    long SwitchLinks,
    long HostLinks,
    IReadOnlyList<NamedCount> LinksByRole,
    IReadOnlyList<MediaLine> Media,
    IReadOnlyList<NamedCount> LinksByReach,
    long Transceivers,
    long Cables,
    double SwitchPowerKw,
    double OpticsPowerKw,
    double TotalPowerKw,
    double BisectionTbps,
    bool BisectionIsEstimate,
    double CostUsd,
    double CostPerEndpointUsd,
    bool Analytical,
    IReadOnlyList<string> Notes);
