using System.Diagnostics;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using Google.Protobuf;

namespace ControlPlane.Benchmarks;

/// <summary>
/// Route distribution on an MPFT leaf table (64 destination leaves x 4 classes, 32 up-port members, 128 buckets):
/// delta compute and apply times, delta vs full table bytes for one failed link, agent install, rollout ordering.
/// </summary>
public sealed class DistributionSuite : IBenchmarkSuite
{
    private static readonly string[] Classes = ["default", "ep", "tp", "kv"];
    private const int Leaves = 64;
    private const int GroupSize = 128;
    private static readonly int[] UpPorts = [.. Enumerable.Range(33, 32)];

    public string Name => "distribution";

    public string Description => "delta compute/apply and delta vs full table bytes on an MPFT leaf table after one link failure";

    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine($"MPFT leaf table: {Leaves} destination leaves x {Classes.Length} classes = {Leaves * Classes.Length} routes, {UpPorts.Length} members per group, group size {GroupSize}");
        output.WriteLine();
        Scenario(output, "shared ECMP group, local up-link 33 fails", Ecmp(1, _ => UpPorts), Ecmp(2, _ => UpPorts.Where(p => p != 33).ToArray()));
        Scenario(output, "shared ECMP group, remote leaf-5 loses spine 0", Ecmp(1, _ => UpPorts), Ecmp(2, d => d == 5 ? UpPorts.Where(p => p != 33).ToArray() : UpPorts));
        Scenario(output, "adaptive weights per route, local up-link 33 fails", Adaptive(1, excludePort: 0, only: -1), Adaptive(2, excludePort: 33, only: -1));
        Scenario(output, "adaptive weights per route, remote leaf-5 loses spine 0", Adaptive(1, excludePort: 0, only: -1), Adaptive(2, excludePort: 33, only: 5));
        Rollout(output);
        return Task.FromResult(0);
    }

    private static void Scenario(TextWriter output, string title, SwitchTable before, SwitchTable after)
    {
        output.WriteLine($"== {title}");
        var delta = Time(output, "delta compute", () => TableDiff.Compute(before, after), 2000);
        var applied = Time(output, "delta apply (incl. digest check)", () => delta.ApplyTo(before), 2000);
        if (!applied.Applied) throw new InvalidOperationException(applied.Reason);
        Time(output, "digest of full table", () => TableDigest.Compute(after.Groups.Values, after.Routes), 2000);
        var fullBytes = TableWire.ToProto(after).ToByteArray();
        var deltaBytes = TableWire.ToProto(delta).ToByteArray();
        Time(output, "full table decode (protobuf + digest)", () => TableWire.FromProto(ControlPlane.Protos.Fabric.V1.RouteTable.Parser.ParseFrom(fullBytes)), 500);
        // Agents prepared with the old table, each in its own data plane, so only the delta apply + install + read-back is timed.
        const int agents = 200;
        var pool = Enumerable.Range(0, agents + 1).Select(_ =>
        {
            var a = new AgentTableState(before.SwitchName, GroupSize, new InMemoryDataPlane(64, new SwitchCapacity(ControlPlane.Fabric.Switch.DefaultMaxGroups, 64, 256)));
            a.Apply(TableUpdate.Full(before));
            return a;
        }).ToArray();
        var next = 0;
        var ack = Time(output, "agent apply delta (install + read-back)", () => pool[next++].Apply(TableUpdate.Diff(delta)), agents);
        if (!ack.Applied) throw new InvalidOperationException(ack.RejectReason);
        output.WriteLine($"  {before.Groups.Count} -> {after.Groups.Count} groups; delta: +{delta.UpsertGroups.Length}/-{delta.RemoveGroupIds.Length} groups, +{delta.UpsertRoutes.Length}/-{delta.RemoveRoutes.Length} routes");
        output.WriteLine($"  full table {fullBytes.Length,8:N0} B   delta {deltaBytes.Length,8:N0} B   delta/full = {deltaBytes.Length / (double)fullBytes.Length:P1} (full is {fullBytes.Length / (double)deltaBytes.Length:F1}x)");
        output.WriteLine();
    }

    // Rollout ordering on a single FT2 plane of radix 64 (96 switches) after one link failure, plus the check of all
    // leaf-to-leaf walks in the final state.
    private static void Rollout(TextWriter output)
    {
        output.WriteLine("== make-before-break order, FT2 radix 64 (one MPFT plane), leaf-0/spine-0 link drained");
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Ft2, Radix = 64, Name = "bench" });
        var link = t.Links.First(l => l.IsSwitchLink);
        // Group ids stay with their member set across versions, as the routing engine's group pool keeps them;
        // renumbering groups would make every route change in the delta.
        var ids = new Dictionary<(string, string), int>();
        var oldT = TreeTables(t, -1, ids);
        var newT = TreeTables(t, link.Id, ids);
        var nb = MakeBeforeBreak.Neighbors(t);
        var plan = Time(output, "order (all 96 switches)", () => MakeBeforeBreak.Order(oldT, newT, nb), 3);
        output.WriteLine($"  {plan.Waves.Length} waves: {string.Join(", ", plan.Waves.Select(w => w.Steps.Length))} steps; {plan.Unchanged.Length} unchanged; {plan.Unordered.Length} unordered");
        output.WriteLine();

        // The planner over a whole MPFT (8 planes x 96 switches, the same tables under per-plane names): every switch
        // acknowledged v1, then every switch gets v2 (the drained tables) and one Plan call computes all deltas.
        output.WriteLine("== planner, MPFT 768 switches: v1 acknowledged everywhere, then v2 everywhere (worst case: every switch changes)");
        var v1 = new List<SwitchTable>();
        var v2 = new List<SwitchTable>();
        for (var plane = 0; plane < 8; plane++)
        {
            foreach (var name in oldT.Keys)
            {
                v1.Add(Rename(oldT[name], $"p{plane}-{name}", 1));
                var changedOrNot = newT[name].SameContents(oldT[name]) ? TreeTablesMutateWeights(oldT[name]) : newT[name];
                v2.Add(Rename(changedOrNot, $"p{plane}-{name}", 2));
            }
        }
        var planner = new DistributionPlanner(new DistributionOptions(), new Random(1));
        var now = DateTimeOffset.UnixEpoch;
        foreach (var t1 in v1) planner.SetDesired(t1, Lane.Priority);
        foreach (var send in planner.Plan(now).Sends) planner.OnAck(new AgentAck(send.SwitchName, 1, true, null, send.Update.Table!.DigestBytes()));
        var sw = Stopwatch.StartNew();
        foreach (var t2 in v2) planner.SetDesired(t2, Lane.Priority);
        var planned = planner.Plan(now);
        var ms = sw.Elapsed.TotalMilliseconds;
        var bytes = planned.Sends.Sum(x => TableWire.ToProto(x.Update).CalculateSize());
        var fullBytes = v2.Sum(x => TableWire.ToProto(x).CalculateSize());
        output.WriteLine($"  set desired + plan {planned.Sends.Count} sends ({planned.Sends.Count(x => x.IsDelta)} deltas) {ms,10:F1} ms");
        output.WriteLine($"  bytes to send: deltas {bytes:N0} B vs full tables {fullBytes:N0} B ({bytes / (double)fullBytes:P1})");
        output.WriteLine();
    }

    private static SwitchTable Rename(SwitchTable t, string name, ulong version) => new(name, version, t.GroupSize, t.Groups.Values, t.Routes);

    // Spines untouched by the drain still get a new version in the worst case: shift one bucket in their first group
    // when it has two members or more, else re-send the same contents.
    private static SwitchTable TreeTablesMutateWeights(SwitchTable t)
    {
        var g = t.Groups.Values.FirstOrDefault(x => x.Members.Length > 1);
        if (g is null) return t;
        var m = g.Members.ToArray();
        m[0] = m[0] with { Weight = m[0].Weight + 1 };
        m[1] = m[1] with { Weight = m[1].Weight - 1 };
        return new SwitchTable(t.SwitchName, t.Version, t.GroupSize, t.Groups.Values.Select(x => x.Id == g.Id ? new NextHopGroup(g.Id, m) : x), t.Routes);
    }

    private static Dictionary<string, SwitchTable> TreeTables(FabricTopology t, int downLink, Dictionary<(string, string), int> ids)
    {
        var leaves = t.Switches.Where(s => s.Tier == SwitchTier.Leaf).ToList();
        var result = new Dictionary<string, SwitchTable>();
        foreach (var sw in t.Switches)
        {
            var groups = new Dictionary<string, NextHopGroup>();
            var routes = new List<KeyValuePair<RouteKey, RouteEntry>>();
            foreach (var dest in leaves)
            {
                var ports = new List<int>();
                if (sw.Tier == SwitchTier.Leaf && sw.Id != dest.Id)
                {
                    foreach (var l in t.Links.Where(l => l.IsSwitchLink && l.A.Device == sw.Id && l.Id != downLink))
                    {
                        var spine = l.B.Device;
                        if (t.Links.Any(x => x.IsSwitchLink && x.B.Device == spine && x.A.Device == dest.Id && x.Id != downLink)) ports.Add(l.A.Port);
                    }
                }
                else if (sw.Tier != SwitchTier.Leaf)
                {
                    ports.AddRange(t.Links.Where(x => x.IsSwitchLink && x.B.Device == sw.Id && x.A.Device == dest.Id && x.Id != downLink).Select(x => x.B.Port));
                }
                if (sw.Id != dest.Id && ports.Count == 0) continue;
                var gid = 0;
                if (ports.Count > 0)
                {
                    var key = string.Join(",", ports);
                    if (!groups.TryGetValue(key, out var g))
                    {
                        if (!ids.TryGetValue((sw.Name, key), out var id)) ids[(sw.Name, key)] = id = ids.Count(x => x.Key.Item1 == sw.Name) + 1;
                        groups[key] = g = new NextHopGroup(id, ports.Select((p, i) => new GroupMember(p, GroupSize / ports.Count + (i < GroupSize % ports.Count ? 1 : 0))));
                    }
                    gid = g.Id;
                }
                foreach (var c in Classes) routes.Add(new(new RouteKey(dest.Name, c), new RouteEntry(gid, SpreadMode.Hash)));
            }
            result[sw.Name] = new SwitchTable(sw.Name, 1, GroupSize, groups.Values, routes);
        }
        return result;
    }

    private static SwitchTable Ecmp(ulong version, Func<int, int[]> portsFor)
    {
        var groups = new Dictionary<string, NextHopGroup>();
        var routes = new List<KeyValuePair<RouteKey, RouteEntry>>();
        for (var d = 0; d < Leaves; d++)
        {
            var ports = portsFor(d);
            var key = string.Join(",", ports);
            if (!groups.TryGetValue(key, out var g))
                groups[key] = g = new NextHopGroup(groups.Count + 1, ports.Select((p, i) => new GroupMember(p, GroupSize / ports.Length + (i < GroupSize % ports.Length ? 1 : 0))));
            foreach (var c in Classes) routes.Add(new(new RouteKey(d == 0 ? "leaf-0" : $"leaf-{d}", c), new RouteEntry(d == 0 ? 0 : g.Id, c == "ep" ? SpreadMode.Spray : SpreadMode.Hash)));
        }
        var used = routes.Select(r => r.Value.GroupId).ToHashSet();
        return new SwitchTable("leaf-0", version, GroupSize, groups.Values.Where(g => used.Contains(g.Id)), routes);
    }

    // One group per (destination, class) with distinct weights (as adaptive routing produces); the failed port's
    // buckets spread over the others for every route (local failure) or only the routes to `only` (remote failure).
    private static SwitchTable Adaptive(ulong version, int excludePort, int only)
    {
        var groups = new List<NextHopGroup>();
        var routes = new List<KeyValuePair<RouteKey, RouteEntry>>();
        for (var d = 1; d < Leaves; d++)
        {
            foreach (var c in Classes)
            {
                var rng = new Random(d * 31 + c.Length); // same weights in both versions
                var w = UpPorts.Select(_ => 1 + rng.Next(6)).ToArray();
                var ports = UpPorts;
                if (excludePort != 0 && (only < 0 || only == d))
                {
                    w = [.. w.Where((_, i) => UpPorts[i] != excludePort)];
                    ports = [.. UpPorts.Where(p => p != excludePort)];
                }
                var scaled = Apportion(w, GroupSize);
                var g = new NextHopGroup(groups.Count + 1, ports.Select((p, i) => new GroupMember(p, scaled[i])));
                groups.Add(g);
                routes.Add(new(new RouteKey($"leaf-{d}", c), new RouteEntry(g.Id, SpreadMode.Spray)));
            }
        }
        foreach (var c in Classes) routes.Add(new(new RouteKey("leaf-0", c), new RouteEntry(0, SpreadMode.Hash)));
        return new SwitchTable("leaf-0", version, GroupSize, groups, routes);
    }

    private static int[] Apportion(int[] w, int total)
    {
        var sum = (double)w.Sum();
        var r = w.Select(x => Math.Max(1, (int)Math.Floor(x / sum * total))).ToArray();
        for (var i = 0; r.Sum() < total; i = (i + 1) % r.Length) r[i]++;
        for (var i = 0; r.Sum() > total; i = (i + 1) % r.Length) if (r[i] > 1) r[i]--;
        return r;
    }

    private static T Time<T>(TextWriter output, string what, Func<T> f, int repeat, Func<object>? subtract = null)
    {
        var result = f(); // warm-up
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < repeat; i++) result = f();
        var us = sw.Elapsed.TotalMicroseconds / repeat;
        if (subtract is not null)
        {
            subtract();
            sw.Restart();
            for (var i = 0; i < repeat; i++) subtract();
            us -= sw.Elapsed.TotalMicroseconds / repeat;
        }
        output.WriteLine($"  {what,-44} {us,10:F1} us");
        return result;
    }
}
