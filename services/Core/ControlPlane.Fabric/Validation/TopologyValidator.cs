namespace ControlPlane.Fabric.Validation;

/// <summary>
/// Checks a topology for every structural problem (see <see cref="ProblemKind"/>); it never stops at the first.
/// Linear in elements: a 65,536-endpoint FT3 takes tens of milliseconds.
/// </summary>
public static class TopologyValidator
{
    /// <summary>Every problem, grouped by check, in element order within a check. Empty when the topology is sound.</summary>
    public static IReadOnlyList<ValidationProblem> Validate(FabricTopology t)
    {
        var p = new List<ValidationProblem>();
        CheckNames(t, p);
        var switchLinks = new int[t.Switches.Count];
        var uplinks = new int[t.Switches.Count];
        for (var i = 0; i < t.Links.Count; i++) CheckLink(t, t.Links[i], switchLinks, uplinks, p);
        CheckEndpoints(t, p);
        CheckSwitches(t, switchLinks, uplinks, p);
        return p;
    }

    private static void CheckNames(FabricTopology t, List<ValidationProblem> p)
    {
        var planes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pl in t.Planes)
            if (!planes.TryAdd(pl.Name, pl.Id)) p.Add(new(ProblemKind.DuplicateName, ElementType.Plane, pl.Id, pl.Name, $"plane name also used by plane {planes[pl.Name]}"));
        var names = new Dictionary<string, string>(t.Switches.Count + t.Hosts.Count, StringComparer.Ordinal);
        foreach (var s in t.Switches)
            if (!names.TryAdd(s.Name, $"switch {s.Id}")) p.Add(new(ProblemKind.DuplicateName, ElementType.Switch, s.Id, s.Name, $"name also used by {names[s.Name]}"));
        foreach (var h in t.Hosts)
            if (!names.TryAdd(h.Name, $"host {h.Id}")) p.Add(new(ProblemKind.DuplicateName, ElementType.Host, h.Id, h.Name, $"name also used by {names[h.Name]}"));
    }

    private static void CheckLink(FabricTopology t, Link l, int[] switchLinks, int[] uplinks, List<ValidationProblem> p)
    {
        var reach = MediaCatalog.Get(l.Medium).MaxReachM;
        if (l.LengthM > reach)
            p.Add(Problem(t, ProblemKind.ReachExceeded, l, $"{l.LengthM} m is beyond the {reach} m reach of {l.Medium}; use {MediaCatalog.ForLength(Math.Min(l.LengthM, 10000), l.Role == LinkRole.Host)}"));
        var okA = CheckEnd(t, l, l.A, "a", p);
        var okB = CheckEnd(t, l, l.B, "b", p);
        if (okA && okB && l.A == l.B) p.Add(Problem(t, ProblemKind.PortUsedTwice, l, $"both ends are on {t.Describe(l.A)}"));
        if (okA && !l.A.IsHost) switchLinks[l.A.Device]++;
        if (okB && !l.B.IsHost) switchLinks[l.B.Device]++;
        if (!okA || !okB) return;

        // Speed: a link trained below (or above) its port rate is a bad optic, cable or setting.
        var slow = SpeedOf(t, l.A) != l.SpeedGbps ? l.A : SpeedOf(t, l.B) != l.SpeedGbps ? l.B : (LinkEnd?)null;
        if (slow is { } se)
            p.Add(Problem(t, ProblemKind.SpeedMismatch, l, $"link runs at {l.SpeedGbps} Gb/s but {t.Describe(se)} is a {SpeedOf(t, se)} Gb/s port"));

        var pa = PlaneOf(t, l.A);
        var pb = PlaneOf(t, l.B);
        if (pa != pb) p.Add(Problem(t, ProblemKind.CrossPlaneLink, l, $"{t.Describe(l.A)} is in plane {pa} but {t.Describe(l.B)} is in plane {pb}; planes never meet inside the fabric"));
        else if (l.Plane != pa) p.Add(Problem(t, ProblemKind.CrossPlaneLink, l, $"labelled plane {l.Plane} but both ends are in plane {pa}"));

        CheckTiers(t, l, uplinks, p);
    }

    private static void CheckTiers(FabricTopology t, Link l, int[] uplinks, List<ValidationProblem> p)
    {
        if (l.A.IsHost && l.B.IsHost) { p.Add(Problem(t, ProblemKind.TierViolation, l, "host to host cable: hosts connect only to leaves")); return; }
        if (l.A.IsHost || l.B.IsHost)
        {
            var sw = t.Switches[(l.A.IsHost ? l.B : l.A).Device];
            if (sw.Tier != SwitchTier.Leaf) p.Add(Problem(t, ProblemKind.TierViolation, l, $"host on a {Name(sw.Tier)}: {sw.Name} is a {Name(sw.Tier)}, hosts connect only to leaves"));
            else if (l.Role != LinkRole.Host) p.Add(Problem(t, ProblemKind.TierViolation, l, $"role is {l.Role} but the link joins a host and a leaf"));
            return;
        }
        var a = t.Switches[l.A.Device];
        var b = t.Switches[l.B.Device];
        if (l.Role == LinkRole.SwitchSwitch && t.Kind is TopologyKind.SlimFly or TopologyKind.Dragonfly) return; // direct topologies have no tiers
        var (lo, hi) = a.Tier <= b.Tier ? (a, b) : (b, a);
        if (lo.Tier == hi.Tier) { p.Add(Problem(t, ProblemKind.TierViolation, l, $"{Name(lo.Tier)} to {Name(hi.Tier)}: {a.Name} and {b.Name} are both {Plural(lo.Tier)}")); return; }
        if (hi.Tier - lo.Tier > 1) { p.Add(Problem(t, ProblemKind.TierViolation, l, $"skips a tier: {lo.Name} ({Name(lo.Tier)}) to {hi.Name} ({Name(hi.Tier)})")); return; }
        var expected = lo.Tier == SwitchTier.Leaf ? LinkRole.LeafSpine : LinkRole.SpineCore;
        if (l.Role != expected) p.Add(Problem(t, ProblemKind.TierViolation, l, $"role is {l.Role} but the link joins a {Name(lo.Tier)} and a {Name(hi.Tier)} ({expected})"));
        uplinks[lo.Id]++;
    }

    /// <summary>True when the end exists; reports unknown devices, out-of-range ports and ports taken by another link.</summary>
    private static bool CheckEnd(FabricTopology t, Link l, LinkEnd e, string side, List<ValidationProblem> p)
    {
        if (e.IsHost)
        {
            if ((uint)e.Device >= (uint)t.Hosts.Count) { p.Add(Problem(t, ProblemKind.UnknownPort, l, $"end {side} names host #{e.Device}, which does not exist ({t.Hosts.Count} hosts)")); return false; }
            var h = t.Hosts[e.Device];
            if ((uint)e.Port >= (uint)h.Nics.Count) { p.Add(Problem(t, ProblemKind.UnknownPort, l, $"end {side}: {h.Name} has no mlx5_{e.Port} (it has {h.Nics.Count} NICs)")); return false; }
            var owner = t.LinkAtHostNic(e.Device, e.Port);
            if (owner != l.Id) { p.Add(Problem(t, ProblemKind.PortUsedTwice, l, $"{t.Describe(e)} is already cabled by link {owner} ({t.Describe(t.Links[owner].A)} -- {t.Describe(t.Links[owner].B)})")); return false; }
            return true;
        }
        if ((uint)e.Device >= (uint)t.Switches.Count) { p.Add(Problem(t, ProblemKind.UnknownPort, l, $"end {side} names switch #{e.Device}, which does not exist ({t.Switches.Count} switches)")); return false; }
        var s = t.Switches[e.Device];
        if (e.Port < 1 || e.Port > s.Radix) { p.Add(Problem(t, ProblemKind.UnknownPort, l, $"end {side}: {s.Name} has ports 1..{s.Radix}, not {e.Port}")); return false; }
        var first = t.LinkAtSwitchPort(e.Device, e.Port);
        if (first != l.Id) { p.Add(Problem(t, ProblemKind.PortUsedTwice, l, $"{t.Describe(e)} is already cabled by link {first} ({t.Describe(t.Links[first].A)} -- {t.Describe(t.Links[first].B)})")); return false; }
        return true;
    }

    private static void CheckEndpoints(FabricTopology t, List<ValidationProblem> p)
    {
        foreach (var h in t.Hosts)
        {
            for (var n = 0; n < h.Nics.Count; n++)
            {
                if (t.LinkAtHostNic(h.Id, n) < 0)
                    p.Add(new(ProblemKind.UnconnectedEndpoint, ElementType.Nic, h.Id, $"{h.Name}/mlx5_{n}", $"NIC has no link (plane {h.Nics[n].Plane}): the GPU behind it cannot reach the fabric"));
            }
        }
    }

    private static void CheckSwitches(FabricTopology t, int[] switchLinks, int[] uplinks, List<ValidationProblem> p)
    {
        var planeHasSpines = new HashSet<int>();
        foreach (var s in t.Switches) if (s.Tier != SwitchTier.Leaf) planeHasSpines.Add(s.Plane);
        foreach (var s in t.Switches)
        {
            if (switchLinks[s.Id] == 0)
                p.Add(new(ProblemKind.UnconnectedSwitch, ElementType.Switch, s.Id, s.Name, $"{Name(s.Tier)} has no link at all"));
            else if (s.Tier == SwitchTier.Leaf && uplinks[s.Id] == 0 && planeHasSpines.Contains(s.Plane) && t.Kind is not (TopologyKind.SlimFly or TopologyKind.Dragonfly))
                p.Add(new(ProblemKind.UnconnectedSwitch, ElementType.Switch, s.Id, s.Name, "leaf has no uplink to a spine: its hosts can reach only each other"));
        }
    }

    private static int SpeedOf(FabricTopology t, LinkEnd e) =>
        e.IsHost ? t.Hosts[e.Device].Nics[e.Port].SpeedGbps : t.Switches[e.Device].PortSpeedGbps;

    private static int PlaneOf(FabricTopology t, LinkEnd e) =>
        e.IsHost ? t.Hosts[e.Device].Nics[e.Port].Plane : t.Switches[e.Device].Plane;

    private static ValidationProblem Problem(FabricTopology t, ProblemKind kind, Link l, string message) =>
        new(kind, ElementType.Link, l.Id, $"link {l.Id} ({t.Describe(l.A)} -- {t.Describe(l.B)})", message);

    private static string Plural(SwitchTier tier) => tier switch { SwitchTier.Leaf => "leaves", SwitchTier.Spine => "spines", _ => "cores" };

    private static string Name(SwitchTier tier) => tier switch { SwitchTier.Leaf => "leaf", SwitchTier.Spine => "spine", _ => "core" };
}
