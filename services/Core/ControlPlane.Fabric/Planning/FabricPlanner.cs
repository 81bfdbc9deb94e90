using ControlPlane.Fabric.Serialization;

namespace ControlPlane.Fabric.Planning;

/// <summary>
/// Sizes, powers and prices a fabric design. Tree kinds (FT2, MPFT, FT3, rail-optimized) are counted from the
/// topology <see cref="FabricGenerator"/> builds, so the plan is exactly what would be cabled; Slim Fly and
/// Dragonfly are counted from formulas (<see cref="SlimFlyShape"/>, <see cref="DragonflyShape"/>).
/// </summary>
public static class FabricPlanner
{
    /// <summary>Media assumed for the analytical kinds: hosts on passive copper in the rack, local links on active copper, long links on DR8.</summary>
    public const MediumKind DirectHostMedium = MediumKind.PassiveDac, DirectLocalMedium = MediumKind.ActiveDac, DirectGlobalMedium = MediumKind.Dr8;

    /// <summary>Plans a design.</summary>
    /// <exception cref="FabricInputException">When the parameters or prices are invalid; every problem is listed.</exception>
    public static PlanReport Plan(GeneratorParameters p, PriceList prices)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(prices);
        var errors = prices.Validate().Select(e => e with { Field = "prices." + e.Field }).ToList();
        if (p.Kind is TopologyKind.SlimFly or TopologyKind.Dragonfly)
        {
            errors.InsertRange(0, ValidateDirect(p));
            if (errors.Count > 0) throw new FabricInputException(errors);
            return p.Kind == TopologyKind.SlimFly ? PlanSlimFly(p, prices) : PlanDragonfly(p, prices);
        }
        if (p.Kind == TopologyKind.Imported) errors.Insert(0, new("kind", "an imported fabric has no design to plan; use ft2, mpft, ft3, rail, slimfly or dragonfly"));
        else errors.InsertRange(0, p.Validate());
        if (errors.Count > 0) throw new FabricInputException(errors);
        return PlanTopology(FabricGenerator.Generate(p), prices);
    }

    /// <summary>Plans an existing topology (generated or imported): counts, media, power, bisection and cost.</summary>
    public static PlanReport PlanTopology(FabricTopology t, PriceList prices)
    {
        var p = t.Parameters;
        var speed = t.Switches.Count > 0 ? t.Switches.Max(s => s.PortSpeedGbps) : p?.PortSpeedGbps ?? 0;
        var tiers = t.Switches.GroupBy(s => s.Tier).OrderBy(g => g.Key).Select(g => new NamedCount(EnumNames.ToName(g.Key), g.Count())).ToArray();
        var media = new Dictionary<MediumKind, (long Links, double PowerW, double Cost)>();
        var roles = new long[Enum.GetValues<LinkRole>().Length];
        double hostGbps = 0;
        var perPlane = new (double Host, double LeafSpine, double SpineCore)[Math.Max(1, t.Planes.Count)];
        foreach (var l in t.Links)
        {
            roles[(int)l.Role]++;
            var info = MediaCatalog.Get(l.Medium);
            var cur = media.GetValueOrDefault(l.Medium);
            media[l.Medium] = (cur.Links + 1, cur.PowerW + 2 * info.PowerW(l.SpeedGbps), cur.Cost + prices.LinkUsd(l.Medium, !l.IsSwitchLink));
            if ((uint)l.Plane >= (uint)perPlane.Length) continue;
            switch (l.Role)
            {
                case LinkRole.Host: perPlane[l.Plane].Host += l.SpeedGbps; hostGbps += l.SpeedGbps; break;
                case LinkRole.LeafSpine: perPlane[l.Plane].LeafSpine += l.SpeedGbps; break;
                case LinkRole.SpineCore: perPlane[l.Plane].SpineCore += l.SpeedGbps; break;
            }
        }
        // Tree bisection: half of the narrowest layer, per plane (planes carry traffic in parallel).
        var bisectionGbps = perPlane.Sum(x => Math.Min(x.Host, x.SpineCore > 0 ? Math.Min(x.LeafSpine, x.SpineCore) : x.LeafSpine) / 2);
        var notes = new List<string>
        {
            "counted from the generated topology: what the generator would cable",
            "bisection: half of the narrowest tree layer, summed over planes",
        };
        if (p is not null && t.Hosts.Count * p.NicsPerNode != t.EndpointCount)
            notes.Add("some leaf ports are left free: endpoints are rounded down to whole nodes");
        var hostLinks = roles[(int)LinkRole.Host];
        return Build(
            kind: t.Kind, radix: p?.Radix ?? (t.Switches.Count > 0 ? t.Switches.Max(s => s.Radix) : 0), speed, planes: t.Planes.Count,
            oversub: p?.Oversubscription ?? 1, shape: Shape(t),
            endpoints: t.EndpointCount, nodes: t.Hosts.Count, gpus: t.Hosts.Sum(h => (long)h.Gpus),
            tiers, switches: t.Switches.Count, switchLinks: t.Links.Count - hostLinks, hostLinks,
            roles: roles.Select((c, i) => new NamedCount(EnumNames.ToName((LinkRole)i), c)).Where(x => x.Count > 0).ToArray(),
            media, bisectionGbps, estimate: false, analytical: false, prices, notes);
    }

    private static PlanReport PlanSlimFly(GeneratorParameters p, PriceList prices)
    {
        var sf = SlimFlyShape.ForRadix(p.Radix)!;
        var media = new Dictionary<MediumKind, (long, double, double)>();
        Add(media, DirectHostMedium, sf.Endpoints, p.PortSpeedGbps, prices, host: true);
        Add(media, DirectGlobalMedium, sf.Links, p.PortSpeedGbps, prices, host: false);
        // A diameter-2 graph: a balanced cut crosses about half of the links.
        var bisection = Math.Min(sf.Links / 2.0, sf.Endpoints / 2.0) * p.PortSpeedGbps;
        return Direct(p, prices, $"q={sf.Q}, δ={sf.Delta}, k'={sf.NetworkRadix}, p={sf.EndpointsPerSwitch}", sf.Endpoints, sf.Switches, sf.Links,
            [new("switchSwitch", sf.Links)], media, bisection,
            [
                $"Slim Fly (MMS graph): 2q² switches, k' = (3q-δ)/2 = {sf.NetworkRadix} network ports, p = {sf.EndpointsPerSwitch} endpoints per switch, {sf.NetworkRadix + sf.EndpointsPerSwitch} of {p.Radix} ports used",
                "analytical: no topology is generated; an MMS graph needs q to be a prime power",
                $"media assumed: host links {EnumNames.ToName(DirectHostMedium)}, switch links {EnumNames.ToName(DirectGlobalMedium)}",
                "bisection estimated as half of the switch links",
            ]);
    }

    private static PlanReport PlanDragonfly(GeneratorParameters p, PriceList prices)
    {
        var df = DragonflyShape.ForRadix(p.Radix)!;
        var media = new Dictionary<MediumKind, (long, double, double)>();
        Add(media, DirectHostMedium, df.Endpoints, p.PortSpeedGbps, prices, host: true);
        Add(media, DirectLocalMedium, df.IntraGroupLinks, p.PortSpeedGbps, prices, host: false);
        Add(media, DirectGlobalMedium, df.GlobalLinks, p.PortSpeedGbps, prices, host: false);
        // Global links spread evenly over group pairs; a cut into two halves of groups crosses g/(2(g-1)) of them.
        var cutLinks = df.GlobalLinks * (df.G / 2.0) * (df.G - df.G / 2) / (df.G * (df.G - 1) / 2.0);
        var bisection = Math.Min(cutLinks, df.Endpoints / 2.0) * p.PortSpeedGbps;
        return Direct(p, prices, $"a={df.A}, p={df.P}, h={df.H}, g={df.G}", df.Endpoints, df.Switches, df.Links,
            [new("intraGroup", df.IntraGroupLinks), new("global", df.GlobalLinks)], media, bisection,
            [
                $"Dragonfly: {df.G} groups of {df.A} switches, all-to-all inside a group, {df.H} global links and {df.P} endpoints per switch ({df.P + df.H + df.A - 1} of {p.Radix} ports used)",
                "analytical: no topology is generated",
                $"media assumed: host links {EnumNames.ToName(DirectHostMedium)}, intra-group {EnumNames.ToName(DirectLocalMedium)}, global {EnumNames.ToName(DirectGlobalMedium)}",
                "bisection estimated from global links crossing a cut of the groups in halves",
            ]);
    }

    private static PlanReport Direct(GeneratorParameters p, PriceList prices, string shape, long endpoints, long switches, long links,
        NamedCount[] roles, Dictionary<MediumKind, (long Links, double PowerW, double Cost)> media, double bisectionGbps, List<string> notes)
    {
        var nodes = endpoints / p.NicsPerNode;
        return Build(p.Kind, p.Radix, p.PortSpeedGbps, 1, 1, shape, endpoints, nodes, nodes * p.GpusPerNode,
            [new("router", switches)], switches, links, endpoints, [new("host", endpoints), .. roles], media, bisectionGbps,
            estimate: true, analytical: true, prices, notes);
    }

    private static void Add(Dictionary<MediumKind, (long Links, double PowerW, double Cost)> media, MediumKind m, long links, int speed, PriceList prices, bool host)
    {
        var cur = media.GetValueOrDefault(m);
        media[m] = (cur.Links + links, cur.PowerW + links * 2 * MediaCatalog.Get(m).PowerW(speed), cur.Cost + links * prices.LinkUsd(m, host));
    }

    private static PlanReport Build(TopologyKind kind, int radix, int speed, int planes, double oversub, string shape, long endpoints, long nodes, long gpus,
        NamedCount[] tiers, long switches, long switchLinks, long hostLinks, NamedCount[] roles,
        Dictionary<MediumKind, (long Links, double PowerW, double Cost)> media, double bisectionGbps, bool estimate, bool analytical,
        PriceList prices, List<string> notes)
    {
        var lines = media.OrderBy(m => m.Key).Select(m =>
        {
            var info = MediaCatalog.Get(m.Key);
            return new MediaLine(EnumNames.ToName(m.Key), info.ReachTier, m.Value.Links, info.IsModule ? 2 * m.Value.Links : 0, m.Value.Links, m.Value.PowerW, m.Value.Cost);
        }).ToArray();
        var reach = lines.GroupBy(l => l.ReachTier).Select(g => new NamedCount(g.Key, g.Sum(x => x.Links)))
            .OrderBy(r => Array.IndexOf(ReachOrder, r.Name)).ToArray();
        var switchKw = switches * prices.SwitchPowerW / 1000;
        var opticsKw = lines.Sum(l => l.PowerW) / 1000;
        var cost = switches * prices.SwitchUsd + lines.Sum(l => l.CostUsd);
        return new PlanReport(EnumNames.ToName(kind), radix, speed, planes, oversub, shape, endpoints, nodes, gpus, switches, tiers,
            switchLinks, hostLinks, roles, lines, reach, lines.Sum(l => l.Transceivers), lines.Sum(l => l.Cables),
            Math.Round(switchKw, 1), Math.Round(opticsKw, 1), Math.Round(switchKw + opticsKw, 1), Math.Round(bisectionGbps / 1000, 1), estimate,
            Math.Round(cost), endpoints > 0 ? Math.Round(cost / endpoints, 2) : 0, analytical, notes);
    }

    private static readonly string[] ReachOrder = ["rack", "row", "hall", "campus"];

    private static string Shape(FabricTopology t)
    {
        if (t.Parameters is not { } p) return "imported";
        return t.Kind switch
        {
            TopologyKind.Ft3 => $"{p.Pods ?? p.Radix} pods, leaf {p.LeafDownPorts} down / {p.LeafUpPorts} up",
            TopologyKind.Mpft => $"{p.PlaneCount} planes x {p.LeavesPerPlane ?? p.Radix} leaves, leaf {p.LeafDownPorts} down / {p.LeafUpPorts} up",
            _ => $"{p.LeavesPerPlane ?? p.Radix} leaves, leaf {p.LeafDownPorts} down / {p.LeafUpPorts} up",
        };
    }

    private static List<FieldError> ValidateDirect(GeneratorParameters p)
    {
        // Reuse the generator's checks except those that only apply to trees.
        var e = p.Validate().Where(x => x.Field is not ("kind" or "planes" or "radix" or "oversubscription" or "leavesPerPlane" or "pods")).ToList();
        if (p.Radix < 8 || p.Radix > GeneratorParameters.MaxRadix) e.Insert(0, new("radix", $"must be between 8 and {GeneratorParameters.MaxRadix} for {EnumNames.ToName(p.Kind)}, got {p.Radix}"));
        if (p.PlaneCount != 1) e.Add(new("planes", $"{EnumNames.ToName(p.Kind)} is planned as one plane, got {p.PlaneCount}"));
        if (p.Oversubscription != 1) e.Add(new("oversubscription", $"{EnumNames.ToName(p.Kind)} has no leaf tier to oversubscribe; use 1, got {p.Oversubscription}"));
        if (p.LeavesPerPlane is not null) e.Add(new("leavesPerPlane", $"does not apply to {EnumNames.ToName(p.Kind)}"));
        if (p.Pods is not null) e.Add(new("pods", $"does not apply to {EnumNames.ToName(p.Kind)}"));
        return e;
    }
}
