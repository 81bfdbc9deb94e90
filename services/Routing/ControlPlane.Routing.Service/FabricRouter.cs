using System.Diagnostics;
using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Routing.Service;

/// <summary>Work for a fabric's router loop.</summary>
internal abstract record RouterWork;

/// <summary>(Re)load the fabric from the store and compute every table afresh.</summary>
internal sealed record LoadWork(string Reason) : RouterWork;

/// <summary>An authenticated port event. <paramref name="ConsumedTicks"/> is the <see cref="Stopwatch"/> time it was taken off the bus.</summary>
internal sealed record PortWork(string SwitchName, int Port, bool Up, long TimeUnixNanos, DateTimeOffset At, string? TriggerId, string AgentId, long ConsumedTicks) : RouterWork;

/// <summary>The inventory changed the fabric.</summary>
internal sealed record TopologyWork(TopologyChanged Event) : RouterWork;

/// <summary>Link loads of one plane from telemetry.</summary>
internal sealed record LoadsWork(LinkLoadSnapshot Snapshot) : RouterWork;

/// <summary>Someone (a distribution that started late) asks for the complete current tables again.</summary>
internal sealed record RepublishWork(string Reason) : RouterWork;

/// <summary>The adaptive period may have elapsed.</summary>
internal sealed record TickWork : RouterWork;

/// <summary>A congestion-driven computation finished off the loop, from <paramref name="Base"/>.</summary>
internal sealed record AdaptiveDone(RoutingResult Base, AdaptiveState State, RoutingResult? Next, IReadOnlyList<int> Candidates, double Ms, Exception? Error) : RouterWork;

/// <summary>What the REST endpoints read: replaced whole when the topology changes, table slots replaced one by one.</summary>
/// <param name="Topology">The routed topology.</param>
/// <param name="Tables">Last exported table per switch id (null before the first export).</param>
/// <param name="Result">The current routing result.</param>
internal sealed record RouterView(FabricTopology Topology, SwitchTable?[] Tables, RoutingResult Result)
{
    public volatile RoutingResult Current = Result;
}

/// <summary>Publishes computed tables (the bus in the service; a recorder in benchmarks).</summary>
public interface IRoutesPublisher
{
    /// <summary>Publishes one message.</summary>
    Task PublishAsync(RoutesComputed message, CancellationToken cancellationToken);
}

/// <summary>
/// The routing state of one fabric, owned by one loop fed through a channel: the base snapshot from the store, the
/// operational overlay of ports agents report down, the current result, the last exported table per switch, the
/// congestion loop's state and the latest link loads. Nothing here is touched outside the loop except the view and
/// the status entry, so no lock is held across an await.
/// </summary>
internal sealed class FabricRouter : IAsyncDisposable
{
    private const int MaxBatch = 4096;
    private static readonly ElementState OverlayDown = new(ElementStatus.Down, "port reported down by agent", "agent");

