using ControlPlane.Fabric;

namespace ControlPlane.FabricStore;

// Row types of the inventory tables. Columns are snake_case of the property names (see InventoryDbContext).

/// <summary>A fabric: its kind, counts, and the version bumped by every change (the optimistic lock).</summary>
public sealed class FabricRow
{
    public required string Name { get; set; }
    public TopologyKind Kind { get; set; }
    public long Version { get; set; }
    public string? Parameters { get; set; }
    public int Planes { get; set; }
    public int SwitchCount { get; set; }
    public int HostCount { get; set; }
    public int EndpointCount { get; set; }
    public int LinkCount { get; set; }
    public int SwitchLinkCount { get; set; }
    public int TransceiverCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A switch with its current state.</summary>
public sealed class SwitchRow
{
    public required string Fabric { get; set; }
    public int Id { get; set; }
    public required string Name { get; set; }
    public int Plane { get; set; }
    public SwitchTier Tier { get; set; }
    public int Radix { get; set; }
    public int PortSpeedGbps { get; set; }
    public required string Model { get; set; }
    public int Group { get; set; }
    public string? Guid { get; set; }
    public ElementStatus Status { get; set; }
    public string? Reason { get; set; }
    public string? By { get; set; }
    public DateTimeOffset? Since { get; set; }
}

/// <summary>A host (node).</summary>
public sealed class HostRow
{
    public required string Fabric { get; set; }
    public int Id { get; set; }
    public required string Name { get; set; }
    public int Gpus { get; set; }
}

/// <summary>A NIC of a host.</summary>
public sealed class NicRow
{
    public required string Fabric { get; set; }
    public int HostId { get; set; }
    public int NicIndex { get; set; }
    public int Plane { get; set; }
    public int SpeedGbps { get; set; }
    public string? Guid { get; set; }
}

/// <summary>A link with its current state.</summary>
public sealed class LinkRow
{
    public required string Fabric { get; set; }
    public int Id { get; set; }
    public bool AIsHost { get; set; }
    public int ADevice { get; set; }
    public int APort { get; set; }
    public bool BIsHost { get; set; }
    public int BDevice { get; set; }
    public int BPort { get; set; }
    public int SpeedGbps { get; set; }
    public LinkRole Role { get; set; }
    public MediumKind Medium { get; set; }
    public double LengthM { get; set; }
    public int Plane { get; set; }
    public ElementStatus Status { get; set; }
    public string? Reason { get; set; }
    public string? By { get; set; }
    public DateTimeOffset? Since { get; set; }
}

/// <summary>A transceiver; its DOM thresholds are shared rows, as modules of one part share one set.</summary>
public sealed class TransceiverRow
{
    public required string Fabric { get; set; }
    public int Id { get; set; }
    public required string Serial { get; set; }
    public MediumKind Kind { get; set; }
    public int LinkId { get; set; }
    public LinkSide Side { get; set; }
    public required string Vendor { get; set; }
    public required string PartNumber { get; set; }
    public required string Firmware { get; set; }
    public double PowerW { get; set; }
    public double PicojoulesPerBit { get; set; }
    /// <summary>Id of the DOM threshold set in <see cref="DomThresholdsRow"/> (one per distinct set in the fabric).</summary>
    public int ThresholdsId { get; set; }
}

/// <summary>One topology version: who changed what, when and why (changes as JSON).</summary>
public sealed class VersionRow
{
    public required string Fabric { get; set; }
    public long Version { get; set; }
    public DateTimeOffset At { get; set; }
    public string? By { get; set; }
    public string? Reason { get; set; }
    public int Kind { get; set; }
    public required string Changes { get; set; }
}

/// <summary>One distinct set of DOM alarm and warning thresholds of a fabric.</summary>
public sealed class DomThresholdsRow
{
    public required string Fabric { get; set; }
    public int Id { get; set; }
    public double TempHighAlarmC { get; set; }
    public double TempHighWarnC { get; set; }
    public double VccLowAlarmV { get; set; }
    public double VccHighAlarmV { get; set; }
    public double BiasHighAlarmMa { get; set; }
    public double TxPowerLowAlarmDbm { get; set; }
    public double RxPowerLowAlarmDbm { get; set; }
    public double RxPowerLowWarnDbm { get; set; }
    public double RxPowerHighAlarmDbm { get; set; }
    public double PreFecBerWarn { get; set; }
    public double PreFecBerAlarm { get; set; }
}
