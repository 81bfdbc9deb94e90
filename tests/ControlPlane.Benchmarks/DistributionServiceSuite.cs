using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Service;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Routing;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Benchmarks;

/// <summary>
/// The distribution service's per-fabric loop with in-process agents on the MPFT (768 switches): link failures (and
/// repairs) from the routing engine, time from RoutesComputed received (before decoding its tables) to the last
/// agent's ack, through protobuf encode/decode of every update and ack as on the bus, make-before-break waves included.
/// Args: [failures] (default 100) [radix] (default 64).
/// </summary>
public sealed class DistributionServiceSuite : IBenchmarkSuite
{
    public string Name => "distribution-service";

    public string Description => "RoutesComputed -> every agent acknowledged, in one process, MPFT link failures (p50/p99)";

    public async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var failures = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100;
        if (failures < 0) throw new ArgumentException($"failures must be 0 or more, got {failures}");
        var radix = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 64;
        var topology = FabricGenerator.Generate(new GeneratorParameters { Name = "bench", Kind = TopologyKind.Mpft, Radix = radix });
        var snapshot = FabricSnapshot.Initial(topology);
        var result = RoutingEngine.Compute(snapshot, TrafficPolicy.Default);
        var tables = new Dictionary<string, SwitchTable>(RoutingExport.All(result), StringComparer.Ordinal);
        output.WriteLine($"MPFT radix {radix}: {topology.Switches.Count} switches, {topology.Links.Count(l => l.IsSwitchLink)} switch links, {tables.Values.Sum(t => t.Routes.Count)} routes; {Environment.ProcessorCount} cores");

        var agents = new InProcessAgents(topology);
        var options = new DistributionServiceOptions { PriorityWaveTimeout = TimeSpan.FromSeconds(5), ConvergenceTimeout = TimeSpan.FromSeconds(30) };
        await using var d = new FabricDistributor(topology, options, [], TimeProvider.System, agents, null, NullLogger.Instance);
        agents.Distributor = d;
        foreach (var s in topology.Switches) d.Hello(agents.Hello(s.Name), "agent-" + s.Name, "agents", DateTimeOffset.UtcNow);

        {
            // The ordering alone, for one failure, single-threaded.
            var link0 = topology.Links.First(l => l.Role == LinkRole.LeafSpine).Id;
            var (r1, ds) = RoutingEngine.Update(result, snapshot.WithLink(link0, new ElementState(ElementStatus.Down)));
            var nt = ds.Where(x => x.Changes.Count > 0).ToDictionary(x => x.SwitchName, x => RoutingExport.ForSwitch(r1, x.SwitchId, tables[x.SwitchName], 2), StringComparer.Ordinal);
            var nb = MakeBeforeBreak.Neighbors(topology);
            var ow = Stopwatch.StartNew();
            var runs = 0;
            RolloutPlan? p = null;
            while (ow.ElapsedMilliseconds < 2000) { p = MakeBeforeBreak.Order(tables, nt, nb); runs++; }
            output.WriteLine($"make-before-break order of one failure ({nt.Count} switches, {p!.Waves.Length} waves): {ow.Elapsed.TotalMilliseconds / runs:F2} ms");
            var ag = new AgentTableState(nt.Keys.First(), 1, new InMemoryDataPlane(64, SwitchCapacity.For(topology.Switches[topology.FindSwitch(nt.Keys.First())])));
            ag.Apply(TableUpdate.Full(tables[nt.Keys.First()]));
            var delta = TableDiff.Compute(tables[nt.Keys.First()], nt.Values.First());
            ow.Restart();
            runs = 0;
            while (ow.ElapsedMilliseconds < 1000) { var a2 = new AgentTableState(nt.Keys.First(), 1, new InMemoryDataPlane(64, SwitchCapacity.For(topology.Switches[0]))); a2.Apply(TableUpdate.Full(tables[nt.Keys.First()])); runs++; }
            output.WriteLine($"agent full-table apply (with read-back): {ow.Elapsed.TotalMilliseconds / runs:F2} ms; delta {delta}");
        }
        long version = 0;
        var sw = Stopwatch.StartNew();
        var first = await Roll(d, agents, ++version, tables.Values, "initial", cancellationToken);
        output.WriteLine($"  loop time: {d.LoopTimes}");
        output.WriteLine($"initial: {first.Switches} switches, {first.Waves} waves, {Ms(first):F0} ms (full tables), wall {sw.Elapsed.TotalMilliseconds:F0} ms");

