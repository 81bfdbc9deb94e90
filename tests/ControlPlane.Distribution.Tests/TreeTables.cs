using ControlPlane.Distribution;
using ControlPlane.Fabric;

namespace ControlPlane.Distribution.Tests;

/// <summary>Simple up/down ECMP tables for a two-tier tree, computed here independently of the routing engine.</summary>
internal static class TreeTables
{
    public static readonly string[] Classes = ["default", "ep"];

    public static FabricTopology Ft2(int radix) =>
        FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = radix, Name = "t", NicsPerNode = 1, GpusPerNode = 1 });

    public static IEnumerable<Link> SwitchLinks(FabricTopology t) => t.Links.Where(l => l.IsSwitchLink);

    /// <summary>Tables of every switch with the links in <paramref name="down"/> unusable.</summary>
    public static Dictionary<string, SwitchTable> Compute(FabricTopology t, ISet<int> down, ulong version, int groupSize = 12)
    {
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).ToList();
        var spines = t.Switches.Where(s => s.Tier != SwitchTier.Leaf).ToList();
        // spine id -> leaf id -> port on the spine facing that leaf (usable links only)
        var spineDown = new Dictionary<int, Dictionary<int, int>>();
        var leafUp = new Dictionary<int, List<(int Port, int Spine)>>();
        foreach (var l in SwitchLinks(t))
        {
            if (down.Contains(l.Id)) continue;
            var leaf = l.A.Device;
            var spine = l.B.Device;
            (spineDown.TryGetValue(spine, out var m) ? m : spineDown[spine] = [])[leaf] = l.B.Port;
            (leafUp.TryGetValue(leaf, out var u) ? u : leafUp[leaf] = []).Add((l.A.Port, spine));
        }
        var result = new Dictionary<string, SwitchTable>();
        foreach (var sw in t.Switches)
        {
            var groups = new Dictionary<string, NextHopGroup>();
            var routes = new List<KeyValuePair<RouteKey, RouteEntry>>();
            NextHopGroup GroupOf(List<int> ports)
            {
                var key = string.Join(",", ports.Order());
                if (!groups.TryGetValue(key, out var g))
                {
                    var members = ports.Order().Select((p, i) => new GroupMember(p, groupSize / ports.Count + (i < groupSize % ports.Count ? 1 : 0)));
                    groups[key] = g = new NextHopGroup(groups.Count + 1, members);
                }
                return g;
            }
            foreach (var dest in leaves)
            {
                List<int> ports;
                if (sw.Id == dest.Id) ports = [];
                else if (sw.Tier == SwitchTier.Leaf)
                    ports = leafUp.GetValueOrDefault(sw.Id, []).Where(u => spineDown.GetValueOrDefault(u.Spine)?.ContainsKey(dest.Id) == true).Select(u => u.Port).ToList();
                else
                    ports = spineDown.GetValueOrDefault(sw.Id)?.TryGetValue(dest.Id, out var p) == true ? [p] : [];
                if (sw.Id != dest.Id && ports.Count == 0) continue; // no route
                var gid = sw.Id == dest.Id ? SwitchTable.LocalGroup : GroupOf(ports).Id;
                foreach (var c in Classes)
                    routes.Add(new(new RouteKey(dest.Name, c), new RouteEntry(gid, c == "ep" ? SpreadMode.Spray : SpreadMode.Hash)));
            }
            result[sw.Name] = new SwitchTable(sw.Name, version, groupSize, groups.Values, routes);
        }
        return result;
    }
}
