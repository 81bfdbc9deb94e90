using ControlPlane.Distribution;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class DiffEquivalenceTests
{
    // The diff as first written (a lookup per entry), kept as the reference for the merge in TableDiff.Compute.
    private static TableDelta Reference(SwitchTable from, SwitchTable to)
    {
        var upG = new List<NextHopGroup>();
        foreach (var (id, g) in to.Groups)
        {
            if (!from.Groups.TryGetValue(id, out var old) || !old.SameMembers(g)) upG.Add(g);
        }
        var rmG = from.Groups.Keys.Where(id => !to.Groups.ContainsKey(id)).ToList();
        var upR = new List<KeyValuePair<RouteKey, RouteEntry>>();
        foreach (var (k, r) in to.Routes)
        {
            if (!from.Routes.TryGetValue(k, out var old) || old != r) upR.Add(new(k, r));
        }
        var rmR = from.Routes.Keys.Where(k => !to.Routes.ContainsKey(k)).ToList();
        return new TableDelta(to.SwitchName, from.Version, to.Version, upG, rmG, upR, rmR, to.Digest);
    }

    [Property(MaxTest = 300)]
    public void Diff_equals_the_reference(int seed)
    {
        var rng = new Random(seed);
        var a = Tables.Random(rng, version: 3);
        var b = rng.Next(4) switch { 0 => Tables.Random(rng, version: 4), 1 => a.WithVersion(4), _ => Tables.Mutate(a, rng, 4) };
        var (e, d) = (Reference(a, b), TableDiff.Compute(a, b));
        Assert.Equal((e.SwitchName, e.BaseVersion, e.Version), (d.SwitchName, d.BaseVersion, d.Version));
        Assert.Equal(e.UpsertGroups.ToArray(), d.UpsertGroups.ToArray());
        Assert.Equal(e.RemoveGroupIds.ToArray(), d.RemoveGroupIds.ToArray());
        Assert.Equal(e.UpsertRoutes.ToArray(), d.UpsertRoutes.ToArray());
        Assert.Equal(e.RemoveRoutes.ToArray(), d.RemoveRoutes.ToArray());
        Assert.Equal(e.Digest.ToArray(), d.Digest.ToArray());
    }
}
