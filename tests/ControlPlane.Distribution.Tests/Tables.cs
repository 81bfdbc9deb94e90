using ControlPlane.Distribution;

namespace ControlPlane.Distribution.Tests;

/// <summary>Random and hand-made tables for the tests.</summary>
internal static class Tables
{
    public static readonly string[] Classes = ["default", "ep", "kv"];

    /// <summary>Weights over the given ports summing to <paramref name="groupSize"/>, each at least 1.</summary>
    public static NextHopGroup Group(int id, int groupSize, IReadOnlyList<int> ports, Random rng)
    {
        var w = new int[ports.Count];
        Array.Fill(w, 1);
        for (var left = groupSize - ports.Count; left > 0; left--) w[rng.Next(ports.Count)]++;
        return new NextHopGroup(id, ports.Select((p, i) => new GroupMember(p, w[i])));
    }

    /// <summary>A valid random table of a switch of <paramref name="radix"/> ports.</summary>
    public static SwitchTable Random(Random rng, string name = "leaf-0", ulong version = 1, int radix = 16, int groupSize = 32)
    {
        var groups = new List<NextHopGroup>();
        var n = rng.Next(0, 8);
        for (var i = 0; i < n; i++)
        {
            var ports = Enumerable.Range(1, radix).OrderBy(_ => rng.Next()).Take(rng.Next(1, Math.Min(radix, groupSize) + 1)).ToList();
            groups.Add(Group(rng.Next(1, 20) * 10 + i, groupSize, ports, rng));
        }
        var routes = new Dictionary<RouteKey, RouteEntry>();
        var dests = rng.Next(0, 10);
        for (var d = 0; d < dests; d++)
        {
            foreach (var c in Classes)
            {
                if (rng.Next(4) == 0) continue;
                var gid = groups.Count == 0 || rng.Next(10) == 0 ? SwitchTable.LocalGroup : groups[rng.Next(groups.Count)].Id;
                routes[new RouteKey($"leaf-{d}", c)] = new RouteEntry(gid, rng.Next(2) == 0 ? SpreadMode.Hash : SpreadMode.Spray);
            }
        }
        return new SwitchTable(name, version, groupSize, groups, routes);
    }

    /// <summary>A random edit of <paramref name="t"/> at <paramref name="version"/>, sharing some groups and routes.</summary>
    public static SwitchTable Mutate(SwitchTable t, Random rng, ulong version, int radix = 16)
    {
        var other = Random(rng, t.SwitchName, version, radix, t.GroupSize);
        var groups = t.Groups.Values.Where(_ => rng.Next(3) > 0).ToDictionary(g => g.Id);
        foreach (var g in other.Groups.Values) groups[g.Id] = g;
        var routes = t.Routes.Where(r => rng.Next(3) > 0 && groups.ContainsKey(r.Value.GroupId) | r.Value.GroupId == 0).ToDictionary();
        foreach (var (k, r) in other.Routes) routes[k] = r;
        return new SwitchTable(t.SwitchName, version, t.GroupSize, groups.Values, routes);
    }
}
