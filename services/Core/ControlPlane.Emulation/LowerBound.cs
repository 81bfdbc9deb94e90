using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Emulation;

/// <summary>A certified lower bound and the cut that gives it.</summary>
/// <param name="Seconds">No routing can move the demand across the cut faster (max over cuts of bytes / cut capacity).</param>
/// <param name="Cut">Which cut, e.g. "leaf p0-leaf-3 egress".</param>
public sealed record BoundResult(double Seconds, string Cut);

/// <summary>
/// Lower bound on the max switch-link load any routing (even fractional, splitting each demand over any paths) could
/// reach. Argument: for a set X of switches (with the hosts on its leaves), every byte from a host inside X to a host
/// outside must cross one of the live switch links leaving X, so the sum of their loads is at least demand(X to not X),
/// and the busiest of them has utilization at least demand / (sum of their capacities). The same holds inward. The
/// bound is the max over the cuts tried: each leaf alone, and each group (pod in FT3, scalable unit in rail-optimized)
/// with all its switches. Only deliverable demand counts (both NIC links up, a route exists), the same demand every
/// routing must carry.
/// </summary>
public static class LowerBound
{
    /// <summary>Computes the bound for a workload on the snapshot the routes were computed for (routes only decide deliverability).</summary>
    public static BoundResult Compute(FabricSnapshot snap, Workload workload, IForwardingTables routes)
    {
        var t = snap.Topology;
        var S = t.Switches.Count;
        var egress = new double[S];
        var ingress = new double[S];
        var groups = t.Switches.Where(s => s.Group >= 0).Select(s => s.Group).DefaultIfEmpty(-1).Max() + 1;
        var gEgress = new double[groups];
        var gIngress = new double[groups];
        foreach (var f in workload.Flows)
        {
            if (!snap.IsLinkUsable(f.SrcLink) || !snap.IsLinkUsable(f.DstLink)) continue;
            var (a, _) = Emulator.HostEnd(t, f.SrcLink, "flows.srcLink", true);
            var (b, _) = Emulator.HostEnd(t, f.DstLink, "flows.dstLink", false);
            if (a == b || t.Switches[a].Plane != t.Switches[b].Plane) continue;
            if ((uint)f.ClassIndex >= (uint)routes.Policy.Classes.Count || routes.GroupKey(a, b, f.ClassIndex) < 0) continue;
            egress[a] += f.Bytes;
            ingress[b] += f.Bytes;
            var ga = t.Switches[a].Group;
            var gb = t.Switches[b].Group;
            if (ga >= 0 && ga != gb) gEgress[ga] += f.Bytes;
            if (gb >= 0 && ga != gb) gIngress[gb] += f.Bytes;
        }
        var leafCap = new double[S];
        var groupCap = new double[groups];
        for (var l = 0; l < t.Links.Count; l++)
        {
            var link = t.Links[l];
            if (!link.IsSwitchLink || !snap.IsLinkUsable(l)) continue;
            leafCap[link.A.Device] += link.SpeedGbps;
            leafCap[link.B.Device] += link.SpeedGbps;
            var ga = t.Switches[link.A.Device].Group;
            var gb = t.Switches[link.B.Device].Group;
            if (ga == gb) continue;
            if (ga >= 0) groupCap[ga] += link.SpeedGbps;
            if (gb >= 0) groupCap[gb] += link.SpeedGbps;
        }
        double best = 0;
        var cut = "none";
        for (var s = 0; s < S; s++)
        {
            if (leafCap[s] <= 0) continue;
            var e = Emulator.Seconds(egress[s], leafCap[s]);
            var i = Emulator.Seconds(ingress[s], leafCap[s]);
            if (e > best) { best = e; cut = $"leaf {t.Switches[s].Name} egress"; }
            if (i > best) { best = i; cut = $"leaf {t.Switches[s].Name} ingress"; }
        }
        for (var g = 0; g < groups; g++)
        {
            if (groupCap[g] <= 0) continue;
            var e = Emulator.Seconds(gEgress[g], groupCap[g]);
            var i = Emulator.Seconds(gIngress[g], groupCap[g]);
            if (e > best) { best = e; cut = $"group {g} egress"; }
            if (i > best) { best = i; cut = $"group {g} ingress"; }
        }
        return new BoundResult(best, cut);
    }
}
