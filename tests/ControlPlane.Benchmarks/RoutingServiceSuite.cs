using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Fabric;
using ControlPlane.Routing.Service;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Benchmarks;

/// <summary>
/// The routing service's latency-critical path on the default MPFT (16,384 endpoints, 8 planes): from a
/// PortStateReported taken off the bus (decode, credential check, overlay, incremental update, export of the changed
/// switches' tables, protobuf encoding) to its RoutesComputed handed to the publisher. One event at a time, each
/// failing a different leaf-spine link and then restoring it.
/// </summary>
public sealed class RoutingServiceSuite : IBenchmarkSuite
{
    public string Name => "routing-service";

    public string Description => "port event consumed -> RoutesComputed published on the default MPFT (median, p99 over 60 failures + 60 repairs)";

    private sealed class Recorder : IRoutesPublisher
    {
        public readonly ConcurrentDictionary<string, (long Ticks, RoutesComputed Message)> ByTrigger = new(StringComparer.Ordinal);
        public readonly ConcurrentQueue<RoutesComputed> All = new();
        public SemaphoreSlim Signal { get; } = new(0);

        public Task PublishAsync(RoutesComputed message, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var t in message.TriggerIds) ByTrigger[t] = (now, message);
            All.Enqueue(message);
            Signal.Release();
            return Task.CompletedTask;
        }
    }

    public async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var events = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 60;
        var t = FabricGenerator.Generate(new GeneratorParameters { Name = "mpft", Kind = TopologyKind.Mpft });
        var snapshot = FabricSnapshot.Initial(t);
        output.WriteLine($"fabric: {t.Kind}, {t.EndpointCount:N0} endpoints, {t.Switches.Count} switches, {t.Links.Count(l => l.IsSwitchLink):N0} switch links, {t.Planes.Count} planes; {events} link failures + {events} repairs, one at a time");

        const string key = "benchmark-credential-key-0123456789";
        var credentials = AgentCredentials.FromText(key);
        var options = new RoutingServiceOptions { Fabrics = ["mpft"], Adaptive = false };
        var status = new RoutingStatus();
        var recorder = new Recorder();
        await using var registry = new RoutingRegistry((_, _) => Task.FromResult<FabricSnapshot?>(snapshot), recorder, options, status, TimeProvider.System, NullLoggerFactory.Instance);
        var intake = new PortEventIntake(registry, status, credentials, TimeProvider.System, NullLogger<PortEventIntake>.Instance);

        var load = Stopwatch.StartNew();
        registry.Ensure("mpft");
        while (recorder.All.Count(m => m.Complete) < t.Planes.Count) await recorder.Signal.WaitAsync(cancellationToken);
        load.Stop();
        var tableBytes = recorder.All.Where(m => m.Complete).Sum(m => m.Tables.Sum(x => (long)x.Length));
        output.WriteLine($"initial: compute + export + encode of {t.Switches.Count} tables in {load.Elapsed.TotalMilliseconds:N0} ms ({tableBytes / 1e6:N1} MB of protobuf)");

        // Leaf-spine links spread over planes and leaves, deterministic.
        var rng = new Random(7);
        var candidates = t.Links.Where(l => l.IsSwitchLink).ToList();
        var picked = Enumerable.Range(0, events).Select(_ => candidates[rng.Next(candidates.Count)]).ToList();
        var stages = new List<PortStagesView>();
        var down = new List<double>();
        var up = new List<double>();
        var switches = new List<int>();
        var seq = 0;
        // A few warm-up events first, not counted (JIT).
        foreach (var (link, measured) in picked.Take(3).Select(l => (l, false)).Concat(picked.Select(l => (l, true))))
        {
            var leaf = t.Switches[link.A.Device];
            foreach (var isUp in new[] { false, true })
            {
                var trigger = $"bench-{seq++}";
                var ev = new Pb.PortStateEvent
                {
                    SwitchName = leaf.Name,
                    Port = (uint)link.A.Port,
                    Up = isUp,
                    TimeUnixNanos = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 + seq,
                    AgentId = "agent-" + leaf.Name,
                    Credential = credentials.Issue("mpft", leaf.Name),
                };
                var consumed = Stopwatch.GetTimestamp();
                if (!intake.Accept(new PortStateReported { Fabric = "mpft", Payload = ev.ToByteArray(), TriggerId = trigger }, consumed))
                    throw new InvalidOperationException($"event {trigger} refused");
                (long Ticks, RoutesComputed Message) got;
                while (!recorder.ByTrigger.TryGetValue(trigger, out got)) await recorder.Signal.WaitAsync(cancellationToken);
                if (!measured) continue;
                var ms = Stopwatch.GetElapsedTime(consumed, got.Ticks).TotalMilliseconds;
                (isUp ? up : down).Add(ms);
                if (status.Get("mpft")!.LastPortStages is { } st) stages.Add(st);
                switches.Add(got.Message.Tables.Count);
            }
        }
        var all = down.Concat(up).ToList();
        output.WriteLine();
        output.WriteLine($"{"port event -> RoutesComputed",-32} {"events",7} {"median ms",10} {"p99 ms",8} {"max ms",8}");
        Row(output, "port down", down);
        Row(output, "port up", up);
        Row(output, "all", all);
        output.WriteLine($"switches changed per event: median {Pct(switches.Select(x => (double)x).ToList(), 0.5):N0}, max {switches.Max()}");
        var s = status.Get("mpft")!;
        output.WriteLine($"in the service (median): queue {Pct(stages.Select(x => x.QueueMs).ToList(), 0.5):N1} ms, overlay + engine Update {Pct(stages.Select(x => x.UpdateMs).ToList(), 0.5):N1} ms, export + encode {Pct(stages.Select(x => x.ExportMs).ToList(), 0.5):N1} ms, publish {Pct(stages.Select(x => x.PublishMs).ToList(), 0.5):N1} ms");
        Breakdown(output, snapshot, picked);
        output.WriteLine($"status: routing v{s.RoutingVersion}, service-side p50 {s.PortEventLatencyMs.Median:N1} ms, p99 {s.PortEventLatencyMs.P99:N1} ms over {s.PortEventLatencyMs.Count} events");
        return 0;
    }

    /// <summary>The same steps as the service, timed one by one outside it.</summary>
    private static void Breakdown(TextWriter output, FabricSnapshot snapshot, List<Link> picked)
    {
        var result = ControlPlane.Routing.RoutingEngine.Compute(snapshot, ControlPlane.Routing.TrafficPolicy.Default, options: new ControlPlane.Routing.RoutingOptions { Version = 1 });
        var tables = snapshot.Topology.Switches.Select(sw => RoutingExport.ForSwitch(result, sw.Id)).ToArray();
        var update = new List<double>();
        var export = new List<double>();
        var reference = new List<double>();
        var encode = new List<double>();
        foreach (var link in picked.Take(20))
        {
            var sw = Stopwatch.StartNew();
            var next = snapshot.WithLink(link.Id, new ElementState(ElementStatus.Down));
            var (r2, deltas) = ControlPlane.Routing.RoutingEngine.Update(result, next);
            update.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            var exported = deltas.Select(d => TableExport.ForSwitch(r2, d.SwitchId, tables[d.SwitchId])).ToList();
            export.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            foreach (var d in deltas) RoutingExport.ForSwitch(r2, d.SwitchId, tables[d.SwitchId]);
            reference.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            foreach (var x in exported) ControlPlane.Distribution.Wire.TableWire.ToProto(x.WithVersion(0)).ToByteArray();
            encode.Add(sw.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"breakdown (median of 20, outside the service): engine Update {Pct(update, 0.5):N1} ms, export of changed switches {Pct(export, 0.5):N1} ms (RoutingExport.ForSwitch: {Pct(reference, 0.5):N1} ms), protobuf encode {Pct(encode, 0.5):N1} ms");
    }

    private static void Row(TextWriter output, string name, List<double> xs) =>
        output.WriteLine($"{name,-32} {xs.Count,7} {Pct(xs, 0.5),10:N1} {Pct(xs, 0.99),8:N1} {xs.Max(),8:N1}");

    private static double Pct(List<double> xs, double q)
    {
        var s = xs.Order().ToArray();
        return s[Math.Clamp((int)Math.Ceiling(q * s.Length) - 1, 0, s.Length - 1)];
    }
}
