using System.Globalization;
using System.Text.RegularExpressions;

namespace ControlPlane.Fabric.Serialization;

/// <summary>The second half of the ibnetdiscover reader: resolved cables to a topology with planes, tiers, hosts and NICs.</summary>
internal static partial class IbNetDiscoverParser
{
    // "node01 mlx5_3" (NIC 3) or "node01 HCA-2" (NIC 1); anything else is not a host NIC name.
    [GeneratedRegex(@"^(\S+)\s+(?:mlx\d+_(\d+)|HCA-(\d+))$")]
    private static partial Regex CaDescRegex();

    private static FabricTopology Build(string name, List<Node> order, Dictionary<string, Node> nodes, List<RawLink> raw, List<FieldError> e)
    {
        var switchNodes = order.Where(n => n.IsSwitch).ToList();
        for (var i = 0; i < switchNodes.Count; i++) switchNodes[i].Index = i;
        var names = SwitchNames(switchNodes);

        // Hosts and NICs from CA descriptions.
        var hostIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var hostNames = new List<string>();
        var hostNics = new List<Dictionary<int, (string Guid, int Line)>>();
        var caEnd = new Dictionary<End, (int Host, int Nic)>();
        foreach (var ca in order.Where(n => !n.IsSwitch))
        {
            var m = CaDescRegex().Match(ca.Desc);
            // Unset descriptions ("MT4129 ConnectX7 Mellanox Technologies") repeat on every CA: name such hosts by GUID.
            var host = m.Success ? m.Groups[1].Value : (ca.Desc.Length > 0 && !ca.Desc.Contains(' ') ? ca.Desc : $"H-{ca.Guid}");
            var described = !m.Success ? -1 : m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) - 1;
            if (!hostIndex.TryGetValue(host, out var h))
            {
                h = hostNames.Count;
                hostIndex[host] = h;
                hostNames.Add(host);
                hostNics.Add([]);
            }
            foreach (var pl in ca.PortMap.Values.OrderBy(p => p.Port))
            {
                var nic = described >= 0 && pl.Port == 1 ? described : NextFree(hostNics[h]);
                if (hostNics[h].TryGetValue(nic, out var prev)) { e.Add(new($"line {pl.Line}", $"'{host} mlx5_{nic}' is described twice (also line {prev.Line})")); continue; }
                if (nic > 63) { e.Add(new($"line {ca.Line}", $"NIC index {nic} of {host} is beyond mlx5_63")); continue; }
                hostNics[h][nic] = (pl.PortGuid ?? ca.Guid, pl.Line);
                caEnd[new End(ca.Guid, pl.Port)] = (h, nic);
            }
        }
        if (e.Count > 0) throw new FabricInputException(ByLine(e));

        // Planes: connected components of the switch graph, numbered by first switch.
        var parent = Enumerable.Range(0, switchNodes.Count).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        var adj = new List<int>[switchNodes.Count];
        for (var i = 0; i < adj.Length; i++) adj[i] = [];
        var hasCa = new bool[switchNodes.Count];
        foreach (var l in raw)
        {
            var a = nodes[l.Local.Guid];
            var b = nodes[l.Remote.Guid];
            if (a.IsSwitch && b.IsSwitch)
            {
                parent[Find(a.Index)] = Find(b.Index);
                adj[a.Index].Add(b.Index);
                adj[b.Index].Add(a.Index);
            }
            else hasCa[(a.IsSwitch ? a : b).Index] = true;
        }
        var planeOf = new int[switchNodes.Count];
        var rootPlane = new Dictionary<int, int>();
        for (var i = 0; i < switchNodes.Count; i++)
        {
            var r = Find(i);
            if (!rootPlane.TryGetValue(r, out var p)) rootPlane[r] = p = rootPlane.Count;
            planeOf[i] = p;
        }

