using ControlPlane.Distribution;

namespace ControlPlane.Distribution.Tests;

public sealed class BuilderTests
{
    private static SwitchTable Build(ulong version, SwitchTable? previous, int lostPortForLeaf5)
    {
        var b = new SwitchTableBuilder("leaf-0", version, 8, previous);
        b.Local("leaf-0", "default");
        for (var d = 1; d < 10; d++)
        {
            int[] ports = d == 5 && lostPortForLeaf5 > 0 ? [1, 2] : [1, 2, 3, 4];
            int[] weights = ports.Length == 4 ? [2, 2, 2, 2] : [4, 4];
            b.Route($"leaf-{d}", "default", ports, weights, SpreadMode.Hash);
        }
        return b.Build();
    }

    [Fact]
    public void Groups_are_shared_and_ids_stay_stable_so_deltas_stay_small()
    {
        var v1 = Build(1, null, 0);
        Assert.Single(v1.Groups);
        Assert.Empty(v1.Validate(8));
        var v2 = Build(2, v1, 3);
        Assert.Equal(2, v2.Groups.Count);
        Assert.Equal(v1.Groups.Keys.Single(), v2.Routes[new RouteKey("leaf-1", "default")].GroupId);
        var d = TableDiff.Compute(v1, v2);
        Assert.Single(d.UpsertGroups);
        Assert.Single(d.UpsertRoutes);
        var v3 = Build(3, v2, 0);
        var back = TableDiff.Compute(v2, v3);
        Assert.Single(back.RemoveGroupIds);
        Assert.Single(back.UpsertRoutes);
        Assert.True(back.ApplyTo(v2).Table!.SameContents(v1));
    }

    [Fact]
    public void Mismatched_ports_and_weights_or_duplicate_routes_are_refused()
    {
        var b = new SwitchTableBuilder("s", 1, 4);
        Assert.Throws<ArgumentException>(() => b.Route("a", "x", [1, 2], [4], SpreadMode.Hash));
        b.Local("a", "x");
        Assert.Throws<ArgumentException>(() => b.Local("a", "x"));
    }
}
