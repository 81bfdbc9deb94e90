using ControlPlane.Distribution;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class DeltaTests
{
    [Property(MaxTest = 300)]
    public bool Apply_of_compute_gives_the_target(int seed)
    {
        var rng = new Random(seed);
        var a = Tables.Random(rng, version: 3);
        var b = rng.Next(3) == 0 ? Tables.Random(rng, version: 4) : Tables.Mutate(a, rng, 4);
        var r = TableDiff.Compute(a, b).ApplyTo(a);
        return r.Applied && r.Table!.Equals(b) && r.Table.Digest.SequenceEqual(b.Digest);
    }

    [Property(MaxTest = 200)]
    public bool Apply_to_wrong_base_is_refused(int seed)
    {
        var rng = new Random(seed);
        var a = Tables.Random(rng, version: 3);
        var b = Tables.Mutate(a, rng, 4);
        var other = Tables.Mutate(a, rng, 2);
        var r = TableDiff.Compute(a, b).ApplyTo(other);
        return !r.Applied && r.Reason!.Contains("base version");
    }

    [Fact]
    public void Same_version_other_contents_is_refused_by_digest_and_input_unchanged()
    {
        var rng = new Random(5);
        var a = Tables.Random(rng, version: 3);
        while (a.Groups.Count == 0) a = Tables.Random(rng, version: 3);
        var b = Tables.Mutate(a, rng, 4);
        // Same version number, different contents: a diverged agent.
        var drifted = new SwitchTable(a.SwitchName, 3, a.GroupSize, a.Groups.Values.Skip(1).Append(Tables.Group(999, a.GroupSize, [1, 2], rng)), a.Routes.Where(r => r.Value.GroupId == 0));
        var before = drifted.DigestBytes();
        var r = TableDiff.Compute(a, b).ApplyTo(drifted);
        Assert.False(r.Applied);
        Assert.True(r.Reason!.Contains("digest mismatch") || r.Reason.Contains("missing group"), r.Reason);
        Assert.Equal(before, drifted.DigestBytes());
    }

    [Fact]
    public void Delta_for_other_switch_is_refused()
    {
        var a = Tables.Random(new Random(1), "leaf-0", 1);
        var b = Tables.Random(new Random(2), "leaf-1", 1);
        var d = TableDiff.Compute(a, a.WithVersion(2));
        Assert.True(d.IsEmpty);
        Assert.False(d.ApplyTo(b).Applied);
    }

    [Fact]
    public void Unchanged_groups_and_routes_are_not_in_the_delta()
    {
        var rng = new Random(9);
        var a = Tables.Random(rng, version: 1);
        var d = TableDiff.Compute(a, a.WithVersion(2));
        Assert.Equal(0, d.ChangeCount);
        Assert.True(d.ApplyTo(a).Table!.SameContents(a));
    }
}