        // Tiers: distance from the nearest leaf over switch links.
        var dist = new int[switchNodes.Count];
        Array.Fill(dist, -1);
        var queue = new Queue<int>();
        for (var i = 0; i < dist.Length; i++) if (hasCa[i]) { dist[i] = 0; queue.Enqueue(i); }
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var t in adj[s]) if (dist[t] < 0) { dist[t] = dist[s] + 1; queue.Enqueue(t); }
        }
        var tiers = dist.Select(d => d switch { 0 => SwitchTier.Leaf, 1 => SwitchTier.Spine, < 0 => SwitchTier.Spine, _ => SwitchTier.Core }).ToArray();

        var switchSpeed = new int[switchNodes.Count];
        var links = new List<Link>(raw.Count);
        foreach (var l in raw)
        {
            var a = nodes[l.Local.Guid];
            var b = nodes[l.Remote.Guid];
            var speed = l.SpeedGbps ?? 400;
            LinkEnd ea, eb;
            LinkRole role;
            double len;
            int plane;
            if (!a.IsSwitch || !b.IsSwitch)
            {
                var (caNode, caPort, sw, swPort) = a.IsSwitch ? (b, l.Remote.Port, a, l.Local.Port) : (a, l.Local.Port, b, l.Remote.Port);
                if (!caEnd.TryGetValue(new End(caNode.Guid, caPort), out var hn)) continue;
                ea = LinkEnd.OnHost(hn.Host, hn.Nic);
                eb = LinkEnd.OnSwitch(sw.Index, swPort);
                role = LinkRole.Host;
                len = IbNetDiscover.HostLinkM;
                plane = planeOf[sw.Index];
                switchSpeed[sw.Index] = Math.Max(switchSpeed[sw.Index], speed);
            }
            else
            {
                var (lo, loPort, hi, hiPort) = tiers[a.Index] <= tiers[b.Index] ? (a, l.Local.Port, b, l.Remote.Port) : (b, l.Remote.Port, a, l.Local.Port);
                ea = LinkEnd.OnSwitch(lo.Index, loPort);
                eb = LinkEnd.OnSwitch(hi.Index, hiPort);
                (role, len) = (tiers[lo.Index], tiers[hi.Index]) switch
                {
                    (SwitchTier.Leaf, SwitchTier.Spine) => (LinkRole.LeafSpine, IbNetDiscover.LeafSpineLinkM),
                    (SwitchTier.Spine, SwitchTier.Core) => (LinkRole.SpineCore, IbNetDiscover.SpineCoreLinkM),
                    _ => (LinkRole.SwitchSwitch, IbNetDiscover.LeafSpineLinkM),
                };
                plane = planeOf[lo.Index];
                switchSpeed[a.Index] = Math.Max(switchSpeed[a.Index], speed);
                switchSpeed[b.Index] = Math.Max(switchSpeed[b.Index], speed);
            }
            links.Add(new Link(links.Count, ea, eb, speed, role, MediaCatalog.ForLength(len, role == LinkRole.Host), len, plane));
        }

        var switches = switchNodes.Select((n, i) => new Switch(i, names[i].Name, planeOf[i], tiers[i], n.Ports,
            switchSpeed[i] > 0 ? switchSpeed[i] : 400, names[i].Model, -1, n.Guid)).ToArray();
        var hosts = new Host[hostNames.Count];
        var linksOfHost = links.Where(l => l.A.IsHost).ToLookup(l => l.A.Device);
        for (var h = 0; h < hosts.Length; h++)
        {
            var nicMap = hostNics[h];
            var count = nicMap.Count == 0 ? 0 : nicMap.Keys.Max() + 1;
            var nics = new Nic[count];
            var linkOfNic = linksOfHost[h].ToDictionary(l => l.A.Port);
            var fallbackPlane = linkOfNic.Count > 0 ? linkOfNic.Values.Min(l => l.Plane) : 0;
            var fallbackSpeed = linkOfNic.Count > 0 ? linkOfNic.Values.Max(l => l.SpeedGbps) : 400;
            for (var n = 0; n < count; n++)
            {
                // A NIC missing from the discovery (mlx5_3 absent) is kept, uncabled, so validation reports it.
                nics[n] = linkOfNic.TryGetValue(n, out var l)
                    ? new Nic(n, l.Plane, l.SpeedGbps, nicMap[n].Guid)
                    : new Nic(n, fallbackPlane, fallbackSpeed, nicMap.TryGetValue(n, out var x) ? x.Guid : null);
            }
            hosts[h] = new Host(h, hostNames[h], 0, nics);
        }
        var planes = Enumerable.Range(0, rootPlane.Count).Select(p => new Plane(p, $"plane-{p}")).ToArray();
        return new FabricTopology(name, TopologyKind.Imported, planes, switches, hosts, links, []);
    }

    private static (string Name, string Model)[] SwitchNames(List<Node> switches)
    {
        var parsed = switches.Select(n =>
        {
            var d = n.Desc;
            if (d.StartsWith("MF0;", StringComparison.Ordinal))
            {
                var rest = d[4..];
                var colon = rest.IndexOf(':');
                var nm = colon < 0 ? rest : rest[..colon];
                var model = colon < 0 ? "" : rest[(colon + 1)..];
                var slash = model.LastIndexOf("/U", StringComparison.Ordinal);
                if (slash >= 0) model = model[..slash];
                return (Name: nm, Model: model);
            }
            return (Name: d, Model: "");
        }).ToArray();
        var counts = parsed.GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        for (var i = 0; i < parsed.Length; i++)
        {
            // Factory descriptions ("Quantum Mellanox Technologies") repeat on every switch: name by GUID, keep the text as model.
            if (parsed[i].Name.Length == 0 || counts[parsed[i].Name] > 1)
                parsed[i] = ($"S-{switches[i].Guid}", parsed[i].Model.Length > 0 ? parsed[i].Model : switches[i].Desc);
        }
        return parsed;
    }

    private static int NextFree(Dictionary<int, (string, int)> used)
    {
        var i = 0;
        while (used.ContainsKey(i)) i++;
        return i;
    }
}
