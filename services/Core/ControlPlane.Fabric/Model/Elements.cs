namespace ControlPlane.Fabric;

/// <summary>An independent routing domain. Traffic never crosses planes inside the fabric.</summary>
/// <param name="Id">Index of the plane, 0-based.</param>
/// <param name="Name">Unique name, e.g. "plane-0".</param>
public sealed record Plane(int Id, string Name);

/// <summary>A switch of the fabric. Ports are numbered 1..<see cref="Radix"/> as InfiniBand does.</summary>
/// <param name="Id">Index in <see cref="FabricTopology.Switches"/>.</param>
/// <param name="Name">Unique name.</param>
/// <param name="Plane">Plane id.</param>
/// <param name="Tier">Layer in the tree.</param>
/// <param name="Radix">Number of ports.</param>
/// <param name="PortSpeedGbps">Speed of each port.</param>
/// <param name="Model">Vendor model, free text.</param>
/// <param name="Group">Pod (FT3), scalable unit (rail-optimized) or group (Dragonfly); -1 when not applicable.</param>
/// <param name="Guid">Node GUID when known (imports), else null.</param>
public sealed record Switch(
    int Id,
    string Name,
    int Plane,
    SwitchTier Tier,
    int Radix,
    int PortSpeedGbps,
    string Model,
    int Group = -1,
    string? Guid = null)
{
    /// <summary>Default switch table capacity (weighted groups) when the model does not say.</summary>
    public const int DefaultMaxGroups = 4096;
}

/// <summary>A network interface of a host node. Each NIC is one fabric endpoint and belongs to one plane.</summary>
/// <param name="Index">NIC index inside the node, 0-based (mlx5_Index).</param>
/// <param name="Plane">Plane the NIC is cabled into.</param>
/// <param name="SpeedGbps">Line rate.</param>
/// <param name="Guid">Port GUID when known (imports), else null.</param>
public sealed record Nic(int Index, int Plane, int SpeedGbps, string? Guid = null);

/// <summary>A compute node (host) with GPUs and NICs.</summary>
/// <param name="Id">Index in <see cref="FabricTopology.Hosts"/>.</param>
/// <param name="Name">Unique name.</param>
/// <param name="Gpus">GPU count.</param>
/// <param name="Nics">NICs, indexed by <see cref="Nic.Index"/>.</param>
public sealed record Host(int Id, string Name, int Gpus, IReadOnlyList<Nic> Nics);

/// <summary>One end of a link: a switch port, or a host NIC.</summary>
/// <param name="IsHost">True when <see cref="Device"/> is a host id and <see cref="Port"/> a NIC index.</param>
/// <param name="Device">Switch id or host id.</param>
/// <param name="Port">Switch port (1-based) or NIC index (0-based).</param>
public readonly record struct LinkEnd(bool IsHost, int Device, int Port)
{
    /// <summary>A switch port end.</summary>
    public static LinkEnd OnSwitch(int switchId, int port) => new(false, switchId, port);

    /// <summary>A host NIC end.</summary>
    public static LinkEnd OnHost(int hostId, int nic) => new(true, hostId, nic);
}

/// <summary>A cable between two ends. Links are full duplex; A to B is one direction, B to A the other.</summary>
/// <param name="Id">Index in <see cref="FabricTopology.Links"/>.</param>
/// <param name="A">First end; for tree links the lower tier (host or leaf side).</param>
/// <param name="B">Second end; for tree links the upper tier.</param>
/// <param name="SpeedGbps">Line rate of the link.</param>
/// <param name="Role">What the link joins.</param>
/// <param name="Medium">The cable or optic kind.</param>
/// <param name="LengthM">Cable length in metres.</param>
/// <param name="Plane">Plane of the link.</param>
public sealed record Link(
    int Id,
    LinkEnd A,
    LinkEnd B,
    int SpeedGbps,
    LinkRole Role,
    MediumKind Medium,
    double LengthM,
    int Plane)
{
    /// <summary>True when both ends are switches.</summary>
    public bool IsSwitchLink => !A.IsHost && !B.IsHost;
}

/// <summary>Digital diagnostics (DDM/DOM) thresholds of a module, as in OpenConfig's transceiver model.</summary>
public sealed record DomThresholds(
    double TempHighAlarmC,
    double TempHighWarnC,
    double VccLowAlarmV,
    double VccHighAlarmV,
    double BiasHighAlarmMa,
    double TxPowerLowAlarmDbm,
    double RxPowerLowAlarmDbm,
    double RxPowerLowWarnDbm,
    double RxPowerHighAlarmDbm,
    double PreFecBerWarn,
    double PreFecBerAlarm);

/// <summary>A pluggable module or one end of an active cable, installed at one end of a link.</summary>
/// <param name="Id">Index in <see cref="FabricTopology.Transceivers"/>.</param>
/// <param name="Serial">Unique serial number.</param>
/// <param name="Kind">Part kind.</param>
/// <param name="Link">Link id it is installed on.</param>
/// <param name="Side">Which end of the link.</param>
/// <param name="Vendor">Vendor name.</param>
/// <param name="PartNumber">Vendor part number.</param>
/// <param name="Firmware">Firmware version.</param>
/// <param name="PowerW">Typical power draw in watts.</param>
/// <param name="PicojoulesPerBit">Energy per bit.</param>
/// <param name="Thresholds">DOM alarm and warning thresholds.</param>
public sealed record Transceiver(
    int Id,
    string Serial,
    MediumKind Kind,
    int Link,
    LinkSide Side,
    string Vendor,
    string PartNumber,
    string Firmware,
    double PowerW,
    double PicojoulesPerBit,
    DomThresholds Thresholds);

/// <summary>State of a link or switch with who changed it, why, and when.</summary>
/// <param name="Status">Current status.</param>
/// <param name="Reason">Why, free text; null for the initial state.</param>
/// <param name="By">Who (user or component).</param>
/// <param name="Since">When the status was set; null for the initial state.</param>
public sealed record ElementState(ElementStatus Status, string? Reason = null, string? By = null, DateTimeOffset? Since = null)
{
    /// <summary>The shared initial state.</summary>
    public static readonly ElementState InitialUp = new(ElementStatus.Up);

    /// <summary>True when the element may carry traffic.</summary>
    public bool CarriesTraffic => Status == ElementStatus.Up;
}
