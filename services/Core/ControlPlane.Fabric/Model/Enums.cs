namespace ControlPlane.Fabric;

/// <summary>Layer of a switch in a tree. Leaves face hosts; spines aggregate leaves; cores join pods (FT3).</summary>
public enum SwitchTier
{
    Leaf = 1,
    Spine = 2,
    Core = 3,
}

/// <summary>Topology families the generators and the planner know.</summary>
public enum TopologyKind
{
    /// <summary>Two-layer leaf/spine fat-tree.</summary>
    Ft2,
    /// <summary>Multi-plane fat-tree: P independent FT2 planes, NIC i of every node in plane i mod P.</summary>
    Mpft,
    /// <summary>Three-layer k-ary fat-tree with pods.</summary>
    Ft3,
    /// <summary>Rail-optimized two-layer tree: NIC r of every node in a scalable unit goes to that unit's rail-r leaf.</summary>
    RailOptimized,
    /// <summary>Slim Fly (MMS graph), planner only.</summary>
    SlimFly,
    /// <summary>Dragonfly (fully connected groups, one global link per pair of groups at least), planner only.</summary>
    Dragonfly,
    /// <summary>A fabric that came from an import (spec file or ibnetdiscover), not a generator.</summary>
    Imported,
}

/// <summary>Operational and administrative status of a link or switch as the control plane sees it.</summary>
public enum ElementStatus
{
    /// <summary>Carrying traffic.</summary>
    Up = 0,
    /// <summary>Failed or unplugged: carries nothing.</summary>
    Down = 1,
    /// <summary>Administratively taken out of routing (traffic moved away first), still physically up.</summary>
    Drained = 2,
    /// <summary>Under maintenance: out of routing, may flap, alarms suppressed.</summary>
    Maintenance = 3,
}

/// <summary>What a link joins.</summary>
public enum LinkRole
{
    /// <summary>Host NIC to leaf switch.</summary>
    Host = 0,
    /// <summary>Leaf to spine.</summary>
    LeafSpine = 1,
    /// <summary>Spine to core (FT3).</summary>
    SpineCore = 2,
    /// <summary>Switch to switch in a direct topology (Slim Fly, Dragonfly) or an imported fabric whose tiers do not say more.</summary>
    SwitchSwitch = 3,
}

/// <summary>The physical part that makes a link, from the reach table in DOMAIN.md.</summary>
public enum MediumKind
{
    /// <summary>Passive direct-attach copper, up to about 3 m, inside a rack.</summary>
    PassiveDac = 0,
    /// <summary>Active copper, up to about 7 m, adjacent racks.</summary>
    ActiveDac = 1,
    /// <summary>Active optical cable, 7 to 100 m.</summary>
    Aoc = 2,
    /// <summary>800G SR8 modules, multimode, up to 50 m.</summary>
    Sr8 = 3,
    /// <summary>800G DR8 / 2xDR4 modules, single-mode, up to 500 m.</summary>
    Dr8 = 4,
    /// <summary>800G 2xFR4 / 2FR4 modules, single-mode, up to 2 km.</summary>
    Fr4 = 5,
    /// <summary>800G LR8 modules, single-mode duplex LC, up to 10 km.</summary>
    Lr8 = 6,
}

/// <summary>Where a transceiver or cable end sits on a link.</summary>
public enum LinkSide
{
    A = 0,
    B = 1,
}