        var random = new Random(5);
        var uplinks = topology.Links.Where(l => l.Role == LinkRole.LeafSpine).Select(l => l.Id).ToList();
        var down = new List<double>();
        var up = new List<double>();
        var switches = new List<int>();
        var waves = new List<int>();
        for (var i = 0; i < failures && !cancellationToken.IsCancellationRequested; i++)
        {
            var link = uplinks[random.Next(uplinks.Count)];
            foreach (var (state, into) in new[] { (new ElementState(ElementStatus.Down, "bench"), down), (ElementState.InitialUp, up) })
            {
                snapshot = snapshot.WithLink(link, state);
                var (next, deltas) = RoutingEngine.Update(result, snapshot);
                result = next;
                var changed = new List<SwitchTable>();
                foreach (var delta in deltas.Where(x => x.Changes.Count > 0))
                {
                    var t = RoutingExport.ForSwitch(result, delta.SwitchId, tables[delta.SwitchName]);
                    tables[delta.SwitchName] = t;
                    changed.Add(t);
                }
                var c = await Roll(d, agents, ++version, changed, "port", cancellationToken);
                if (c.Lagging.Count > 0) throw new InvalidOperationException($"rollout v{version} left {string.Join(", ", c.Lagging)} lagging");
                into.Add(Ms(c));
                if (into == down)
                {
                    switches.Add(c.Switches);
                    waves.Add(c.Waves);
                }
            }
        }
        foreach (var (name, t) in tables)
        {
            if (!agents.Current(name).SameContents(t)) throw new InvalidOperationException($"{name} does not hold routing's table at the end");
        }
        if (down.Count == 0) return 0;
        output.WriteLine($"link failures: {down.Count}, switches changed per failure: mean {switches.Average():F0} (max {switches.Max()}), waves mean {waves.Average():F1} (max {waves.Max()})");
        output.WriteLine($"failure: RoutesComputed received -> all acked: p50 {P(down, 0.5):F1} ms, p99 {P(down, 0.99):F1} ms, max {down.Max():F1} ms");
        output.WriteLine($"repair:  RoutesComputed received -> all acked: p50 {P(up, 0.5):F1} ms, p99 {P(up, 0.99):F1} ms, max {up.Max():F1} ms");
        output.WriteLine($"loop time (order, advance, plan, encode, handle): {d.LoopTimes}; agents apply {TimeSpan.FromTicks(agents.ApplyTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency)}");
        output.WriteLine($"updates sent {agents.Updates}, of which deltas {agents.Deltas}; update bytes mean {agents.Bytes / Math.Max(1, agents.Updates)} B");
        output.WriteLine("target (issue 5): failure -> all affected agents acknowledged < 100 ms p99 in one process (this figure excludes the routing computation)");
        return 0;
    }

    private static double Ms(RoutesConverged c) => (c.ConvergedAt - c.ReceivedAt).TotalMilliseconds;

    private static double P(List<double> xs, double q)
    {
        var s = xs.Order().ToList();
        return s[Math.Min(s.Count - 1, (int)Math.Ceiling(q * s.Count) - 1)];
    }

    private static async Task<RoutesConverged> Roll(FabricDistributor d, InProcessAgents agents, long version, IEnumerable<SwitchTable> tables, string reason, CancellationToken ct)
    {
        var wait = agents.Expect(version);
        var m = new RoutesComputed
        {
            Fabric = d.Fabric, RoutingVersion = version, TopologyVersion = version, Priority = true, Complete = false, Reason = reason,
            ComputedAt = DateTimeOffset.UtcNow, Tables = [.. tables.Select(t => TableWire.ToProto(t.WithVersion(0)).ToByteArray())],
        };
        // As the consumer does: received, then decoded.
        var received = DateTimeOffset.UtcNow;
        var decoded = m.Tables.Select(b => TableWire.FromProto(Pb.RouteTable.Parser.ParseFrom(b))).ToList();
        d.Computed(m, decoded, received);
        return await wait.WaitAsync(TimeSpan.FromSeconds(60), ct);
    }

    /// <summary>Every switch's agent in this process: updates decoded and applied on the thread pool, acks encoded and decoded.</summary>
    private sealed class InProcessAgents : IDistributionOutput
    {
        private readonly Dictionary<string, AgentTableState> _agents = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<long, TaskCompletionSource<RoutesConverged>> _waits = new();

        public InProcessAgents(FabricTopology topology)
        {
            foreach (var s in topology.Switches) _agents[s.Name] = new AgentTableState(s.Name, 1, new InMemoryDataPlane(s.Radix, SwitchCapacity.For(s)));
        }

        public FabricDistributor? Distributor { get; set; }

        public long Updates;
        public long Deltas;
        public long Bytes;
        public long ApplyTicks;

        public AgentHelloInfo Hello(string sw) => _agents[sw].Hello();

        public SwitchTable Current(string sw)
        {
            lock (_agents[sw]) return _agents[sw].Current;
        }

        public Task<RoutesConverged> Expect(long version) => _waits.GetOrAdd(version, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public Task SendAsync(string replyQueue, RouteUpdateOrdered update, CancellationToken cancellationToken)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                var u = TableWire.FromProto(Pb.RouteUpdate.Parser.ParseFrom(update.Payload))!;
                var agent = _agents[update.SwitchName];
                AgentAck ack;
                var t0 = Stopwatch.GetTimestamp();
                lock (agent) ack = agent.Apply(u);
                Interlocked.Add(ref ApplyTicks, Stopwatch.GetTimestamp() - t0);
                Interlocked.Increment(ref Updates);
                if (u.Delta is not null) Interlocked.Increment(ref Deltas);
                Interlocked.Add(ref Bytes, update.Payload.Length);
                var wire = TableWire.ToProto(ack, "agent-" + ack.SwitchName).ToByteArray();
                Distributor!.Ack(TableWire.FromProto(Pb.RouteAck.Parser.ParseFrom(wire)), "agent-" + ack.SwitchName);
            }, null);
            return Task.CompletedTask;
        }

        public Task PublishAsync(RoutesConverged converged, CancellationToken cancellationToken)
        {
            _waits.GetOrAdd(converged.RoutingVersion, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(converged);
            return Task.CompletedTask;
        }
    }
}
