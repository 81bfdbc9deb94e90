namespace ControlPlane.Fabric.Serialization;

/// <summary>
/// The fabric spec file: our own text form of a <see cref="FabricTopology"/> (plus optional element states),
/// written as JSON by <see cref="FabricSpecJson"/> and as YAML by the YAML adapter. Elements refer to each
/// other by name, never by id: ids are re-derived from order when the file is read. Enum values are camelCase
/// strings ("leaf", "leafSpine", "sr8", "drained"). Unknown fields are rejected.
/// </summary>
/// <example>
/// <code>
/// { "specVersion": 1, "name": "lab", "kind": "imported",
///   "planes": [ { "name": "plane-0" } ],
///   "switches": [ { "name": "leaf-0", "plane": 0, "tier": "leaf", "radix": 64, "speedGbps": 400, "model": "QM9700" } ],
///   "hosts": [ { "name": "node-00000", "gpus": 8, "nics": [ { "plane": 0, "speedGbps": 400 } ] } ],
///   "links": [ { "a": "node-00000/mlx5_0", "b": "leaf-0/1", "speedGbps": 400, "role": "host",
///                "medium": "passiveDac", "lengthM": 2.5 } ] }
/// </code>
/// </example>
public sealed record FabricSpec
{
    /// <summary>Version of this file format; only 1 exists.</summary>
    public int SpecVersion { get; init; } = 1;

    /// <summary>Fabric name.</summary>
    public required string Name { get; init; }

    /// <summary>Topology kind: "ft2", "mpft", "ft3", "railOptimized" or "imported".</summary>
    public required string Kind { get; init; }

    /// <summary>Generator parameters when the fabric was generated; informational on import.</summary>
    public ParametersSpec? Parameters { get; init; }

    /// <summary>Planes in id order.</summary>
    public required IReadOnlyList<PlaneSpec> Planes { get; init; }

    /// <summary>Switches in id order.</summary>
    public required IReadOnlyList<SwitchSpec> Switches { get; init; }

    /// <summary>Hosts in id order.</summary>
    public IReadOnlyList<HostSpec> Hosts { get; init; } = [];

    /// <summary>Links in id order; a link's id is its index here.</summary>
    public required IReadOnlyList<LinkSpec> Links { get; init; }

    /// <summary>Element states that differ from "up, never changed"; absent means all up.</summary>
    public StatesSpec? States { get; init; }
}

/// <summary>A plane.</summary>
public sealed record PlaneSpec
{
    /// <summary>Unique plane name.</summary>
    public required string Name { get; init; }
}

/// <summary>A switch.</summary>
public sealed record SwitchSpec
{
    /// <summary>Unique switch name.</summary>
    public required string Name { get; init; }

    /// <summary>Plane index.</summary>
    public required int Plane { get; init; }

    /// <summary>"leaf", "spine" or "core".</summary>
    public required string Tier { get; init; }

    /// <summary>Number of ports, numbered 1..radix.</summary>
    public required int Radix { get; init; }

    /// <summary>Speed of each port in Gb/s.</summary>
    public required int SpeedGbps { get; init; }

    /// <summary>Vendor model, free text.</summary>
    public string Model { get; init; } = "";

    /// <summary>Pod, scalable unit or group; absent when not applicable.</summary>
    public int? Group { get; init; }

    /// <summary>Node GUID (hex) when known.</summary>
    public string? Guid { get; init; }
}

/// <summary>A host (compute node).</summary>
public sealed record HostSpec
{
    /// <summary>Unique host name.</summary>
    public required string Name { get; init; }

    /// <summary>GPU count.</summary>
    public int Gpus { get; init; }

    /// <summary>NICs; NIC i is mlx5_i.</summary>
    public required IReadOnlyList<NicSpec> Nics { get; init; }
}

/// <summary>A host NIC (one endpoint).</summary>
public sealed record NicSpec
{
    /// <summary>Plane index.</summary>
    public required int Plane { get; init; }

    /// <summary>Line rate in Gb/s.</summary>
    public required int SpeedGbps { get; init; }

    /// <summary>Port GUID (hex) when known.</summary>
    public string? Guid { get; init; }
}

/// <summary>A cable. Ends are "switch/port" (port 1-based) or "host/mlx5_N" (NIC N, 0-based).</summary>
public sealed record LinkSpec
{
    /// <summary>First end; for tree links the lower tier.</summary>
    public required string A { get; init; }

    /// <summary>Second end; for tree links the upper tier.</summary>
    public required string B { get; init; }

    /// <summary>Line rate in Gb/s.</summary>
    public required int SpeedGbps { get; init; }

    /// <summary>"host", "leafSpine", "spineCore" or "switchSwitch".</summary>
    public required string Role { get; init; }

    /// <summary>"passiveDac", "activeDac", "aoc", "sr8", "dr8", "fr4" or "lr8".</summary>
    public required string Medium { get; init; }

    /// <summary>Cable length in metres.</summary>
    public required double LengthM { get; init; }

