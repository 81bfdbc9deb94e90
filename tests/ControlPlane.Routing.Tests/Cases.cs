using ControlPlane.Fabric;

namespace ControlPlane.Routing.Tests;

/// <summary>Random small fabrics with random failures and drains, built from a seed.</summary>
internal static class Cases
{
    public static FabricTopology RandomTopology(Random r)
    {
        var kind = r.Next(4) switch { 0 => TopologyKind.Ft2, 1 => TopologyKind.Mpft, 2 => TopologyKind.Ft3, _ => TopologyKind.RailOptimized };
        var radix = kind == TopologyKind.Ft3 ? 2 * r.Next(2, 5) : 2 * r.Next(2, 9);
        var os = r.Next(3) == 0 ? 3.0 : 1.0;
        var p = new GeneratorParameters { Kind = kind, Radix = radix, Oversubscription = os, Name = "t" };
        if (kind == TopologyKind.Mpft) p = p with { Planes = 2, NicsPerNode = 2, GpusPerNode = 2 };
        if (kind == TopologyKind.RailOptimized) p = p with { NicsPerNode = 2, GpusPerNode = 2, LeavesPerPlane = Math.Max(2, radix - radix % 2) };
        if (kind is TopologyKind.Ft2 or TopologyKind.Ft3) p = p with { NicsPerNode = 1, GpusPerNode = 1 };
        if (kind == TopologyKind.Ft3 && r.Next(2) == 0) p = p with { Pods = r.Next(2, radix + 1) };
        if (kind is TopologyKind.Ft2 or TopologyKind.Mpft && r.Next(2) == 0) p = p with { LeavesPerPlane = r.Next(2, radix + 1) };
        return FabricGenerator.Generate(p);
    }

    /// <summary>Random link failures (0 to 30 %), a few switch failures, drains and maintenance.</summary>
    public static FabricSnapshot RandomFailures(FabricTopology t, Random r)
    {
        var snap = FabricSnapshot.Initial(t);
        var frac = r.NextDouble() * 0.3;
        var links = new List<KeyValuePair<int, ElementState>>();
        foreach (var l in t.Links)
            if (l.IsSwitchLink && r.NextDouble() < frac) links.Add(new(l.Id, new ElementState(r.Next(3) == 0 ? ElementStatus.Drained : ElementStatus.Down)));
        var switches = new List<KeyValuePair<int, ElementState>>();
        var nsw = r.Next(3);
        for (var i = 0; i < nsw; i++)
            switches.Add(new(r.Next(t.Switches.Count), new ElementState((ElementStatus)r.Next(1, 4))));
        return snap.With(links, switches);
    }

    public static (FabricTopology, FabricSnapshot) Random(int seed)
    {
        var r = new Random(seed);
        var t = RandomTopology(r);
        return (t, RandomFailures(t, r));
    }

    /// <summary>Switches reachable from d over usable links (brute force).</summary>
    public static HashSet<int> Reachable(FabricSnapshot snap, int d)
    {
        var t = snap.Topology;
        var seen = new HashSet<int>();
        if (!snap.SwitchState(d).CarriesTraffic) return seen;
        var q = new Queue<int>();
        seen.Add(d);
        q.Enqueue(d);
        while (q.Count > 0)
        {
            var x = q.Dequeue();
            foreach (var l in t.SwitchPortLinks(x))
            {
                if (l < 0 || !snap.IsLinkUsable(l)) continue;
                var o = t.Opposite(l, x);
                if (o.IsHost) continue;
                if (seen.Add(o.Device)) q.Enqueue(o.Device);
            }
        }
        return seen;
    }

    public static IEnumerable<int> Leaves(FabricTopology t) => t.Switches.Where(s => s.Tier == SwitchTier.Leaf).Select(s => s.Id);
}
