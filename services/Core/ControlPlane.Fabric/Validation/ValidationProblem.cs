namespace ControlPlane.Fabric.Validation;

/// <summary>What is wrong.</summary>
public enum ProblemKind
{
    /// <summary>Two switches, two hosts, two planes, or a host and a switch share a name.</summary>
    DuplicateName,
    /// <summary>Two links on one switch port or one NIC (or both ends of a link on the same port).</summary>
    PortUsedTwice,
    /// <summary>A link end names a device that does not exist or a port beyond the device's range.</summary>
    UnknownPort,
    /// <summary>A link's speed differs from the speed of a port or NIC it is on.</summary>
    SpeedMismatch,
    /// <summary>A link joins elements of different planes, or is labelled with another plane than its ends.</summary>
    CrossPlaneLink,
    /// <summary>Leaf to leaf, a host on a spine, leaf to core (a tier skipped), host to host, or a role that disagrees with the tiers.</summary>
    TierViolation,
    /// <summary>A NIC with no link.</summary>
    UnconnectedEndpoint,
    /// <summary>A switch with no link at all, or a leaf with no uplink in a plane that has spines.</summary>
    UnconnectedSwitch,
    /// <summary>A link longer than its medium reaches (a 20 m passive DAC will not train).</summary>
    ReachExceeded,
}

/// <summary>The kind of element a problem is about.</summary>
public enum ElementType
{
    /// <summary>A plane.</summary>
    Plane,
    /// <summary>A switch.</summary>
    Switch,
    /// <summary>A host.</summary>
    Host,
    /// <summary>A host NIC; the id is the host id and the name "host/mlx5_N".</summary>
    Nic,
    /// <summary>A link.</summary>
    Link,
}

/// <summary>One problem found in a topology.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="ElementType">Kind of element.</param>
/// <param name="ElementId">Id (index) of the element.</param>
/// <param name="Element">Display name: a switch or host name, "host/mlx5_N", or for links "link 12 (a -- b)".</param>
/// <param name="Message">What an operator needs to know to fix it.</param>
public sealed record ValidationProblem(ProblemKind Kind, ElementType ElementType, int ElementId, string Element, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Element}: {Message}";
}
