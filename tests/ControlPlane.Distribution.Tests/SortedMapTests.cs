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

    [Fact]
    public void A_delta_that_only_changes_weights_shares_the_route_keys_and_one_that_adds_a_destination_does_not()
    {
        var rng = new Random(9);
        var a = Tables.Random(rng, version: 1);
        while (a.Routes.Count < 4 || a.Groups.Count < 2) a = Tables.Random(rng, version: 1);
        // Point two routes at another group: same keys, other values.
        var other = a.Groups.Keys[1];
        var routes = a.Routes.ToDictionary();
        foreach (var k in a.Routes.Keys.Take(2)) routes[k] = new RouteEntry(other, SpreadMode.Spray);
        var b = new SwitchTable(a.SwitchName, 2, a.GroupSize, a.Groups.Values, routes);
        var valuesBefore = a.Routes.Values.ToArray();
        var applied = TableDiff.Compute(a, b).ApplyTo(a).Table!;
        Assert.True(applied.Equals(b));
        Assert.True(applied.Routes.Keys == a.Routes.Keys, "the keys should be the same array");
        Assert.False(applied.Routes.Values == a.Routes.Values);
        Assert.Equal(valuesBefore, a.Routes.Values.ToArray()); // the base table is untouched

        // A new destination: new keys.
        routes[new RouteKey("zz-new", "ep")] = new RouteEntry(SwitchTable.LocalGroup, SpreadMode.Hash);
        var c = new SwitchTable(a.SwitchName, 3, a.GroupSize, a.Groups.Values, routes);
        var grown = TableDiff.Compute(b, c).ApplyTo(b).Table!;
        Assert.True(grown.Equals(c));
        Assert.False(grown.Routes.Keys == b.Routes.Keys);
    }

    [Fact]
    public void With_values_and_create_from_spans_check_their_input()
    {
        var m = SortedMap<int, string>.Create([3, 1, 2], ["c", "a", "b"], k => new InvalidOperationException($"{k} twice"));
        Assert.Equal([1, 2, 3], m.Keys.ToArray());
        Assert.Equal(["a", "b", "c"], m.Values.ToArray());
        var w = m.WithValues(["x", "y", "z"]);
        Assert.True(w.Keys == m.Keys);
        Assert.Equal("y", w[2]);
        Assert.True(m.SameKeys([1, 2, 3]));
        Assert.False(m.SameKeys([1, 2]));
        Assert.Throws<ArgumentException>(() => m.WithValues(["x"]));
        Assert.Throws<ArgumentException>(() => SortedMap<int, string>.Create([1, 2], ["a"], k => new InvalidOperationException()));
        Assert.Throws<InvalidOperationException>(() => SortedMap<int, string>.Create([1, 1], ["a", "b"], k => new InvalidOperationException($"{k} twice")));
        var g = new NextHopGroup(4, [new GroupMember(1, 1)]);
        var groups = SortedMap<int, NextHopGroup>.Create([5], [g], k => new InvalidOperationException());
        Assert.Equal("groups[5]", Assert.Throws<FabricInputException>(() => SwitchTable.FromParts("s", 1, 1, groups, SortedMap<RouteKey, RouteEntry>.Empty)).Errors[0].Field);
    }
}
