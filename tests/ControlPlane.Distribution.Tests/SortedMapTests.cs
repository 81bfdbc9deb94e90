using ControlPlane.Distribution;
using ControlPlane.Fabric;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class SortedMapTests
{
    private static readonly string[] Names = ["leaf-1", "leaf-10", "leaf-2", "p0-leaf-3", "Leaf-9", "leaf-é", ""];

    private static List<KeyValuePair<RouteKey, RouteEntry>> RandomRoutes(Random rng, int n)
    {
        var seen = new HashSet<RouteKey>();
        var list = new List<KeyValuePair<RouteKey, RouteEntry>>();
        while (list.Count < n)
        {
            var k = new RouteKey(Names[rng.Next(Names.Length)] + rng.Next(30), rng.Next(2) == 0 ? "ep" : "kv");
            if (seen.Add(k)) list.Add(new(k, new RouteEntry(rng.Next(10), SpreadMode.Hash)));
        }
        return list;
    }

    [Property(MaxTest = 300)]
    public bool Behaves_like_a_sorted_dictionary(int seed)
    {
        var rng = new Random(seed);
        var entries = RandomRoutes(rng, rng.Next(0, 60));
        var map = SortedMap<RouteKey, RouteEntry>.Create(entries, k => new InvalidOperationException(k.ToString()));
        var model = new SortedDictionary<RouteKey, RouteEntry>(entries.ToDictionary(e => e.Key, e => e.Value));
        if (map.Count != model.Count || !map.Keys.SequenceEqual(model.Keys) || !map.Values.SequenceEqual(model.Values)) return false;
        if (!map.Select(kv => kv.Key).SequenceEqual(model.Keys)) return false;
        foreach (var (k, v) in model)
        {
            if (!map.TryGetValue(k, out var got) || got != v || !map.ContainsKey(k) || map[k] != v) return false;
        }
        var missing = new RouteKey("absent", "ep");
        return !map.ContainsKey(missing) && !map.TryGetValue(missing, out _);
    }

    [Fact]
    public void A_key_twice_is_refused_naming_it()
    {
        var k = new RouteKey("leaf-1", "ep");
        var ex = Assert.Throws<FabricInputException>(() => new SwitchTable("s", 1, 4, [],
            [new(k, new RouteEntry(0, SpreadMode.Hash)), new(new RouteKey("leaf-0", "ep"), new RouteEntry(0, SpreadMode.Hash)), new(k, new RouteEntry(0, SpreadMode.Spray))]));
        Assert.Contains(ex.Errors, e => e.Field == "routes[leaf-1/ep]");
        var g = Assert.Throws<FabricInputException>(() => new SwitchTable("s", 1, 4, [new NextHopGroup(2, [new(1, 4)]), new NextHopGroup(2, [new(2, 4)])], []));
        Assert.Contains(g.Errors, e => e.Field == "groups[2]");
    }

    [Fact]
    public void A_missing_key_names_the_key()
    {
        var map = SortedMap<int, string>.Create([new(1, "a")], k => new InvalidOperationException());
        var ex = Assert.Throws<KeyNotFoundException>(() => map[7]);
        Assert.Contains("7", ex.Message);
    }

    [Property(MaxTest = 200)]
    public bool Group_members_are_sorted_by_port_whatever_the_input_order(int seed)
    {
        var rng = new Random(seed);
        var members = Enumerable.Range(1, rng.Next(1, 20)).Select(p => new GroupMember(p, rng.Next(1, 9))).OrderBy(_ => rng.Next()).ToList();
        var g = new NextHopGroup(1, members);
        return g.Members.Select(m => m.Port).SequenceEqual(members.Select(m => m.Port).Order()) && g.Members.Length == members.Count;
    }
}
