using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Emulation;

/// <summary>
/// Max-min fair rates by progressive filling (water-filling). A flow group is n flows sharing one rate and one use
/// vector (fraction of its rate on each resource: 1 per link for a hashed path, the spray split for sprayed
/// aggregates). Resources are switch-link directions plus, per leaf, the pooled capacity of its usable NIC links
/// out of and into the leaf. Every round raises the common rate of unfrozen flows until a resource saturates, then
/// freezes the flows crossing it.
/// </summary>
internal static class MaxMin
{
    public static bool Run(IForwardingTables routes, PortMap map, Spreader spreader,
        Dictionary<(int Src, int Dst, int Cls), (double Bytes, int Flows)> sprayAgg,
        Dictionary<Emulator.PathKey, (double Bytes, int Flows, int[] Dirs)> pathGroups,
        Dictionary<(int, int, int), (double, int)> localGroups,
        long budget, double[] throughput, double[] completion)
    {
        var snap = routes.Snapshot;
        var t = snap.Topology;
        var L = t.Links.Count;
        var S = t.Switches.Count;
        var R = 2 * L + 2 * S;
        var cap = new double[R];
        for (var l = 0; l < L; l++)
        {
            var link = t.Links[l];
            if (!snap.IsLinkUsable(l)) continue;
            if (link.IsSwitchLink) { cap[2 * l] = link.SpeedGbps; cap[2 * l + 1] = link.SpeedGbps; continue; }
            var leaf = link.A.IsHost ? link.B.Device : link.A.Device;
            cap[2 * L + leaf] += link.SpeedGbps;
            cap[2 * L + S + leaf] += link.SpeedGbps;
        }

        var gStart = new List<int> { 0 };
        var eRes = new List<int>();
        var eCoef = new List<double>();
        var gN = new List<int>();
        var gBytes = new List<double>();
        var gCls = new List<int>();
        void Add(int src, int dst, int cls, double bytes, int n)
        {
            eRes.Add(2 * L + src); eCoef.Add(1);
            eRes.Add(2 * L + S + dst); eCoef.Add(1);
            gN.Add(n); gBytes.Add(bytes); gCls.Add(cls); gStart.Add(eRes.Count);
        }
        foreach (var ((src, dst, cls), (bytes, n)) in localGroups) Add(src, dst, cls, bytes, n);
        foreach (var (k, v) in pathGroups)
        {
            foreach (var d in v.Dirs) { eRes.Add(d); eCoef.Add(1); }
            Add(k.Src, k.Dst, k.Cls, v.Bytes, v.Flows);
            if (eRes.Count > budget) return false;
        }
        foreach (var ((src, dst, cls), (bytes, n)) in sprayAgg)
        {
            spreader.Push(dst, cls, [(src, 1.0)], (ld, frac) => { eRes.Add(ld); eCoef.Add(frac); });
            Add(src, dst, cls, bytes, n);
            if (eRes.Count > budget) return false;
        }

        var G = gN.Count;
        var A = new double[R];
        var U = new double[R];
        for (var g = 0; g < G; g++)
            for (var e = gStart[g]; e < gStart[g + 1]; e++) A[eRes[e]] += gN[g] * eCoef[e];
        // Reverse index: resource -> groups.
        var rCount = new int[R + 1];
        for (var e = 0; e < eRes.Count; e++) rCount[eRes[e] + 1]++;
        for (var r = 0; r < R; r++) rCount[r + 1] += rCount[r];
        var rGroups = new int[eRes.Count];
        var fill = (int[])rCount.Clone();
        for (var g = 0; g < G; g++)
            for (var e = gStart[g]; e < gStart[g + 1]; e++) rGroups[fill[eRes[e]]++] = g;

        var rate = new double[G];
        var frozen = new bool[G];
        var active = G;
        while (active > 0)
        {
            var best = double.PositiveInfinity;
            for (var r = 0; r < R; r++)
            {
                if (A[r] <= 1e-12) continue;
                var lvl = Math.Max(0, cap[r] - U[r]) / A[r];
                if (lvl < best) best = lvl;
            }
            if (double.IsPositiveInfinity(best)) break;
            var froze = 0;
            for (var r = 0; r < R; r++)
            {
                if (A[r] <= 1e-12) continue;
                var lvl = Math.Max(0, cap[r] - U[r]) / A[r];
                if (lvl > best * (1 + 1e-9) + 1e-12) continue;
                for (var i = rCount[r]; i < rCount[r + 1]; i++)
                {
                    var g = rGroups[i];
                    if (frozen[g]) continue;
                    frozen[g] = true;
                    rate[g] = best;
                    froze++;
                    for (var e = gStart[g]; e < gStart[g + 1]; e++)
                    {
                        var use = gN[g] * eCoef[e];
                        U[eRes[e]] += use * best;
                        A[eRes[e]] -= use;
                    }
                }
            }
            active -= froze;
            if (froze == 0) break;
        }
        for (var g = 0; g < G; g++)
        {
            var c = gCls[g];
            throughput[c] += gN[g] * rate[g];
            var sec = rate[g] > 0 ? gBytes[g] * 8 / (gN[g] * rate[g] * 1e9) : double.PositiveInfinity;
            completion[c] = Math.Max(completion[c], sec);
        }
        return true;
    }
}
