using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// Capacity left in one plane, so hosts can move traffic between planes when one degrades (MPFT):
/// the share of switch-link capacity alive, destinations reachable, and per node the fraction of its nominal
/// injection/reception capacity still usable in this plane.
/// </summary>
/// <param name="Plane">Plane id.</param>
/// <param name="Name">Plane name.</param>
/// <param name="SwitchLinkCapacityFraction">Live / nominal switch-to-switch capacity.</param>
/// <param name="LiveSwitchFraction">Switches carrying traffic / all switches of the plane.</param>
/// <param name="UnreachablePairs">(source leaf, destination leaf) pairs with no route although both leaves are up.</param>
/// <param name="NodeCapacityFraction">Per host id: mean over its NICs in this plane of (NIC link usable) x (its leaf's live uplink fraction); 0 for hosts without a NIC here.</param>
public sealed record PlaneHealth(int Plane, string Name, double SwitchLinkCapacityFraction, double LiveSwitchFraction, int UnreachablePairs, IReadOnlyList<double> NodeCapacityFraction)
{
    /// <summary>Lowest node capacity fraction over the hosts that have a NIC in this plane.</summary>
    public double MinNodeCapacityFraction { get; init; }

    internal static PlaneHealth Compute(RoutingGraph g, FabricSnapshot snap, int plane, PlaneTables tables)
    {
        var topo = snap.Topology;
        double live = 0, total = 0;
        var liveSw = 0;
        var leafUp = new double[tables.Switches.Length]; // per local index; 0 for switches that are not destinations
        foreach (var s in tables.Switches)
        {
            if (snap.SwitchState(s).CarriesTraffic) liveSw++;
            double lu = 0, tu = 0;
            for (var e = g.AdjStart[s]; e < g.AdjStart[s + 1]; e++)
            {
                var usable = snap.IsLinkUsable(g.LinkOf[e]);
                if (e >= g.UpStart[s]) { tu += g.Cap[e]; if (usable) lu += g.Cap[e]; }
                if (e < g.UpStart[s]) continue; // count each link once, from its lower end
                total += g.Cap[e];
                if (usable) live += g.Cap[e];
            }
            if (g.DestIndex[s] >= 0) leafUp[g.LocalIndex[s]] = tu > 0 ? lu / tu : (snap.SwitchState(s).CarriesTraffic ? 1 : 0);
        }
        var unreachable = 0;
        var dc = tables.Dests.Length;
        var entries = tables.Entries[0];
        var destUp = new bool[dc];
        for (var di = 0; di < dc; di++) destUp[di] = snap.SwitchState(tables.Dests[di]).CarriesTraffic;
        for (var si = 0; si < dc; si++)
        {
            if (!destUp[si]) continue;
            var row = g.LocalIndex[tables.Dests[si]] * dc;
            for (var di = 0; di < dc; di++)
                if (entries[row + di] == (int)RouteKind.NoRoute && destUp[di]) unreachable++;
        }
        var node = new double[topo.Hosts.Count];
        var nics = new int[topo.Hosts.Count];
        foreach (var s in tables.Switches)
        {
            for (var i = g.HostLinkStart[s]; i < g.HostLinkStart[s + 1]; i++)
            {
                var l = g.HostLinks[i];
                var link = topo.Links[l];
                var h = link.A.IsHost ? link.A.Device : link.B.Device;
                nics[h]++;
                if (snap.IsLinkUsable(l)) node[h] += leafUp[g.LocalIndex[s]];
            }
        }
        var min = 1.0;
        for (var h = 0; h < node.Length; h++)
        {
            if (nics[h] == 0) continue;
            node[h] /= nics[h];
            min = Math.Min(min, node[h]);
        }
        var name = plane < topo.Planes.Count ? topo.Planes[plane].Name : $"plane-{plane}";
        return new PlaneHealth(plane, name, total > 0 ? live / total : 1, tables.Switches.Length > 0 ? (double)liveSw / tables.Switches.Length : 1, unreachable, node)
        {
            MinNodeCapacityFraction = min,
        };
    }
}
