using System.Diagnostics;
using System.Globalization;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Routing;
using ControlPlane.Routing.Service;
using Google.Protobuf;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Benchmarks;

/// <summary>
/// The per-table steps on the failure path, each timed over the switches one MPFT leaf-spine failure changes: export
/// from the engine, digest, protobuf encode and decode, diff, delta encode/decode, agent delta apply (validate, install,
/// read-back), make-before-break order. Microseconds per switch, so the cost of a failure's 65 tables is visible step
/// by step. Args: [radix] (default 64).
/// </summary>
public sealed class TableOpsSuite : IBenchmarkSuite
{
    public string Name => "table-ops";

    public string Description => "per-table steps of a failure's rollout (export, digest, encode, decode, diff, agent apply, MBB order), us per switch";

    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var radix = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        var topology = FabricGenerator.Generate(new GeneratorParameters { Name = "bench", Kind = TopologyKind.Mpft, Radix = radix });
        var snapshot = FabricSnapshot.Initial(topology);
        var before = RoutingEngine.Compute(snapshot, TrafficPolicy.Default);
        var old = new SwitchTable[topology.Switches.Count];
        for (var s = 0; s < old.Length; s++) old[s] = TableExport.ForSwitch(before, s, null, 1);
        var link = topology.Links.First(l => l.Role == LinkRole.LeafSpine).Id;
        var (after, deltas) = RoutingEngine.Update(before, snapshot.WithLink(link, new ElementState(ElementStatus.Down)));
        var ids = deltas.Where(d => d.Changes.Count > 0).Select(d => d.SwitchId).ToArray();
        var fresh = ids.Select(s => TableExport.ForSwitch(after, s, old[s], 2)).ToArray();
        output.WriteLine($"MPFT radix {radix}: one leaf-spine failure changes {ids.Length} switches; a table has {fresh[0].Routes.Count} routes, {fresh[0].Groups.Count} groups; {Environment.ProcessorCount} cores");

