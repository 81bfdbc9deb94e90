namespace ControlPlane.Fabric.Validation;

/// <summary>
/// One cable as a neighbour list reports it (LLDP, ibnetdiscover): this device's port sees that device's port.
/// For a host the port is the NIC index (mlx5_N); for a switch the 1-based port number.
/// </summary>
/// <param name="LocalDevice">Switch or host name.</param>
/// <param name="LocalPort">Port number or NIC index.</param>
/// <param name="RemoteDevice">Switch or host name.</param>
/// <param name="RemotePort">Port number or NIC index.</param>
public sealed record DiscoveredLink(string LocalDevice, int LocalPort, string RemoteDevice, int RemotePort);

/// <summary>A cable shown by its two ends, e.g. "leaf-1/3" and "node01/mlx5_0".</summary>
/// <param name="A">One end.</param>
/// <param name="B">The other end.</param>
public sealed record Cable(string A, string B)
{
    /// <inheritdoc/>
    public override string ToString() => $"{A} -- {B}";
}

/// <summary>Two planned cables found with their far ends exchanged: each was plugged into the other's port.</summary>
/// <param name="Planned1">First planned cable.</param>
/// <param name="Planned2">Second planned cable.</param>
/// <param name="Seen1">What was found at the first cable's near end.</param>
/// <param name="Seen2">What was found at the second cable's near end.</param>
public sealed record SwappedCables(Cable Planned1, Cable Planned2, Cable Seen1, Cable Seen2);

/// <summary>A cable that reaches the right device but the wrong port.</summary>
/// <param name="Planned">The cable the plan has.</param>
/// <param name="Seen">The cable found.</param>
/// <param name="Fix">What to do, e.g. "move the cable at spine-3/7 to spine-3/5".</param>
public sealed record MiscabledLink(Cable Planned, Cable Seen, string Fix);

/// <summary>Result of comparing a cabling plan with what the fabric reports.</summary>
/// <param name="Matched">Planned cables found where planned.</param>
/// <param name="Missing">Planned, not seen (and not explained as swapped or miscabled).</param>
/// <param name="Unexpected">Seen, not planned (and not explained as swapped or miscabled).</param>
/// <param name="Swapped">Pairs of planned cables whose far ends are exchanged.</param>
/// <param name="Miscabled">Cables on the right device but the wrong port.</param>
public sealed record CablingReport(int Matched, IReadOnlyList<Cable> Missing, IReadOnlyList<Cable> Unexpected, IReadOnlyList<SwappedCables> Swapped, IReadOnlyList<MiscabledLink> Miscabled)
{
    /// <summary>True when every planned cable was found where planned and nothing else was seen.</summary>
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && Swapped.Count == 0 && Miscabled.Count == 0;
}

/// <summary>
/// Compares a planned topology with discovered neighbour lists, the way SREs find miswired cables in a new
/// cluster: exact matches, then swapped pairs, then cables on the right device but the wrong port, and what is
/// left is missing or unexpected.
/// </summary>
public static class CablingValidator
{
    private readonly record struct End(string Device, int Port);

    private readonly record struct Pair(End A, End B)
    {
        public static Pair Of(End x, End y) =>
            string.CompareOrdinal(x.Device, y.Device) < 0 || (x.Device == y.Device && x.Port <= y.Port) ? new(x, y) : new(y, x);

        public End Other(End e) => e == A ? B : A;
    }