    private readonly string _fabric;
    private readonly Func<string, CancellationToken, Task<FabricSnapshot?>> _load;
    private readonly IRoutesPublisher _publisher;
    private readonly RoutingServiceOptions _options;
    private readonly AdaptivePolicy _policy;
    private readonly FabricStatusEntry _status;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Action<FabricRouter> _gone;
    private readonly Channel<RouterWork> _work = Channel.CreateUnbounded<RouterWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    // Loop-owned state.
    private FabricTopology? _topology;
    private FabricSnapshot? _base;
    private long _lastVersion;
    private FabricSnapshot? _effective;
    private RoutingResult? _result;
    private SwitchTable?[] _tables = [];
    private byte[]?[] _wire = []; // protobuf of _tables with version 0, encoded when first sent whole
    private SwitchTable?[] _sent = []; // per switch, the table last sent (whole or as a delta): the base of the next delta
    private long[] _sentVersion = []; // the routing version of the message that carried it
    private static readonly ParallelOptions Parallelism = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };
    private byte[] _downEnds = []; // per link: bit 1 = end A reports its port down, bit 2 = end B
    private bool[] _overlaid = []; // per link: the effective state is the overlay's Down
    private int _overlayCount;
    private readonly Dictionary<(int Link, int End), long> _lastEventNanos = [];
    private readonly List<PortWork> _deferred = [];
    private AdaptiveState? _adaptive;
    private double[] _loadA = [], _loadB = [];
    private int[][] _planeLinks = [];
    private long[] _planeSeq = [];
    private bool[] _planeFull = [];
    private bool _loadsDirty;
    private bool _adaptiveRunning;
    private bool _tickScheduled;
    private DateTimeOffset? _lastAdaptive;
    private DateTimeOffset _settledAfter = DateTimeOffset.MinValue; // loads measured before this were measured (partly) under older tables
    private readonly Queue<string> _recentTriggers = new();
    private readonly HashSet<string> _recentTriggerSet = new(StringComparer.Ordinal);

    public FabricRouter(string fabric, Func<string, CancellationToken, Task<FabricSnapshot?>> load, IRoutesPublisher publisher, RoutingServiceOptions options,
        FabricStatusEntry status, TimeProvider time, ILogger log, Action<FabricRouter> gone)
    {
        _fabric = fabric;
        _load = load;
        _publisher = publisher;
        _options = options;
        _policy = options.AdaptivePolicy.ToPolicy();
        _status = status;
        _time = time;
        _log = log;
        _gone = gone;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public string Fabric => _fabric;

    /// <summary>What the endpoints read; null until the first computation.</summary>
    public RouterView? View { get; private set; }

    /// <summary>Queues work; false once the router is stopped.</summary>
    public bool Post(RouterWork work) => _work.Writer.TryWrite(work);

    private async Task RunAsync(CancellationToken ct)
    {
        var batch = new List<RouterWork>();
        var ports = new List<PortWork>();
        try
        {
            while (await _work.Reader.WaitToReadAsync(ct))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _work.Reader.TryRead(out var w)) batch.Add(w);
                foreach (var w in batch)
                {
                    // Port events that queued up while something ran fold into one Update.
                    if (w is PortWork p) { ports.Add(p); continue; }
                    if (ports.Count > 0) await Guard(() => PortsAsync(ports, ct), "port events");
                    ports.Clear();
                    await Guard(() => HandleAsync(w, ct), w.GetType().Name);
                }
                if (ports.Count > 0) await Guard(() => PortsAsync(ports, ct), "port events");
                ports.Clear();
                MaybeAdaptive();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task Guard(Func<Task> action, string what)
    {
        try
        {
            await action();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // One bad input or a failed computation must not stop the fabric's loop.
            _log.LogError(e, "routing: fabric {Fabric}: handling {What} failed", _fabric, what);
            _status.SetState(_result is null ? "loading" : "routing", $"{what}: {e.Message}");
        }
    }

    private Task HandleAsync(RouterWork w, CancellationToken ct) => w switch
    {
        LoadWork l => LoadAsync(l.Reason, ct),
        TopologyWork t => TopologyAsync(t.Event, ct),
        LoadsWork s => Loads(s.Snapshot),
        TickWork => Tick(),
        RepublishWork r => RepublishAsync(r.Reason, ct),
        AdaptiveDone d => AdaptiveDoneAsync(d, ct),
        _ => Task.CompletedTask,
    };

    private Task Tick()
    {
        _tickScheduled = false;
        return Task.CompletedTask;
    }

    // ---------------------------------------------------------------- full loads

    private async Task LoadAsync(string reason, CancellationToken ct)
    {
        FabricSnapshot? snap;
        try
        {
            snap = await _load(_fabric, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _log.LogWarning("routing: fabric {Fabric}: store not readable ({Message}); retrying in {Ms} ms", _fabric, e.Message, _options.StoreRetryMs);
            _status.SetState(_result is null ? "store-unreachable" : "routing", e.Message);
            RetryLater(new LoadWork(reason));
            return;
        }
        if (snap is null)
        {
            _log.LogInformation("routing: fabric {Fabric} is not in the store; dropping its state", _fabric);
            _gone(this);
            return;
        }
        var sw = Stopwatch.StartNew();
        var sameStructure = _topology is not null && SameStructure(_topology, snap.Topology);
        var topology = sameStructure ? _topology! : snap.Topology;
        var previousTables = _tables;
        var previousTopology = _topology;
        var version = (_result?.Version ?? _lastVersion) + 1;
        if (!sameStructure) ResetFor(topology);
        _base = FabricSnapshot.Create(topology, snap.Version, snap.LinkStates, snap.SwitchStates);
        foreach (var p in _deferred) ApplyPort(p, out _);
        _deferred.Clear();
        _effective = Compose(_base, Math.Max((_effective?.Version ?? 0) + 1, _base.Version));
        var options = new RoutingOptions { GroupSize = _options.GroupSize, Version = version, Adaptive = _options.Adaptive ? _adaptive!.Weigher : null };
        var result = RoutingEngine.Compute(_effective, TrafficPolicy.Default, options: options);

        var tables = new SwitchTable?[topology.Switches.Count];
        var wire = new byte[]?[tables.Length];
        Parallel.For(0, tables.Length, Parallelism, s =>
        {
            SwitchTable? prev = null;
            if (sameStructure) prev = previousTables[s];
            else if (previousTopology is not null && previousTopology.FindSwitch(topology.Switches[s].Name) is var old and >= 0 && old < previousTables.Length) prev = previousTables[old];
            tables[s] = TableExport.ForSwitch(result, s, prev);
            wire[s] = Encode(tables[s]!);
        });
        _result = result;
        _lastVersion = result.Version;
        _tables = tables;
        _wire = wire;
        _sent = new SwitchTable?[tables.Length];
        _sentVersion = new long[tables.Length];
        View = new RouterView(topology, tables, result);

        // One complete message per plane keeps each message a plane's worth of tables.
        var byPlane = Enumerable.Range(0, topology.Switches.Count).GroupBy(s => topology.Switches[s].Plane).OrderBy(g => g.Key);
        var published = 0;
        foreach (var g in byPlane)
        {
            var ids = g.ToList();
            await _publisher.PublishAsync(Message(result, g.Key, priority: false, complete: true, reason, [], null, ids), ct);
            published += ids.Count;
        }
        Computed(reason, sw.Elapsed.TotalMilliseconds, published);
        Unsettle();
        _log.LogInformation("routing: fabric {Fabric}: {Reason} tables for {Switches} switches, routing v{Version}, topology v{Topology}, {Ms:0} ms",
            _fabric, reason, published, result.Version, _effective.Version, sw.Elapsed.TotalMilliseconds);
    }

    private async Task RepublishAsync(string reason, CancellationToken ct)
    {
        // Before the first computation there is nothing to repeat: that computation publishes complete tables itself.
        if (_result is null || _topology is null) return;
        var topology = _topology;
        foreach (var g in Enumerable.Range(0, topology.Switches.Count).GroupBy(s => topology.Switches[s].Plane).OrderBy(g => g.Key))
            await _publisher.PublishAsync(Message(_result, g.Key, priority: false, complete: true, reason, [], null, g.ToList()), ct);
        _log.LogInformation("routing: fabric {Fabric}: complete tables published again ({Reason})", _fabric, reason);
    }

    private void ResetFor(FabricTopology topology)
    {
        _topology = topology;
        var n = topology.Links.Count;
        _downEnds = new byte[n];
        _overlaid = new bool[n];
        _overlayCount = 0;
        _lastEventNanos.Clear();
        _adaptive = AdaptiveState.Initial(n);
        _loadA = new double[n];
        _loadB = new double[n];
        _planeLinks = Enumerable.Range(0, topology.Planes.Count).Select(p => topology.Links.Where(l => l.Plane == p).Select(l => l.Id).ToArray()).ToArray();
        _planeSeq = new long[topology.Planes.Count];
        _planeFull = new bool[topology.Planes.Count];
        _loadsDirty = false;
        _lastAdaptive = null;
        _result = null;
    }

    private static bool SameStructure(FabricTopology a, FabricTopology b) =>
        a.Switches.Count == b.Switches.Count && a.Links.Count == b.Links.Count && a.Hosts.Count == b.Hosts.Count && a.Planes.Count == b.Planes.Count
        && a.Switches.Select(s => (s.Name, s.Radix, s.Plane)).SequenceEqual(b.Switches.Select(s => (s.Name, s.Radix, s.Plane)))
        && a.Links.Select(l => (l.A, l.B)).SequenceEqual(b.Links.Select(l => (l.A, l.B)));

    /// <summary>The base snapshot with every link an agent reports down taken out.</summary>
    private FabricSnapshot Compose(FabricSnapshot @base, long version)
    {
        var links = new ElementState[@base.Topology.Links.Count];
        for (var l = 0; l < links.Length; l++)
        {
            _overlaid[l] = _downEnds[l] != 0;
            links[l] = _overlaid[l] ? OverlayDown : @base.LinkState(l);
        }
        _overlayCount = _overlaid.Count(x => x);
        return FabricSnapshot.Create(@base.Topology, version, links, @base.SwitchStates);
    }

    private void RetryLater(RouterWork work)
    {
        var ct = _stop.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_options.StoreRetryMs), _time, ct);
                Post(work);
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
    }

    // ---------------------------------------------------------------- port events (the latency-critical path)

    private async Task PortsAsync(List<PortWork> ports, CancellationToken ct)
    {
        if (_topology is null || _result is null || _effective is null || _base is null)
        {
            _deferred.AddRange(ports); // applied by the first load
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var touched = new List<int>();
        var accepted = new List<PortWork>(ports.Count);
        foreach (var p in ports)
            if (ApplyPort(p, out var link))
            {
                accepted.Add(p);
                touched.Add(link);
            }
        _status.PortEventsAccepted(accepted.Count);
        if (accepted.Count == 0) return;

        var changes = new List<KeyValuePair<int, ElementState>>();
        foreach (var l in touched.Distinct())
        {
            var down = _downEnds[l] != 0;
            if (down == _overlaid[l]) continue;
            _overlaid[l] = down;
            _overlayCount += down ? 1 : -1;
            changes.Add(new(l, down ? OverlayDown : _base.LinkState(l)));
        }
        var triggers = accepted.Select(p => p.TriggerId).Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).Distinct(StringComparer.Ordinal).ToList();
        var triggeredAt = accepted.Min(p => p.At);
        var reason = accepted.Any(p => !p.Up) ? "port-down" : "port-up";

        if (changes.Count == 0)
        {
            // Nothing to route around (a repeat, or the other end of a link already down): publish only for a trigger
            // never published, so whoever measures convergence for it is not left waiting.
            var fresh = triggers.Where(t => !_recentTriggerSet.Contains(t)).ToList();
            if (fresh.Count > 0)
            {
                var plane = touched.Count > 0 ? _topology.Links[touched[0]].Plane : (int?)null;
                await _publisher.PublishAsync(Message(_result, plane, priority: true, complete: false, reason, fresh, triggeredAt, []), ct);
                Remember(fresh);
            }
            Latencies(accepted);
            return;
        }

        var queued = Stopwatch.GetElapsedTime(accepted.Min(p => p.ConsumedTicks), started).TotalMilliseconds;
        _effective = _effective.With(changes);
        var t0 = Stopwatch.GetTimestamp();
        var (next, deltas) = RoutingEngine.Update(_result, _effective);
        _result = next;
        var t1 = Stopwatch.GetTimestamp();
        var changed = Export(deltas.Select(d => d.SwitchId));
        var t2 = Stopwatch.GetTimestamp();
        var planes = changes.Select(c => _topology.Links[c.Key].Plane).Concat(changed.Select(s => _topology.Switches[s].Plane)).Distinct().ToList();
        await _publisher.PublishAsync(Message(next, planes.Count == 1 ? planes[0] : null, priority: true, complete: false, reason, triggers, triggeredAt, changed), ct);
        var t3 = Stopwatch.GetTimestamp();
        _status.Stages(new PortStagesView(queued, Stopwatch.GetElapsedTime(started, t0).TotalMilliseconds + Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds,
            Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds, accepted.Count));
        Remember(triggers);
        Latencies(accepted);
        Computed(reason, Stopwatch.GetElapsedTime(started).TotalMilliseconds, changed.Count);
        if (changed.Count > 0) Unsettle();
    }

    private void Latencies(List<PortWork> ports)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var p in ports) _status.Latency(Stopwatch.GetElapsedTime(p.ConsumedTicks, now).TotalMilliseconds);
    }

    private void Remember(List<string> triggers)
    {
        foreach (var t in triggers)
        {
            if (!_recentTriggerSet.Add(t)) continue;
            _recentTriggers.Enqueue(t);
            if (_recentTriggers.Count > 1024) _recentTriggerSet.Remove(_recentTriggers.Dequeue());
        }
    }

    /// <summary>Records one event in the overlay; false (logged and counted) when it names no cabled port of the fabric or is stale.</summary>
    private bool ApplyPort(PortWork p, out int link)
    {
        link = -1;
        var topo = _topology!;
        var sw = topo.FindSwitch(p.SwitchName);
        if (sw < 0)
        {
            _status.Reject(PortEventRejection.UnknownSwitch);
            _log.LogWarning("routing: port event refused: fabric {Fabric} has no switch '{Switch}' (agent {Agent})", _fabric, p.SwitchName, p.AgentId);
            return false;
        }
        var radix = topo.Switches[sw].Radix;
        if (p.Port < 1 || p.Port > radix || (link = topo.LinkAtSwitchPort(sw, p.Port)) < 0)
        {
            _status.Reject(PortEventRejection.UnknownPort);
            _log.LogWarning("routing: port event refused: switch {Switch} of fabric {Fabric} has no cabled port {Port} (radix {Radix}, agent {Agent})", p.SwitchName, _fabric, p.Port, radix, p.AgentId);
            link = -1;
            return false;
        }
        var l = topo.Links[link];
        var end = !l.A.IsHost && l.A.Device == sw && l.A.Port == p.Port ? 1 : 2;
        // Events of one port arrive in order from its agent; an older one that overtook a newer one is ignored.
        if (p.TimeUnixNanos > 0)
        {
            if (_lastEventNanos.TryGetValue((link, end), out var last) && p.TimeUnixNanos < last) return false;
            _lastEventNanos[(link, end)] = p.TimeUnixNanos;
        }
        if (p.Up) _downEnds[link] &= (byte)~end;
        else _downEnds[link] |= (byte)end;
        return true;
    }

    /// <summary>
    /// Exports the named switches' tables and encodes them, in parallel over switches; returns those whose contents
    /// changed (their slots updated). Digests compare contents: they are needed for the wire anyway.
    /// </summary>
    private List<int> Export(IEnumerable<int> switchIds)
    {
        var ids = switchIds.Distinct().Order().ToArray();
        var result = _result!;
        var tables = new SwitchTable?[ids.Length];
        var wire = new byte[]?[ids.Length];
        void One(int i)
        {
            var prev = _tables[ids[i]];
            var t = TableExport.ForSwitch(result, ids[i], prev);
            if (prev is not null && prev.Digest.SequenceEqual(t.Digest)) return;
            tables[i] = t;
            // Whole tables are encoded here, in parallel, only when they will be sent whole; deltas are made when sent.
            if (!_options.PublishDeltas) wire[i] = Encode(t);
        }
        if (ids.Length < 16) for (var i = 0; i < ids.Length; i++) One(i);
        else Parallel.For(0, ids.Length, Parallelism, One);
        var changed = new List<int>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (tables[i] is null) continue;
            _tables[ids[i]] = tables[i];
            _wire[ids[i]] = wire[i];
            changed.Add(ids[i]);
        }
        if (View is { } v) v.Current = result;
        return changed;
    }

    private static byte[] Encode(SwitchTable t) => TableCodec.EncodeTable(t.WithVersion(0));

    // ---------------------------------------------------------------- inventory changes

    private async Task TopologyAsync(TopologyChanged ev, CancellationToken ct)
    {
        switch (ev.Kind)
        {
            case TopologyChangeKind.Created or TopologyChangeKind.Imported:
                await LoadAsync("initial", ct);
                return;
            case TopologyChangeKind.Deleted:
                _gone(this);
                return;
        }
        if (_topology is null || _base is null || _result is null || _effective is null)
        {
            await LoadAsync("initial", ct);
            return;
        }
        if (ev.Version <= _base.Version) return; // already seen (duplicate or overtaken by a reload)
        var sw = Stopwatch.StartNew();
        FabricSnapshot nextBase;
        if (ev.PreviousVersion == _base.Version && TryApply(_base, ev, out var applied)) nextBase = applied;
        else
        {
            // A missed change, or changes this service cannot read: take the states from the store.
            FabricSnapshot? snap;
            try
            {
                snap = await _load(_fabric, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _log.LogWarning("routing: fabric {Fabric}: store not readable for v{Version} ({Message}); retrying", _fabric, ev.Version, e.Message);
                RetryLater(new TopologyWork(ev));
                return;
            }
            if (snap is null) { _gone(this); return; }
            if (!SameStructure(_topology, snap.Topology)) { await LoadAsync("initial", ct); return; }
            nextBase = FabricSnapshot.Create(_topology, snap.Version, snap.LinkStates, snap.SwitchStates);
        }
        _base = nextBase;
        _effective = Compose(_base, Math.Max(_effective.Version + 1, _base.Version));
        var (next, deltas) = RoutingEngine.Update(_result, _effective);
        _result = next;
        var changed = Export(deltas.Select(d => d.SwitchId));
        var outOfService = ev.Changes.Any(c => c.To is { } to && !string.Equals(to, "up", StringComparison.OrdinalIgnoreCase));
        var reason = outOfService ? "drain" : "topology";
        var planes = changed.Select(s => _topology.Switches[s].Plane).Concat(ElementPlanes(ev)).Distinct().ToList();
        await _publisher.PublishAsync(Message(next, planes.Count == 1 ? planes[0] : null, priority: true, complete: false, reason, [], ev.At, changed), ct);
        Computed(reason, sw.Elapsed.TotalMilliseconds, changed.Count);
        if (changed.Count > 0) Unsettle();
    }

    private IEnumerable<int> ElementPlanes(TopologyChanged ev)
    {
        foreach (var c in ev.Changes)
        {
            if (!int.TryParse(c.Id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)) continue;
            if (c.Element == "link" && id < _topology!.Links.Count) yield return _topology.Links[id].Plane;
            else if (c.Element == "switch" && id < _topology!.Switches.Count) yield return _topology.Switches[id].Plane;
        }
    }

    /// <summary>Applies the listed element changes to the base snapshot; false when one cannot be read (the caller reloads).</summary>
    private static bool TryApply(FabricSnapshot @base, TopologyChanged ev, out FabricSnapshot next)
    {
        next = @base;
        var topo = @base.Topology;
        var links = @base.LinkStates.ToArray();
        var switches = @base.SwitchStates.ToArray();
        foreach (var c in ev.Changes)
        {
            if (c.To is null || !Enum.TryParse<ElementStatus>(c.To, ignoreCase: true, out var status) || !Enum.IsDefined(status)) return false;
            if (!int.TryParse(c.Id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)) return false;
            var state = new ElementState(status, c.Reason, c.By, ev.At);
            if (c.Element == "link" && id < links.Length) links[id] = state;
            else if (c.Element == "switch" && id < switches.Length) switches[id] = state;
            else return false;
        }
        next = FabricSnapshot.Create(topo, ev.Version, links, switches);
        return true;
    }

    // ---------------------------------------------------------------- link loads and the congestion loop

    private Task Loads(LinkLoadSnapshot s)
    {
        if (_topology is null) return Task.CompletedTask; // the next full snapshot after the load will do
        if (s.Plane < 0 || s.Plane >= _planeLinks.Length)
        {
            _status.LoadSnapshot(false);
            _log.LogWarning("routing: fabric {Fabric}: link loads for plane {Plane}, which does not exist (planes 0..{Max})", _fabric, s.Plane, _planeLinks.Length - 1);
            return Task.CompletedTask;
        }
        if (!s.IsFull && (!_planeFull[s.Plane] || s.Sequence != _planeSeq[s.Plane] + 1))
        {
            // A gap: deltas cannot be trusted until the next full snapshot.
            _planeFull[s.Plane] = false;
            _status.LoadSnapshot(false);
            return Task.CompletedTask;
        }
        if (s.IsFull)
            foreach (var l in _planeLinks[s.Plane]) { _loadA[l] = 0; _loadB[l] = 0; }
        var bad = 0;
        foreach (var x in s.Loads ?? [])
        {
            if (x is null || x.LinkId < 0 || x.LinkId >= _topology.Links.Count || _topology.Links[x.LinkId].Plane != s.Plane) { bad++; continue; }
            _loadA[x.LinkId] = Util(x.UtilAtoB);
            _loadB[x.LinkId] = Util(x.UtilBtoA);
        }
        if (bad > 0) _log.LogWarning("routing: fabric {Fabric}: {Bad} link loads of plane {Plane} name links outside the plane; ignored", _fabric, bad, s.Plane);
        _planeSeq[s.Plane] = s.Sequence;
        _planeFull[s.Plane] = true;
        // Loads of a period that ended before the last published tables could settle describe older tables: merged (the
        // deltas that follow build on them) but never acted on, or the loop chases its own past and oscillates.
        if (s.PeriodEnd >= _settledAfter) _loadsDirty = true;
        _status.LoadSnapshot(true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Loads count again only for periods that end a settling time after now (tables installed, telemetry smoothed).
    /// Called after every publish that changed tables, failure-driven ones included: loads from before a reroute
    /// describe paths that no longer exist.
    /// </summary>
    private void Unsettle()
    {
        _settledAfter = _time.GetUtcNow() + TimeSpan.FromMilliseconds(_options.AdaptiveSettleMs);
        _loadsDirty = false;
    }

    private static double Util(double u) => double.IsFinite(u) && u > 0 ? Math.Min(u, 100) : 0;

    /// <summary>Starts a congestion-driven computation when loads changed and the period allows; otherwise arms a tick.</summary>
    private void MaybeAdaptive()
    {
        if (!_options.Adaptive || !_loadsDirty || _adaptiveRunning || _result is null || _effective is null || _adaptive is null) return;
        var now = _time.GetUtcNow();
        var period = TimeSpan.FromMilliseconds(_options.AdaptivePeriodMs);
        if (_lastAdaptive is { } last && now - last < period)
        {
            if (!_tickScheduled)
            {
                _tickScheduled = true;
                var due = last + period - now;
                var ct = _stop.Token;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Task.Delay(due, _time, ct);
                        Post(new TickWork());
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }, CancellationToken.None);
            }
            return;
        }
        _lastAdaptive = now;
        _loadsDirty = false;
        _adaptiveRunning = true;
        var @base = _result;
        var snapshot = _effective;
        var state = _adaptive;
        var loads = new LinkLoads((double[])_loadA.Clone(), (double[])_loadB.Clone());
        var policy = _policy;
        AdaptiveState stepped;
        try
        {
            stepped = AdaptiveController.Step(state, snapshot, loads, policy);
        }
        catch (FabricInputException e)
        {
            _adaptiveRunning = false;
            _log.LogError(e, "routing: fabric {Fabric}: congestion step failed", _fabric);
            _status.SetState("routing", "adaptive: " + e.Message);
            return;
        }
        if (stepped.MaxMultiplierMove == 0)
        {
            // Every direction inside the dead band (or pinned at a bound): no multiplier moved, so no table can change.
            // Keep the hysteresis memory; recompute, version and publish nothing.
            _adaptive = stepped;
            _adaptiveRunning = false;
            _status.Adaptive(stepped.HotDirections, stepped.Step);
            return;
        }
        // Off the loop, so a port event never waits behind a congestion-driven recompute of every plane.
        _ = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            try
            {
                // Only the congestion multipliers change here. The loads are NOT handed to the engine: they would re-weigh
                // the residual-capacity classes (kv) from loads that include their own traffic, undamped and not limited by
                // LimitChange, which moves that class wholesale onto the links it just measured as idle, every period.
                var (next, deltas) = RoutingEngine.Update(@base, snapshot, null, @base.Options with { Adaptive = stepped.Weigher });
                var limited = AdaptiveController.LimitChange(@base, next, policy.MaxBucketChangePerStep);
                Post(new AdaptiveDone(@base, stepped, limited, deltas.Select(d => d.SwitchId).ToList(), sw.Elapsed.TotalMilliseconds, null));
            }
            catch (Exception e)
            {
                Post(new AdaptiveDone(@base, state, null, [], sw.Elapsed.TotalMilliseconds, e));
            }
        }, CancellationToken.None);
    }

    private async Task AdaptiveDoneAsync(AdaptiveDone d, CancellationToken ct)
    {
        _adaptiveRunning = false;
        if (d.Error is not null)
        {
            _log.LogError(d.Error, "routing: fabric {Fabric}: congestion-driven recompute failed", _fabric);
            _status.SetState("routing", "adaptive: " + d.Error.Message);
            return;
        }
        if (!ReferenceEquals(d.Base, _result))
        {
            // A failure or drain moved the tables meanwhile: this step is stale. The next loads measured after those
            // tables settle start the next one.
            return;
        }
        var sw = Stopwatch.StartNew();
        _adaptive = d.State;
        _status.Adaptive(d.State.HotDirections, d.State.Step);
        var previous = _result;
        _result = d.Next!;
        var changed = Export(d.Candidates);
        if (changed.Count == 0)
        {
            // Multipliers moved but no bucket did: same forwarding, so no new version.
            _result = previous;
            if (View is { } v) v.Current = previous;
            return;
        }
        var planes = changed.Select(s => _topology!.Switches[s].Plane).Distinct().ToList();
        await _publisher.PublishAsync(Message(_result, planes.Count == 1 ? planes[0] : null, priority: false, complete: false, "adaptive", [], null, changed), ct);
        Computed("adaptive", d.Ms + sw.Elapsed.TotalMilliseconds, changed.Count);
        Unsettle();
    }

    // ---------------------------------------------------------------- messages and status

    private RoutesComputed Message(RoutingResult result, int? plane, bool priority, bool complete, string reason, IReadOnlyList<string> triggers, DateTimeOffset? triggeredAt, IReadOnlyList<int> switches)
    {
        var tables = new List<byte[]>(switches.Count);
        List<byte[]>? deltas = null;
        foreach (var s in switches)
        {
            var t = _tables[s]!;
            if (!complete && _options.PublishDeltas && _sent[s] is { } sent && sent.GroupSize == t.GroupSize)
                (deltas ??= new(switches.Count)).Add(TableCodec.EncodeDelta(TableDiff.Compute(sent.WithVersion((ulong)_sentVersion[s]), t.WithVersion((ulong)result.Version))));
            else
                tables.Add(_wire[s] ??= Encode(t));
            _sent[s] = t;
            _sentVersion[s] = result.Version;
        }
        return new RoutesComputed
        {
            Fabric = _fabric,
            RoutingVersion = result.Version,
            TopologyVersion = _effective!.Version,
            Plane = plane,
            Priority = priority,
            Complete = complete,
            Reason = reason,
            TriggerIds = triggers,
            TriggeredAt = triggeredAt,
            ComputedAt = _time.GetUtcNow(),
            Tables = tables,
            Deltas = deltas ?? [],
        };
    }

    private void Computed(string reason, double ms, int changed)
    {
        var health = _result!.PlaneHealth.Select(h => new PlaneHealthView(h.Plane, h.Name, h.SwitchLinkCapacityFraction, h.LiveSwitchFraction, h.UnreachablePairs, h.MinNodeCapacityFraction)).ToList();
        _status.Computed(reason, _result.Version, _effective!.Version, _base!.Version, _topology!.Switches.Count, _overlayCount, ms, changed, _time.GetUtcNow(), health);
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
