using ControlPlane.Distribution;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

/// <summary>Routing's full tables and deltas turned back into tables: whole or not at all, in order, nothing lost on a refusal.</summary>
public sealed class RoutingFeedTests
{
    private static TableDelta Delta(SwitchTable from, long fromVersion, SwitchTable to, long toVersion) =>
        TableDiff.Compute(from.WithVersion((ulong)fromVersion), to.WithVersion((ulong)toVersion));

    [Property(MaxTest = 100)]
    public bool Deltas_applied_in_order_give_routing_s_tables(int seed)
    {
        var rng = new Random(seed);
        var feed = new RoutingFeed();
        var names = new[] { "leaf-0", "leaf-1", "spine-0" };
        var current = names.ToDictionary(n => n, n => Tables.Random(rng, n, version: 0));
        var sentAt = names.ToDictionary(n => n, _ => 1L);
        if (feed.Accept(1, complete: true, [.. current.Values], []).Verdict != FeedVerdict.Accepted) return false;
        for (long v = 2; v < 8; v++)
        {
            var changed = names.Where(_ => rng.Next(2) == 0).ToList();
            var deltas = new List<TableDelta>();
            foreach (var n in changed)
            {
                var next = Tables.Mutate(current[n], rng, 0);
                deltas.Add(Delta(current[n], sentAt[n], next, v));
                current[n] = next;
                sentAt[n] = v;
            }
            var r = feed.Accept(v, false, [], deltas);
            if (r.Verdict != FeedVerdict.Accepted || r.Tables.Count != changed.Count) return false;
            if (!r.Tables.All(t => t.Version == 0 && t.SameContents(current[t.SwitchName]))) return false;
        }
        return feed.Count == names.Length;
    }

    [Fact]
    public void A_delta_from_a_version_not_held_refuses_the_whole_message_and_keeps_what_is_held()
    {
        var rng = new Random(3);
        var feed = new RoutingFeed();
        var a = Tables.Random(rng, "leaf-0", version: 0);
        var b = Tables.Random(rng, "leaf-1", version: 0);
        Assert.Equal(FeedVerdict.Accepted, feed.Accept(5, false, [a, b], []).Verdict);
        var a2 = Tables.Mutate(a, rng, 0);
        var b2 = Tables.Mutate(b, rng, 0);
        // leaf-1's delta is based on v4, but v5 is held (a message was missed): nothing of the message is taken.
        var r = feed.Accept(6, false, [], [Delta(a, 5, a2, 6), Delta(b, 4, b2, 6)]);
        Assert.Equal(FeedVerdict.NeedsFullTables, r.Verdict);
        Assert.Contains("leaf-1", r.Problem, StringComparison.Ordinal);
        Assert.Empty(r.Tables);
        // leaf-0 still holds v5: its delta from v5 applies now.
        var ok = feed.Accept(6, false, [], [Delta(a, 5, a2, 6)]);
        Assert.Equal(FeedVerdict.Accepted, ok.Verdict);
        Assert.True(ok.Tables[0].SameContents(a2));
        // No table held at all, a delta whose version is not the message's, and content that does not match the digest.
        Assert.Equal(FeedVerdict.NeedsFullTables, feed.Accept(7, false, [], [Delta(Tables.Random(rng, "leaf-9", version: 0), 6, Tables.Random(rng, "leaf-9", version: 0), 7)]).Verdict);
        Assert.Equal(FeedVerdict.NeedsFullTables, feed.Accept(7, false, [], [Delta(a2, 6, a, 8)]).Verdict);
        var other = Tables.Random(rng, "leaf-1", version: 0);
        var fromOther = Feed(Delta(other, 5, Tables.Mutate(other, rng, 0), 7)); // based on a table leaf-1 does not hold
        Assert.Equal(FeedVerdict.NeedsFullTables, fromOther.Verdict);
        Assert.Contains("digest", fromOther.Problem, StringComparison.Ordinal);
        Assert.Equal(FeedVerdict.NeedsFullTables, feed.Accept(7, false, [a2], [Delta(a2, 6, a, 7)]).Verdict); // a switch twice

        FeedResult Feed(TableDelta d) => feed.Accept(7, false, [], [d]);
    }

    [Fact]
    public void An_older_message_is_stale_and_the_same_message_again_changes_nothing()
    {
        var rng = new Random(5);
        var feed = new RoutingFeed();
        var a = Tables.Random(rng, "leaf-0", version: 0);
        Assert.Equal(FeedVerdict.Accepted, feed.Accept(3, false, [a], []).Verdict);
        var a2 = Tables.Mutate(a, rng, 0);
        var d = Delta(a, 3, a2, 4);
        Assert.Equal(FeedVerdict.Accepted, feed.Accept(4, false, [], [d]).Verdict);
        var again = feed.Accept(4, false, [], [d]);
        Assert.Equal(FeedVerdict.Accepted, again.Verdict);
        Assert.True(again.Tables[0].SameContents(a2));
        Assert.Equal(FeedVerdict.Stale, feed.Accept(2, false, [a], []).Verdict);
        Assert.True(feed.Accept(5, false, [], [Delta(a2, 4, a, 5)]).Tables[0].SameContents(a));
        // Routing restarted and numbers from 1 again: its complete set replaces what is held, and its deltas build on it.
        var restarted = feed.Accept(1, complete: true, [a2], []);
        Assert.Equal(FeedVerdict.Accepted, restarted.Verdict);
        Assert.True(feed.Accept(2, false, [], [Delta(a2, 1, a, 2)]).Tables[0].SameContents(a));
    }
}
