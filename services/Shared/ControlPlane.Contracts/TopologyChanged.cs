namespace ControlPlane.Contracts;

/// <summary>What happened to a fabric's topology.</summary>
public enum TopologyChangeKind
{
    /// <summary>A fabric was created from a generator.</summary>
    Created = 0,
    /// <summary>The status of one or more links or switches changed (drain, undrain, maintenance, down, up).</summary>
    StateChanged = 1,
    /// <summary>The fabric was deleted.</summary>
    Deleted = 2,
    /// <summary>A fabric was created from an imported spec or ibnetdiscover output.</summary>
    Imported = 3,
}

/// <summary>One element whose status changed, or the fabric itself for create/delete.</summary>
public sealed record ElementChange
{
    /// <summary>"link", "switch" or "fabric".</summary>
    public required string Element { get; init; }

    /// <summary>Id of the element in its fabric (link id, switch id) or the fabric name.</summary>
    public required string Id { get; init; }

    /// <summary>Display name (switch name, link "a &lt;-&gt; b", fabric name).</summary>
    public required string Name { get; init; }

    /// <summary>Status before ("up", "drained", ...), null for a new element.</summary>
    public string? From { get; init; }

    /// <summary>Status after, null for a deleted element.</summary>
    public string? To { get; init; }

    /// <summary>Why, as the operator gave it.</summary>
    public string? Reason { get; init; }

    /// <summary>Who made the change.</summary>
    public string? By { get; init; }
}

/// <summary>Event: a fabric's topology moved from <see cref="PreviousVersion"/> to <see cref="Version"/>.</summary>
public sealed record TopologyChanged
{
    /// <summary>Fabric name.</summary>
    public required string FabricName { get; init; }

    /// <summary>New version (after the change).</summary>
    public required long Version { get; init; }

    /// <summary>Version before the change; 0 for a new fabric.</summary>
    public required long PreviousVersion { get; init; }

    /// <summary>What kind of change.</summary>
    public required TopologyChangeKind Kind { get; init; }

    /// <summary>The elements that changed.</summary>
    public required IReadOnlyList<ElementChange> Changes { get; init; }

    /// <summary>When the change was committed.</summary>
    public required DateTimeOffset At { get; init; }
}
