namespace ControlPlane.Fabric;

/// <summary>
/// Parameters of a generated fabric. Defaults describe the DeepSeek-V3 cluster: 64-port 400G switches,
/// 8 GPUs and 8 NICs per node, non-blocking leaves.
/// </summary>
public sealed record GeneratorParameters
{
    /// <summary>Largest fabric the generators will build, in endpoints (NICs).</summary>
    public const int MaxEndpoints = 1 << 20;

    /// <summary>Largest number of planes.</summary>
    public const int MaxPlanes = 64;

    /// <summary>Largest switch radix.</summary>
    public const int MaxRadix = 512;

    /// <summary>Topology family.</summary>
    public TopologyKind Kind { get; init; } = TopologyKind.Mpft;

    /// <summary>Fabric name; also the prefix of element names when several fabrics share a store.</summary>
    public string Name { get; init; } = "fabric";

    /// <summary>Ports per switch.</summary>
    public int Radix { get; init; } = 64;

    /// <summary>Port speed in Gb/s (400 for NDR / 400GbE, 800 for XDR / 800GbE).</summary>
    public int PortSpeedGbps { get; init; } = 400;

    /// <summary>Planes, MPFT only (default 8); other kinds have one plane and accept only 1 or null.</summary>
    public int? Planes { get; init; }

    /// <summary>Planes the fabric will have.</summary>
    public int PlaneCount => Planes ?? (Kind == TopologyKind.Mpft ? 8 : 1);

    /// <summary>GPUs per node.</summary>
    public int GpusPerNode { get; init; } = 8;

    /// <summary>NICs per node. For MPFT a multiple of <see cref="Planes"/>: NIC i goes to plane i mod P.</summary>
    public int NicsPerNode { get; init; } = 8;

    /// <summary>Leaf down:up port ratio; 1 is non-blocking, 3 means 3:1.</summary>
    public double Oversubscription { get; init; } = 1.0;

    /// <summary>Leaves per plane for FT2, MPFT and rail-optimized; null means the most the spine radix allows.</summary>
    public int? LeavesPerPlane { get; init; }

    /// <summary>Pods for FT3; null means the radix (the full k-ary tree).</summary>
    public int? Pods { get; init; }

    /// <summary>Switch model name.</summary>
    public string SwitchModel { get; init; } = "QM9700 64x400G";

    /// <summary>Nodes per rack, used to decide whether a host link stays in a rack (DAC) or crosses the row (AOC).</summary>
    public int NodesPerRack { get; init; } = 4;

    /// <summary>Length of a host link whose leaf is in the same rack.</summary>
    public double HostLinkInRackM { get; init; } = 2.5;

    /// <summary>Length of a host link whose leaf is elsewhere in the row.</summary>
    public double HostLinkInRowM { get; init; } = 20;

    /// <summary>Length of a leaf-to-spine link.</summary>
    public double LeafSpineLinkM { get; init; } = 40;

    /// <summary>Length of a spine-to-core link (FT3).</summary>
    public double SpineCoreLinkM { get; init; } = 150;

    /// <summary>Seed for serial numbers; the same parameters always give the same fabric.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Leaf down ports given radix and oversubscription.</summary>
    public int LeafDownPorts => (int)Math.Round(Radix * Oversubscription / (Oversubscription + 1.0));

    /// <summary>Leaf up ports.</summary>
    public int LeafUpPorts => Radix - LeafDownPorts;

