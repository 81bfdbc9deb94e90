namespace ControlPlane.Routing;

/// <summary>
/// Routing tables as a JSON-serializable document (the output of <c>fabricctl routes compute -o json</c>).
/// Schema: { fabric, version, topologyVersion, groupSize, classes: [{ name, mode, weighting }],
/// switches: [{ id, name, plane, tier, version, ports: [{ port, link, peer }],
/// groups: [{ id, members: [{ port, weight }] }], routes: [{ destination, class, kind, group }] }] }.
/// Group ids are local to a switch (deduplicated as an ASIC would); "group" is -1 for local or no route.
/// </summary>
/// <param name="Fabric">Fabric name.</param>
/// <param name="Version">Table version.</param>
/// <param name="TopologyVersion">Snapshot version the tables were computed for.</param>
/// <param name="GroupSize">Buckets per group; weights of a group sum to it.</param>
/// <param name="Classes">Traffic classes.</param>
/// <param name="Switches">Per-switch tables.</param>
public sealed record RoutingTablesDocument(string Fabric, long Version, long TopologyVersion, int GroupSize, IReadOnlyList<ClassDocument> Classes, IReadOnlyList<SwitchTableDocument> Switches)
{
    /// <summary>Builds the document, optionally for a subset of switches (all when null).</summary>
    public static RoutingTablesDocument From(RoutingResult result, IEnumerable<int>? switchIds = null)
    {
        var topo = result.Snapshot.Topology;
        var g = result.Graph;
        var classes = result.Policy.Classes.Select((c, i) => new ClassDocument(c.Name, result.Mode(i).ToString().ToLowerInvariant(),
            (result.Options.ForceWeighting ?? c.Weighting).ToString().ToLowerInvariant())).ToList();
        var ids = switchIds ?? Enumerable.Range(0, topo.Switches.Count);
        var switches = new List<SwitchTableDocument>();
        foreach (var s in ids)
        {
            var sw = topo.Switches[s];
            var ports = new List<PortDocument>();
            for (var e = g.AdjStart[s]; e < g.AdjStart[s + 1]; e++)
                ports.Add(new PortDocument(g.PortOf[e], g.LinkOf[e], topo.Switches[g.Nbr[e]].Name));
            var local = new Dictionary<int, int>();
            var groups = new List<GroupDocument>();
            var routes = new List<RouteDocument>();
            var dests = result.Destinations(g.PlaneOf[s]);
            for (var c = 0; c < classes.Count; c++)
            {
                foreach (var d in dests)
                {
                    var key = result.GroupKey(s, d, c);
                    if (key < 0) { routes.Add(new RouteDocument(topo.Switches[d].Name, classes[c].Name, ((RouteKind)key).ToString().ToLowerInvariant(), -1)); continue; }
                    if (!local.TryGetValue(key, out var id))
                    {
                        id = groups.Count;
                        local[key] = id;
                        result.TryGetGroup(s, d, c, out var p, out var w);
                        var members = new List<MemberDocument>(p.Length);
                        for (var i = 0; i < p.Length; i++) members.Add(new MemberDocument(p[i], w[i]));
                        groups.Add(new GroupDocument(id, members));
                    }
                    routes.Add(new RouteDocument(topo.Switches[d].Name, classes[c].Name, "forward", id));
                }
            }
            switches.Add(new SwitchTableDocument(s, sw.Name, sw.Plane, sw.Tier.ToString().ToLowerInvariant(), result.SwitchVersion(s), ports, groups, routes));
        }
        return new RoutingTablesDocument(topo.Name, result.Version, result.Snapshot.Version, result.GroupSize, classes, switches);
    }
}

/// <summary>A traffic class in a tables document.</summary>
public sealed record ClassDocument(string Name, string Mode, string Weighting);

/// <summary>One switch's table.</summary>
public sealed record SwitchTableDocument(int Id, string Name, int Plane, string Tier, long Version, IReadOnlyList<PortDocument> Ports, IReadOnlyList<GroupDocument> Groups, IReadOnlyList<RouteDocument> Routes);

/// <summary>A switch port facing another switch.</summary>
public sealed record PortDocument(int Port, int Link, string Peer);

/// <summary>A next-hop group local to a switch.</summary>
public sealed record GroupDocument(int Id, IReadOnlyList<MemberDocument> Members);

/// <summary>A member of a group: output port and bucket weight.</summary>
public sealed record MemberDocument(int Port, int Weight);

/// <summary>A route: destination leaf, class, and group (or -1 with kind "local" / "noroute").</summary>
public sealed record RouteDocument(string Destination, string Class, string Kind, int Group);