    /// <summary>Plane index; absent means the plane of the first switch end.</summary>
    public int? Plane { get; init; }

    /// <summary>Modules or active cable ends installed on this link.</summary>
    public IReadOnlyList<TransceiverSpec>? Transceivers { get; init; }
}

/// <summary>A transceiver at one end of a link.</summary>
public sealed record TransceiverSpec
{
    /// <summary>"a" or "b".</summary>
    public required string Side { get; init; }

    /// <summary>Unique serial number.</summary>
    public required string Serial { get; init; }

    /// <summary>Part kind; absent means the link's medium.</summary>
    public string? Kind { get; init; }

    /// <summary>Vendor.</summary>
    public string Vendor { get; init; } = "";

    /// <summary>Vendor part number.</summary>
    public string PartNumber { get; init; } = "";

    /// <summary>Firmware version.</summary>
    public string Firmware { get; init; } = "";

    /// <summary>Typical power in watts.</summary>
    public double PowerW { get; init; }

    /// <summary>Energy per bit.</summary>
    public double PicojoulesPerBit { get; init; }

    /// <summary>DOM thresholds; absent means <see cref="MediaCatalog.DefaultThresholds"/>.</summary>
    public DomThresholds? Thresholds { get; init; }
}

/// <summary>Generator parameters as written in a spec; absent values take the generator defaults.</summary>
public sealed record ParametersSpec
{
    /// <summary>See <see cref="GeneratorParameters.Radix"/>.</summary>
    public int? Radix { get; init; }
    /// <summary>See <see cref="GeneratorParameters.PortSpeedGbps"/>.</summary>
    public int? PortSpeedGbps { get; init; }
    /// <summary>See <see cref="GeneratorParameters.Planes"/>.</summary>
    public int? Planes { get; init; }
    /// <summary>See <see cref="GeneratorParameters.GpusPerNode"/>.</summary>
    public int? GpusPerNode { get; init; }
    /// <summary>See <see cref="GeneratorParameters.NicsPerNode"/>.</summary>
    public int? NicsPerNode { get; init; }
    /// <summary>See <see cref="GeneratorParameters.Oversubscription"/>.</summary>
    public double? Oversubscription { get; init; }
    /// <summary>See <see cref="GeneratorParameters.LeavesPerPlane"/>.</summary>
    public int? LeavesPerPlane { get; init; }
    /// <summary>See <see cref="GeneratorParameters.Pods"/>.</summary>
    public int? Pods { get; init; }
    /// <summary>See <see cref="GeneratorParameters.SwitchModel"/>.</summary>
    public string? SwitchModel { get; init; }
    /// <summary>See <see cref="GeneratorParameters.NodesPerRack"/>.</summary>
    public int? NodesPerRack { get; init; }
    /// <summary>See <see cref="GeneratorParameters.HostLinkInRackM"/>.</summary>
    public double? HostLinkInRackM { get; init; }
    /// <summary>See <see cref="GeneratorParameters.HostLinkInRowM"/>.</summary>
    public double? HostLinkInRowM { get; init; }
    /// <summary>See <see cref="GeneratorParameters.LeafSpineLinkM"/>.</summary>
    public double? LeafSpineLinkM { get; init; }
    /// <summary>See <see cref="GeneratorParameters.SpineCoreLinkM"/>.</summary>
    public double? SpineCoreLinkM { get; init; }
    /// <summary>See <see cref="GeneratorParameters.Seed"/>.</summary>
    public int? Seed { get; init; }
}

/// <summary>States of elements that are not "up, never changed", and the fabric version.</summary>
public sealed record StatesSpec
{
    /// <summary>Topology version of the snapshot.</summary>
    public long Version { get; init; } = 1;

    /// <summary>Link states by link index.</summary>
    public IReadOnlyList<LinkStateSpec> Links { get; init; } = [];

    /// <summary>Switch states by switch name.</summary>
    public IReadOnlyList<SwitchStateSpec> Switches { get; init; } = [];
}

/// <summary>State of one link.</summary>
public sealed record LinkStateSpec
{
    /// <summary>Link index in <see cref="FabricSpec.Links"/>.</summary>
    public required int Link { get; init; }
    /// <summary>"up", "down", "drained" or "maintenance".</summary>
    public required string Status { get; init; }
    /// <summary>Why.</summary>
    public string? Reason { get; init; }
    /// <summary>Who.</summary>
    public string? By { get; init; }
    /// <summary>When.</summary>
    public DateTimeOffset? Since { get; init; }
}

/// <summary>State of one switch.</summary>
public sealed record SwitchStateSpec
{
    /// <summary>Switch name.</summary>
    public required string Name { get; init; }
    /// <summary>"up", "down", "drained" or "maintenance".</summary>
    public required string Status { get; init; }
    /// <summary>Why.</summary>
    public string? Reason { get; init; }
    /// <summary>Who.</summary>
    public string? By { get; init; }
    /// <summary>When.</summary>
    public DateTimeOffset? Since { get; init; }
}