        var rows = new List<(string Step, double Us, double Kb, int Gcs)>();
        var only = args.Length > 1 ? args[1] : null;
        void Time(string step, Action<int> one)
        {
            if (only is not null && !step.Contains(only, StringComparison.Ordinal)) return;
            // Warm-up long enough for tiered compilation to finish (one pass measures tier-0 code at several times the cost).
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1000)
                for (var i = 0; i < ids.Length; i++) one(i);
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var gcs = GC.CollectionCount(0);
            var sw = Stopwatch.StartNew();
            var n = 0;
            while (sw.ElapsedMilliseconds < (only is null ? 500 : 10_000))
            {
                for (var i = 0; i < ids.Length; i++) one(i);
                n += ids.Length;
            }
            rows.Add((step, sw.Elapsed.TotalMicroseconds / n, (GC.GetAllocatedBytesForCurrentThread() - bytes) / 1024.0 / n, GC.CollectionCount(0) - gcs));
        }

        Time("routing: export table from the engine", i => _ = TableExport.ForSwitch(after, ids[i], old[ids[i]], 2));
        Time("routing: digest (SHA-256 of canonical form)", i => _ = TableDigest.Compute(fresh[i].Groups.Values, fresh[i].Routes));
        var wire = fresh.Select(t => TableWire.ToProto(t).ToByteArray()).ToArray();
        Time("routing: protobuf encode of the table (generated messages)", i => _ = TableWire.ToProto(fresh[i]).ToByteArray());
        Time("routing: protobuf encode of the table (direct codec)", i => _ = TableCodec.EncodeTable(fresh[i]));
        Time("distribution: protobuf decode of the table (generated messages)", i => _ = TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(wire[i])));
        Time("distribution: protobuf decode of the table (direct codec)", i => _ = TableCodec.DecodeTable(wire[i]));
        Time("distribution: same contents as released?", i => _ = old[ids[i]].SameContents(fresh[i]));
        Time("distribution: diff", i => _ = TableDiff.Compute(old[ids[i]], fresh[i]));
        var diffs = ids.Select((s, i) => TableDiff.Compute(old[s], fresh[i])).ToArray();
        var updates = diffs.Select(d => TableWire.ToProto(TableUpdate.Diff(d, true)).ToByteArray()).ToArray();
        Time("distribution: protobuf encode of the delta (generated messages)", i => _ = TableWire.ToProto(TableUpdate.Diff(diffs[i], true)).ToByteArray());
        Time("distribution: protobuf encode of the delta (direct codec)", i => _ = TableCodec.EncodeUpdate(TableUpdate.Diff(diffs[i], true)));
        Time("agent: protobuf decode of the delta (generated messages)", i => _ = TableWire.FromProto(Pb.RouteUpdate.Parser.ParseFrom(updates[i])));
        Time("agent: protobuf decode of the delta (direct codec)", i => _ = TableCodec.DecodeUpdate(updates[i]));
        Time("agent: delta apply to the table", i => _ = diffs[i].ApplyTo(old[ids[i]]));
        Time("agent: validate", i => _ = fresh[i].Validate(radix));
        var planes = ids.Select(s => new InMemoryDataPlane(radix, SwitchCapacity.For(topology.Switches[s]))).ToArray();
        Time("agent: data plane install", i => planes[i].Install(fresh[i]));
        Time("agent: data plane read-back", i => _ = planes[i].ReadBack());
        Time("agent: whole update (decode, apply, validate, install, read-back)", i =>
        {
            var st = new AgentTableState(old[ids[i]].SwitchName, 64, planes[i]);
            st.Apply(TableUpdate.Full(old[ids[i]]));
            _ = st.Apply(TableCodec.DecodeUpdate(updates[i])!);
        });
        var released = old.ToDictionary(t => t.SwitchName, StringComparer.Ordinal);
        var changed = fresh.ToDictionary(t => t.SwitchName, StringComparer.Ordinal);
        var neighbors = MakeBeforeBreak.Neighbors(topology);
        var mbbWarm = Stopwatch.StartNew();
        while (mbbWarm.ElapsedMilliseconds < 300) _ = MakeBeforeBreak.Order(released, changed, neighbors);
        var mbbBytes = GC.GetAllocatedBytesForCurrentThread();
        var mbbGcs = GC.CollectionCount(0);
        var mbb = Stopwatch.StartNew();
        var runs = 0;
        while (mbb.ElapsedMilliseconds < 1000) { _ = MakeBeforeBreak.Order(released, changed, neighbors); runs++; }
        rows.Add(("distribution: make-before-break order (whole failure, / switches)", mbb.Elapsed.TotalMicroseconds / runs / ids.Length,
            (GC.GetAllocatedBytesForCurrentThread() - mbbBytes) / 1024.0 / runs / ids.Length, GC.CollectionCount(0) - mbbGcs));

        output.WriteLine($"  {"step",-68} {"us/switch",9}  {"ms/failure",10}  {"KB/switch",9}  {"gen0 GCs",8}");
        foreach (var (step, us, kb, gc) in rows)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {step,-68} {us,9:F1}  {us * ids.Length / 1000,10:F2}  {kb,9:F1}  {gc,8}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"sum (the agent's whole update and the generated baselines count again)",-68} {rows.Sum(r => r.Us),9:F1}  {rows.Sum(r => r.Us) * ids.Length / 1000,10:F2}"));
        // The direct codec against the generated messages, measured above in this process.
        foreach (var (baseline, direct) in rows.Where(r => r.Step.EndsWith("(generated messages)", StringComparison.Ordinal))
                     .Join(rows, b => b.Step.Replace("(generated messages)", "(direct codec)", StringComparison.Ordinal), d => d.Step, (b, d) => (b, d)))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {direct.Step[..direct.Step.IndexOf(" (", StringComparison.Ordinal)]}: direct codec {baseline.Us / direct.Us:F1}x faster, {baseline.Kb / Math.Max(0.01, direct.Kb):F1}x less allocated"));
        return Task.FromResult(0);
    }
}
