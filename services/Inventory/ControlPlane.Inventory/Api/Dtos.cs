using ControlPlane.Fabric;

namespace ControlPlane.Inventory.Api;

// Wire shapes of the inventory REST API v1 (see notes/inventory-api.md). camelCase, enums as camelCase strings.

public sealed record FabricSummary(
    string Name, TopologyKind Kind, long Version, int Planes, int Switches, int Hosts, int Endpoints,
    int Links, int SwitchLinks, int Transceivers, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Offset, int Limit);

public sealed record SwitchDto(
    int Id, string Name, int Plane, SwitchTier Tier, int Radix, int PortSpeedGbps, string Model, int Group,
    ElementStatus Status, string? Reason, string? By, DateTimeOffset? Since);

public sealed record LinkDto(
    int Id, string A, string B, int SpeedGbps, LinkRole Role, MediumKind Medium, double LengthM, int Plane,
    ElementStatus Status, string? Reason, string? By, DateTimeOffset? Since);

public sealed record NicDto(int Index, int Plane, int SpeedGbps, string? Peer);

public sealed record HostDto(int Id, string Name, int Gpus, IReadOnlyList<NicDto> Nics);

public sealed record TransceiverDto(
    int Id, string Serial, MediumKind Kind, int Link, LinkSide Side, string Vendor, string PartNumber, string Firmware,
    double PowerW, double PicojoulesPerBit);

public sealed record LinkStateResult(long Version, LinkDto Link);

public sealed record SwitchStateResult(long Version, SwitchDto Switch);

public sealed record VersionChangeDto(string Element, string Id, string Name, string? From, string? To);

public sealed record TopologyVersionDto(long Version, DateTimeOffset At, string? By, string? Reason, IReadOnlyList<VersionChangeDto> Changes);

/// <summary>Body of POST /api/v1/fabrics. Every member is optional on the wire so missing ones are reported by name.</summary>
public sealed class CreateFabricRequest
{
    public string? Name { get; set; }
    public GeneratorRequest? Generator { get; set; }
}

/// <summary>Generator parameters as the API takes them; null members take the generator's defaults.</summary>
public sealed class GeneratorRequest
{
    public TopologyKind? Kind { get; set; }
    public int? Radix { get; set; }
    public int? PortSpeedGbps { get; set; }
    public int? Planes { get; set; }
    public int? GpusPerNode { get; set; }
    public int? NicsPerNode { get; set; }
    public double? Oversubscription { get; set; }
    public int? LeavesPerPlane { get; set; }
    public int? Pods { get; set; }
    public string? SwitchModel { get; set; }
    public int? NodesPerRack { get; set; }
    public int? Seed { get; set; }

    public GeneratorParameters ToParameters(string name)
    {
        var d = new GeneratorParameters();
        return d with
        {
            Name = name,
            Kind = Kind ?? d.Kind,
            Radix = Radix ?? d.Radix,
            PortSpeedGbps = PortSpeedGbps ?? d.PortSpeedGbps,
            Planes = Planes,
            GpusPerNode = GpusPerNode ?? d.GpusPerNode,
            NicsPerNode = NicsPerNode ?? d.NicsPerNode,
            Oversubscription = Oversubscription ?? d.Oversubscription,
            LeavesPerPlane = LeavesPerPlane,
            Pods = Pods,
            SwitchModel = SwitchModel ?? d.SwitchModel,
            NodesPerRack = NodesPerRack ?? d.NodesPerRack,
            Seed = Seed ?? d.Seed,
        };
    }
}

/// <summary>Body of POST .../state.</summary>
public sealed class StateChangeRequest
{
    public ElementStatus? Status { get; set; }
    public string? Reason { get; set; }
    public string? By { get; set; }
    public long? ExpectedVersion { get; set; }
}