    /// <summary>Compares the plan with what was discovered. Each cable may be reported from both ends; duplicates are merged.</summary>
    public static CablingReport Compare(FabricTopology plan, IEnumerable<DiscoveredLink> discovered)
    {
        ArgumentNullException.ThrowIfNull(discovered);
        var planned = new HashSet<Pair>();
        var plannedAt = new Dictionary<End, Pair>();
        foreach (var l in plan.Links)
        {
            var pr = Pair.Of(ToEnd(plan, l.A), ToEnd(plan, l.B));
            if (!planned.Add(pr)) continue;
            plannedAt.TryAdd(pr.A, pr);
            plannedAt.TryAdd(pr.B, pr);
        }
        var seen = new HashSet<Pair>();
        foreach (var d in discovered) seen.Add(Pair.Of(new End(d.LocalDevice, d.LocalPort), new End(d.RemoteDevice, d.RemotePort)));

        var matched = 0;
        var missing = new HashSet<Pair>();
        foreach (var pr in planned)
        {
            if (seen.Remove(pr)) matched++;
            else missing.Add(pr);
        }
        var unexpected = seen; // what is left
        var seenAt = new Dictionary<End, Pair>();
        foreach (var s in unexpected) { seenAt.TryAdd(s.A, s); seenAt.TryAdd(s.B, s); }

        // Swapped: seen {x, y} where x was planned to px and y to py, and {px, py} is seen too.
        var swapped = new List<SwappedCables>();
        foreach (var s in unexpected.OrderBy(Key).ToList())
        {
            if (!unexpected.Contains(s)) continue;
            if (!plannedAt.TryGetValue(s.A, out var p1) || !plannedAt.TryGetValue(s.B, out var p2) || p1 == p2) continue;
            if (!missing.Contains(p1) || !missing.Contains(p2)) continue;
            var other = Pair.Of(p1.Other(s.A), p2.Other(s.B));
            if (other == s || !unexpected.Contains(other)) continue;
            swapped.Add(new SwappedCables(Show(plan, p1), Show(plan, p2), Show(plan, s), Show(plan, other)));
            missing.Remove(p1); missing.Remove(p2);
            unexpected.Remove(s); unexpected.Remove(other);
        }

        // Miscabled: seen {x, y} where x was planned to w, and y is another port of w's device.
        var miscabled = new List<MiscabledLink>();
        foreach (var s in unexpected.OrderBy(Key).ToList())
        {
            foreach (var (near, far) in new[] { (s.A, s.B), (s.B, s.A) })
            {
                if (!plannedAt.TryGetValue(near, out var p) || !missing.Contains(p)) continue;
                var want = p.Other(near);
                if (want.Device != far.Device || want.Port == far.Port) continue;
                miscabled.Add(new MiscabledLink(Show(plan, p), Show(plan, s), $"move the cable from {Show(plan, far)} to {Show(plan, want)}"));
                missing.Remove(p);
                unexpected.Remove(s);
                break;
            }
        }

        return new CablingReport(
            matched,
            missing.OrderBy(Key).Select(p => Show(plan, p)).ToArray(),
            unexpected.OrderBy(Key).Select(p => Show(plan, p)).ToArray(),
            swapped,
            miscabled);
    }

    /// <summary>The neighbour list of a discovered topology (for instance an ibnetdiscover import), one entry per cable.</summary>
    public static IReadOnlyList<DiscoveredLink> DiscoveredLinks(FabricTopology discovered) =>
        discovered.Links.Select(l =>
        {
            var (ad, ap) = NameOf(discovered, l.A);
            var (bd, bp) = NameOf(discovered, l.B);
            return new DiscoveredLink(ad, ap, bd, bp);
        }).ToArray();

    private static (string Device, int Port) NameOf(FabricTopology t, LinkEnd e) =>
        e.IsHost
            ? ((uint)e.Device < (uint)t.Hosts.Count ? t.Hosts[e.Device].Name : $"host#{e.Device}", e.Port)
            : ((uint)e.Device < (uint)t.Switches.Count ? t.Switches[e.Device].Name : $"switch#{e.Device}", e.Port);

    private static End ToEnd(FabricTopology t, LinkEnd e)
    {
        var (d, p) = NameOf(t, e);
        return new End(d, p);
    }

    private static string Key(Pair p) => $"{p.A.Device}\u0001{p.A.Port:D5}\u0001{p.B.Device}\u0001{p.B.Port:D5}";

    // Host end first, as cabling sheets list them.
    private static Cable Show(FabricTopology plan, Pair p) =>
        plan.FindHost(p.B.Device) >= 0 && plan.FindHost(p.A.Device) < 0 ? new(Show(plan, p.B), Show(plan, p.A)) : new(Show(plan, p.A), Show(plan, p.B));

    private static string Show(FabricTopology plan, End e) => plan.FindHost(e.Device) >= 0 ? $"{e.Device}/mlx5_{e.Port}" : $"{e.Device}/{e.Port}";
}
