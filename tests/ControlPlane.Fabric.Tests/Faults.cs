namespace ControlPlane.Fabric.Tests;

/// <summary>Injects one structural fault into a generated fabric, for validator tests.</summary>
internal static class Faults
{
    public static FabricTopology WithLinks(FabricTopology t, Func<List<Link>, List<Link>> edit)
    {
        var links = edit(t.Links.ToList()).Select((l, i) => l with { Id = i }).ToArray();
        // Transceivers point at link ids, which may have moved; they do not matter to the validator.
        return new FabricTopology(t.Name, t.Kind, t.Planes, t.Switches, t.Hosts, links, [], t.Parameters);
    }

    public static FabricTopology WithSwitches(FabricTopology t, Func<Switch[], Switch[]> edit) =>
        new(t.Name, t.Kind, t.Planes, edit(t.Switches.ToArray()), t.Hosts, t.Links, t.Transceivers, t.Parameters);

    public static FabricTopology DuplicateName(FabricTopology t) =>
        WithSwitches(t, s => { s[1] = s[1] with { Name = s[0].Name }; return s; });

    public static FabricTopology ReusePort(FabricTopology t) => WithLinks(t, ls =>
    {
        var hostLinks = ls.Where(l => l.Role == LinkRole.Host).ToList();
        var (first, second) = (hostLinks[0], hostLinks[1]);
        ls[second.Id] = second with { B = first.B };
        return ls;
    });

    public static FabricTopology UnplugNic(FabricTopology t) => WithLinks(t, ls =>
    {
        ls.RemoveAt(ls.FindIndex(l => l.Role == LinkRole.Host));
        return ls;
    });

    public static FabricTopology SpeedMismatch(FabricTopology t) => WithLinks(t, ls =>
    {
        var i = ls.FindIndex(l => l.IsSwitchLink);
        ls[i] = ls[i] with { SpeedGbps = ls[i].SpeedGbps / 2 };
        return ls;
    });

    /// <summary>Leaf 0's first uplink is re-plugged into leaf 1's first uplink port (whose own cable is removed).</summary>
    public static FabricTopology LeafToLeaf(FabricTopology t) => WithLinks(t, ls =>
    {
        var up = ls.Where(l => l.Role == LinkRole.LeafSpine).ToList();
        var leaf0 = up[0].A.Device;
        var other = up.First(l => l.A.Device != leaf0 && t.Switches[l.A.Device].Plane == t.Switches[leaf0].Plane);
        ls[up[0].Id] = up[0] with { B = other.A, Role = LinkRole.LeafSpine };
        ls.RemoveAt(other.Id);
        return ls;
    });

    /// <summary>A leaf-spine link re-plugged into a free port of a spine of another plane (needs leavesPerPlane &lt; radix).</summary>
    public static FabricTopology CrossPlane(FabricTopology t) => WithLinks(t, ls =>
    {
        var i = ls.FindIndex(l => l.Role == LinkRole.LeafSpine && t.Switches[l.A.Device].Plane == 0);
        var spine = t.Switches.First(s => s.Tier == SwitchTier.Spine && s.Plane == 1);
        var free = Enumerable.Range(1, spine.Radix).First(p => t.LinkAtSwitchPort(spine.Id, p) < 0);
        ls[i] = ls[i] with { B = LinkEnd.OnSwitch(spine.Id, free) };
        return ls;
    });
}