    /// <summary>Every problem with these parameters, each naming its field; empty when they can be generated.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(Name)) e.Add(new("name", "must not be empty"));
        else if (Name.Length > 64) e.Add(new("name", "must be at most 64 characters"));
        else if (!Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) e.Add(new("name", "may hold only letters, digits, '-', '_' and '.'"));
        if (Kind is TopologyKind.SlimFly or TopologyKind.Dragonfly or TopologyKind.Imported)
            e.Add(new("kind", $"{Kind} cannot be generated; the planner reports it analytically"));
        if (Radix < 4 || Radix > MaxRadix) e.Add(new("radix", $"must be between 4 and {MaxRadix}, got {Radix}"));
        else if (Radix % 2 != 0) e.Add(new("radix", $"must be even, got {Radix}"));
        if (PortSpeedGbps is not (100 or 200 or 400 or 800 or 1600 or 3200)) e.Add(new("portSpeedGbps", $"must be one of 100, 200, 400, 800, 1600, 3200, got {PortSpeedGbps}"));
        if (PlaneCount < 1 || PlaneCount > MaxPlanes) e.Add(new("planes", $"must be between 1 and {MaxPlanes}, got {PlaneCount}"));
        else if (Kind != TopologyKind.Mpft && PlaneCount != 1) e.Add(new("planes", $"only MPFT has several planes; {Kind} takes 1, got {PlaneCount}"));
        if (GpusPerNode < 0 || GpusPerNode > 64) e.Add(new("gpusPerNode", $"must be between 0 and 64, got {GpusPerNode}"));
        if (NicsPerNode < 1 || NicsPerNode > 64) e.Add(new("nicsPerNode", $"must be between 1 and 64, got {NicsPerNode}"));
        else if (Kind == TopologyKind.Mpft && PlaneCount >= 1 && NicsPerNode % PlaneCount != 0) e.Add(new("nicsPerNode", $"must be a multiple of planes ({PlaneCount}) for MPFT, got {NicsPerNode}"));
        if (!double.IsFinite(Oversubscription) || Oversubscription < 1 || Oversubscription > 16) e.Add(new("oversubscription", $"must be between 1 and 16, got {Oversubscription}"));
        else if (Radix >= 4 && (LeafDownPorts < 1 || LeafUpPorts < 1)) e.Add(new("oversubscription", $"leaves of radix {Radix} need at least one down and one up port"));
        if (LeavesPerPlane is { } l && (l < 1 || l > Math.Max(Radix, 1))) e.Add(new("leavesPerPlane", $"must be between 1 and the radix ({Radix}), got {l}"));
        if (Pods is { } p && (p < 1 || p > Math.Max(Radix, 1))) e.Add(new("pods", $"must be between 1 and the radix ({Radix}), got {p}"));
        if (NodesPerRack < 1 || NodesPerRack > 64) e.Add(new("nodesPerRack", $"must be between 1 and 64, got {NodesPerRack}"));
        CheckLength(e, "hostLinkInRackM", HostLinkInRackM);
        CheckLength(e, "hostLinkInRowM", HostLinkInRowM);
        CheckLength(e, "leafSpineLinkM", LeafSpineLinkM);
        CheckLength(e, "spineCoreLinkM", SpineCoreLinkM);
        if (string.IsNullOrWhiteSpace(SwitchModel) || SwitchModel.Length > 64) e.Add(new("switchModel", "must be 1 to 64 characters"));
        if (e.Count == 0 && Kind == TopologyKind.RailOptimized && (LeavesPerPlane ?? Radix) % NicsPerNode != 0)
            e.Add(new("leavesPerPlane", $"rail-optimized needs a multiple of nicsPerNode ({NicsPerNode}) leaves, got {LeavesPerPlane ?? Radix}"));
        if (e.Count == 0)
        {
            var endpoints = (long)EndpointsEstimate();
            if (endpoints > MaxEndpoints) e.Add(new(Kind == TopologyKind.Mpft ? "planes" : "radix", $"the fabric would have {endpoints:N0} endpoints; the limit is {MaxEndpoints:N0}"));
            else if (endpoints < NicsPerNode) e.Add(new("nicsPerNode", $"a plane of {endpoints} endpoints cannot hold one node of {NicsPerNode} NICs"));
        }
        return e;
    }

    /// <summary>Endpoints the generator will create (NICs), before rounding down to whole nodes.</summary>
    public long EndpointsEstimate() => Kind switch
    {
        TopologyKind.Ft3 => (long)(Pods ?? Radix) * (Radix / 2) * LeafDownPorts,
        TopologyKind.Mpft => (long)PlaneCount * (LeavesPerPlane ?? Radix) * LeafDownPorts,
        _ => (long)(LeavesPerPlane ?? Radix) * LeafDownPorts,
    };

    private static void CheckLength(List<FieldError> e, string field, double v)
    {
        if (!double.IsFinite(v) || v <= 0 || v > 10000) e.Add(new(field, $"must be between 0 and 10000 metres, got {v}"));
    }
}
