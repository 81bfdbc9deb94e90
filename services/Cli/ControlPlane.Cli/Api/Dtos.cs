namespace ControlPlane.Cli.Api;

// Mirrors of the inventory REST contract (docs: /work/notes/inventory-api.md, README.md here). The CLI re-serializes
// these for `-o json`, so its JSON output holds exactly these fields whatever else a server adds.

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Offset, int Limit);

public sealed record FabricSummary(string Name, string Kind, long Version, int Planes, int Switches, int Hosts, int Endpoints, int Links,
    int SwitchLinks, int Transceivers, DateTimeOffset? CreatedAt, DateTimeOffset? UpdatedAt);

public sealed record SwitchDto(int Id, string Name, int Plane, string Tier, int Radix, int PortSpeedGbps, string? Model, int? Group,
    string Status, string? Reason, string? By, DateTimeOffset? Since);

public sealed record LinkDto(int Id, string A, string B, int SpeedGbps, string Role, string Medium, double LengthM, int Plane,
    string Status, string? Reason, string? By, DateTimeOffset? Since);

public sealed record NicDto(int Index, int Plane, int SpeedGbps, string? Peer);

public sealed record HostDto(int Id, string Name, int Gpus, IReadOnlyList<NicDto> Nics);

public sealed record TransceiverDto(int Id, string Serial, string Kind, int Link, string Side, string? Vendor, string? PartNumber,
    string? Firmware, double PowerW, double PicojoulesPerBit);

public sealed record StateChangeRequest(string Status, string? Reason, string? By, long? ExpectedVersion);

public sealed record LinkStateResult(long Version, LinkDto Link);

public sealed record SwitchStateResult(long Version, SwitchDto Switch);

public sealed record ChangeDto(string Element, string Id, string? Name, string? From, string? To);

public sealed record TopologyVersionDto(long Version, DateTimeOffset At, string? By, string? Reason, IReadOnlyList<ChangeDto> Changes);
