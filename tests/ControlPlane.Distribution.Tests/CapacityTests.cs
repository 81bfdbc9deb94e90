using ControlPlane.Distribution;
using ControlPlane.Fabric;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class CapacityTests
{
    /// <summary>A leaf-like table: one group per (destination, class) with slightly different weights over 8 up ports.</summary>
    private static SwitchTable Adaptive(int destinations, int seed, int groupSize = 64)
    {
        var rng = new Random(seed);
        var groups = new List<NextHopGroup>();
        var routes = new List<KeyValuePair<RouteKey, RouteEntry>>();
        for (var d = 0; d < destinations; d++)
        {
            foreach (var c in Tables.Classes)
            {
                var g = Tables.Group(groups.Count + 1, groupSize, [9, 10, 11, 12, 13, 14, 15, 16], rng);
                groups.Add(g);
                routes.Add(new(new RouteKey($"leaf-{d}", c), new RouteEntry(g.Id, SpreadMode.Spray)));
            }
        }
        return new SwitchTable("leaf-0", 1, groupSize, groups, routes);
    }

    [Fact]
    public void Defaults_come_from_the_switch_model()
    {
        var sw = new Switch(0, "leaf-0", 0, SwitchTier.Leaf, 64, 400, "QM9700");
        var c = SwitchCapacity.For(sw);
        Assert.Equal(Switch.DefaultMaxGroups, c.MaxGroups);
        Assert.Equal(64, c.MaxMembersPerGroup);
    }

    [Fact]
    public void Table_too_big_is_refused_with_reason()
    {
        var t = Adaptive(20, 1);
        var e = Assert.Single(new SwitchCapacity(16, 64, 256).Check(t));
        Assert.Equal("groups", e.Field);
        Assert.Equal("table full: 60 groups > 16", e.Reason);
        Assert.Empty(new SwitchCapacity(60, 64, 256).Check(t));
        Assert.Equal("groups[1].members", new SwitchCapacity(100, 4, 256).Check(t).Single().Field);
    }

    [Property(MaxTest = 50)]
    public bool Coarsened_table_fits_is_valid_and_keeps_every_route(int seed)
    {
        var rng = new Random(seed);
        var t = Adaptive(rng.Next(1, 30), seed);
        // Every group uses the same 8 ports, so keeping all members must always fit (down to one ECMP group);
        // trimming members may leave more distinct member sets than groups allowed, which must be said.
        var members = rng.Next(1, 10);
        var cap = new SwitchCapacity(rng.Next(1, 40), members, rng.Next(2) == 0 ? 64 : 16);
        var r = Coarsening.Fit(t, cap);
        if (!r.Fits) return members < 8 && r.Reason!.Contains("table full");
        var c = r.Table!;
        return cap.Check(c).Count == 0 && c.Validate(16).Count == 0 && c.Routes.Keys.SequenceEqual(t.Routes.Keys) &&
               c.Routes.All(kv => t.PortsOf(kv.Key).ToHashSet().IsSupersetOf(c.PortsOf(kv.Key)));
    }

    [Fact]
    public void Near_identical_groups_merge_before_equal_weights()
    {
        // Two groups differing by one bucket merge at quantum 2; a very different third stays distinct.
        var t = new SwitchTable("s", 1, 8,
            [new NextHopGroup(1, [new GroupMember(1, 4), new GroupMember(2, 4)]),
             new NextHopGroup(2, [new GroupMember(1, 5), new GroupMember(2, 3)]),
             new NextHopGroup(3, [new GroupMember(1, 1), new GroupMember(2, 7)])],
            [new(new RouteKey("a", "x"), new RouteEntry(1, SpreadMode.Hash)), new(new RouteKey("b", "x"), new RouteEntry(2, SpreadMode.Hash)), new(new RouteKey("c", "x"), new RouteEntry(3, SpreadMode.Hash))]);
        var r = Coarsening.Fit(t, new SwitchCapacity(2, 8, 8));
        Assert.True(r.Fits, r.Reason);
        Assert.Equal(2, r.Table!.Groups.Count);
        Assert.Equal(r.Table.Routes[new RouteKey("a", "x")].GroupId, r.Table.Routes[new RouteKey("b", "x")].GroupId);
        Assert.NotEqual(r.Table.Routes[new RouteKey("a", "x")].GroupId, r.Table.Routes[new RouteKey("c", "x")].GroupId);
        Assert.Contains(r.Steps, s => s.Contains("quantized"));
    }

    [Fact]
    public void Impossible_fit_says_why()
    {
        // Three different member sets cannot merge into one group.
        var t = new SwitchTable("s", 1, 4,
            [new NextHopGroup(1, [new GroupMember(1, 4)]), new NextHopGroup(2, [new GroupMember(2, 4)]), new NextHopGroup(3, [new GroupMember(3, 4)])],
            [new(new RouteKey("a", "x"), new RouteEntry(1, SpreadMode.Hash)), new(new RouteKey("b", "x"), new RouteEntry(2, SpreadMode.Hash)), new(new RouteKey("c", "x"), new RouteEntry(3, SpreadMode.Hash))]);
        var r = Coarsening.Fit(t, new SwitchCapacity(1, 8, 8));
        Assert.False(r.Fits);
        Assert.Contains("table full: 3 groups > 1", r.Reason);
    }
}
