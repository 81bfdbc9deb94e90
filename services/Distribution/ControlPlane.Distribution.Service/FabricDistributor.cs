using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Distribution.Service;

/// <summary>Where a fabric's distributor sends updates and publishes convergence (the bus in the service, direct calls in benchmarks).</summary>
public interface IDistributionOutput
{
    /// <summary>Sends an update to the queue an agent named in its hello.</summary>
    Task SendAsync(string replyQueue, RouteUpdateOrdered update, CancellationToken cancellationToken);

    /// <summary>Sends several updates for agents that share one queue (one message on the bus).</summary>
    Task SendBatchAsync(string replyQueue, RouteUpdatesOrdered updates, CancellationToken cancellationToken) =>
        Task.WhenAll(updates.Updates.Select(u => SendAsync(replyQueue, u, cancellationToken)));

    /// <summary>Publishes that a rollout finished.</summary>
    Task PublishAsync(RoutesConverged converged, CancellationToken cancellationToken);
}

/// <summary>Where a fabric's distributor marks switch state to be stored (never blocks the loop).</summary>
public interface IDistributionPersistence
{
    /// <summary>Marks a switch's latest state for the next batch write.</summary>
    void Mark(PersistedSwitch state);
}

/// <summary>An agent session: where its switch's updates go.</summary>
/// <param name="AgentId">Agent id from its hello.</param>
/// <param name="ReplyQueue">Queue it receives updates on.</param>
/// <param name="Since">When the hello was taken.</param>
public sealed record AgentSession(string AgentId, string ReplyQueue, DateTimeOffset Since);

/// <summary>
/// Distribution for one fabric: numbers table versions per switch, orders each change make-before-break into waves,
/// releases the waves into a <see cref="DistributionPlanner"/> as acks come in, sends the planner's updates to the
/// agents' queues and publishes <see cref="RoutesConverged"/>. Every input goes through one channel read by one loop, so
/// the planner and the rollout state have a single owner and need no lock; the loop never touches the database (it
/// marks state for the batch writer) so RoutesComputed -> sends and ack -> next wave cost only CPU.
/// </summary>
public sealed class FabricDistributor : IAsyncDisposable
{
    private readonly Channel<Command> _inbox = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DistributionServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly IDistributionOutput _output;
    private readonly IDistributionPersistence? _persist;
    private readonly ILogger _log;
    private readonly DistributionPlanner _planner;
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    // Owned by the loop.
    private FabricTopology _topology;
    private NeighborOf _neighbors;
    private Dictionary<string, SwitchCapacity> _capacities;
    private readonly Dictionary<string, SwitchTable> _released = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AgentSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lagSince = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastReject = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refused = new(StringComparer.Ordinal);
    private readonly Queue<ConvergenceRecord> _history = new();
    private ConvergenceRecord? _lastRecord; // newest of _history (a Queue has no O(1) Last)
    private readonly List<RoutesConverged> _toPublish = [];
    private Rollout? _active;
    private Dictionary<string, SwitchTable>? _pendingCongestion;
    private List<RolloutSource> _pendingSources = [];
    private List<(string Switch, ulong Version)> _pendingCarried = [];
    private long _agentRejections;
    private long _sendsWithoutSession;
    private long _sends;
    private readonly System.Diagnostics.Stopwatch _watch = System.Diagnostics.Stopwatch.StartNew();
    private long _orderTicks, _planTicks, _encodeTicks, _advanceTicks, _handleTicks;

    // Read from any thread.
    private long _rejectedCredentials;
    private long _malformed;
    private volatile DistributionSummary _summary;

    /// <summary>Starts the distributor of a fabric with the state stored for it.</summary>
    public FabricDistributor(FabricTopology topology, DistributionServiceOptions options, IEnumerable<DistributionSwitchRow> stored, TimeProvider time,
        IDistributionOutput output, IDistributionPersistence? persist, ILogger log, int seed = 0)
    {
        _topology = topology;
        _options = options;
        _time = time;
        _output = output;
        _persist = persist;
        _log = log;
        _planner = new DistributionPlanner(options.ToPlannerOptions(), new Random(seed));
        _neighbors = MakeBeforeBreak.Neighbors(topology);
        _capacities = new Dictionary<string, SwitchCapacity>(RoutingExport.Capacities(topology), StringComparer.Ordinal);
        Restore(stored);
        foreach (var (name, cap) in _capacities) _planner.SetCapacity(name, cap);
        _summary = MakeSummary(time.GetUtcNow());
        _timer = time.CreateTimer(_ => _inbox.Writer.TryWrite(Tick.Instance), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    /// <summary>Fabric name.</summary>
    public string Fabric => _topology.Name;

    /// <summary>The topology in use (replaced by <see cref="SetTopology"/>).</summary>
    public FabricTopology Topology => Volatile.Read(ref _topology);

    /// <summary>Light summary, refreshed by the loop after every batch of inputs.</summary>
    public DistributionSummary Summary => _summary with { RejectedCredentials = Interlocked.Read(ref _rejectedCredentials), Malformed = Interlocked.Read(ref _malformed) };

    /// <summary>Time the loop spent so far ordering rollouts, advancing waves, planning, encoding updates and handling inputs (for benchmarks).</summary>
    public (TimeSpan Order, TimeSpan Advance, TimeSpan Plan, TimeSpan Encode, TimeSpan Handle) LoopTimes =>
        (TimeSpan.FromTicks(_orderTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_advanceTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_planTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_encodeTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency),
         TimeSpan.FromTicks(_handleTicks * TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency));

    private long _computedMessages;

    /// <summary>True once routing has sent tables since this distributor started (else it asks for them).</summary>
    public bool HasReceivedTables => Interlocked.Read(ref _computedMessages) > 0;

    /// <summary>
    /// Switches of the fabric that have no table to hold yet (none received from routing, none refused), counted on the
    /// loop. Messages published before this service's queue existed are lost, so a count that stays above zero means
    /// asking routing again.
    /// </summary>
    public Task<int> SwitchesWithoutTablesAsync() => QueryAsync(d =>
    {
        var refusedOnly = d._refused.Keys.Count(k => !d._released.ContainsKey(k));
        return Math.Max(0, d._topology.Switches.Count - d._released.Count - refusedOnly);
    });

    /// <summary>The tables routing has sent, for turning its deltas back into tables (used by the one consumer of its messages).</summary>
    public RoutingFeed Feed { get; } = new();

    /// <summary>Takes new tables from routing (already decoded).</summary>
    public void Computed(RoutesComputed message, IReadOnlyList<SwitchTable> tables, DateTimeOffset receivedAt)
    {
        Interlocked.Increment(ref _computedMessages);
        _inbox.Writer.TryWrite(new ComputedCmd(message, tables, receivedAt));
    }

    /// <summary>Takes an authenticated hello.</summary>
    public void Hello(AgentHelloInfo hello, string agentId, string replyQueue, DateTimeOffset at) =>
        _inbox.Writer.TryWrite(new HelloCmd(hello, agentId, replyQueue, at));

    /// <summary>Takes an authenticated ack.</summary>
    public void Ack(AgentAck ack, string agentId) => _inbox.Writer.TryWrite(new AckCmd(ack, agentId));

    /// <summary>Replaces the topology (neighbors, capacities), keeping versions and sessions.</summary>
    public void SetTopology(FabricTopology topology) => _inbox.Writer.TryWrite(new TopologyCmd(topology));

    /// <summary>Counts a credential refusal.</summary>
    public void CountRejectedCredential() => Interlocked.Increment(ref _rejectedCredentials);

    /// <summary>Counts a malformed message.</summary>
    public void CountMalformed() => Interlocked.Increment(ref _malformed);

    /// <summary>Runs <paramref name="query"/> on the loop (consistent view of the state).</summary>
    public Task<T> QueryAsync<T>(Func<FabricDistributor, T> query)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(new QueryCmd(() =>
            {
                try
                {
                    done.TrySetResult(query(this));
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            })))
            done.TrySetException(new ObjectDisposedException(nameof(FabricDistributor), $"distribution of fabric '{Fabric}' is stopped"));
        return done.Task;
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var reader = _inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                while (reader.TryRead(out var c))
                {
                    var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    try
                    {
                        Handle(c);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _log.LogError(e, "distribution {Fabric}: {Command} failed", Fabric, c.GetType().Name);
                    }
                    _handleTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
                }
                try
                {
                    await FlushAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError(e, "distribution {Fabric}: sending failed", Fabric);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Handle(Command c)
    {
        var now = _time.GetUtcNow();
        switch (c)
        {
            case ComputedCmd m:
                OnComputed(m, now);
                break;
            case HelloCmd h:
                OnHello(h, now);
                break;
            case AckCmd a:
                OnAck(a, now);
                break;
            case TopologyCmd t:
                Volatile.Write(ref _topology, t.Topology);
                _neighbors = MakeBeforeBreak.Neighbors(t.Topology);
                _capacities = new Dictionary<string, SwitchCapacity>(RoutingExport.Capacities(t.Topology), StringComparer.Ordinal);
                foreach (var (name, cap) in _capacities) _planner.SetCapacity(name, cap);
                break;
            case QueryCmd q:
                q.Run();
                break;
        }
    }

    // ---- inputs ----

    private void OnComputed(ComputedCmd m, DateTimeOffset now)
    {
        var source = new RolloutSource(m.Message, m.ReceivedAt);
        var targets = new Dictionary<string, SwitchTable>(StringComparer.Ordinal);
        foreach (var t in m.Tables) targets[t.SwitchName] = t;
        var lane = m.Message.Priority ? Lane.Priority : Lane.Congestion;

        // Lanes and rollouts. At most one rollout runs per fabric (two interleaved orders over shared neighbors would
        // void each other's make-before-break guarantee).
        // - Priority over congestion: the congestion rollout is stopped where it is and never holds up the failure fix.
        //   Steps it already released stay desired (the planner finishes them); its unreleased remainder goes back to
        //   the pending congestion set, minus the switches the priority change covers: routing diffs against its own
        //   latest output (which includes those congestion weights), so any switch the failure affects is in the
        //   priority set with a table that already carries the newer weights, and the remainder of the others is still
        //   valid. The pending set is ordered and rolled out (congestion lane) when the priority rollout is done.
        // - Priority over priority, congestion over congestion: merged into one new rollout, from what is desired now
        //   to the union of both targets (newer wins), so one order covers both; the earlier sources are carried and
        //   the merged rollout's RoutesConverged reports them all.
        // - Congestion while a priority rollout runs: queued in the pending congestion set (newer wins).
        if (lane == Lane.Priority)
        {
            if (_active is { Lane: Lane.Congestion } c)
            {
                _pendingCongestion ??= new(StringComparer.Ordinal);
                foreach (var (sw, t) in c.UnreleasedFinals()) _pendingCongestion.TryAdd(sw, t);
                _pendingSources.AddRange(c.Sources);
                _pendingCarried.AddRange(c.Carried(this).Where(x => !targets.ContainsKey(x.Item1)));
                foreach (var sw in targets.Keys) _pendingCongestion.Remove(sw);
                _log.LogInformation("distribution {Fabric}: congestion rollout (routing v{Routing}) interrupted at wave {Wave}/{Waves} by a priority change; {Left} switches resume after it",
                    Fabric, c.RoutingVersion, c.WaveIndex + 1, c.Waves.Count, _pendingCongestion.Count);
                _active = null;
                Start(Lane.Priority, targets, [source], [], now);
            }
            else if (_active is { Lane: Lane.Priority } p)
            {
                _active = null;
                Start(Lane.Priority, Overlay(p.UnreleasedFinals(), targets), [.. p.Sources, source], p.Carried(this), now);
            }
            else
            {
                Start(Lane.Priority, targets, [source], [], now);
            }
        }
        else if (_active is { Lane: Lane.Priority })
        {
            _pendingCongestion = Overlay(_pendingCongestion ?? new(StringComparer.Ordinal), targets);
            _pendingSources.Add(source);
        }
        else if (_active is { Lane: Lane.Congestion } c)
        {
            _active = null;
            Start(Lane.Congestion, Overlay(c.UnreleasedFinals(), targets), [.. c.Sources, source], c.Carried(this), now);
        }
        else
        {
            Start(Lane.Congestion, targets, [source], [], now);
        }
    }

    private static Dictionary<string, SwitchTable> Overlay(Dictionary<string, SwitchTable> under, Dictionary<string, SwitchTable> over)
    {
        var r = new Dictionary<string, SwitchTable>(under, StringComparer.Ordinal);
        foreach (var (k, v) in over) r[k] = v;
        return r;
    }

    private void Start(Lane lane, Dictionary<string, SwitchTable> targets, List<RolloutSource> sources, List<(string Switch, ulong Version)> carried, DateTimeOffset now)
    {
        var changed = new Dictionary<string, SwitchTable>(StringComparer.Ordinal);
        foreach (var (sw, target) in targets)
        {
            if (_topology.FindSwitch(sw) < 0)
            {
                _log.LogWarning("distribution {Fabric}: table for unknown switch {Switch} ignored", Fabric, sw);
                continue;
            }
            // Identical contents: no new version.
            if (_released.TryGetValue(sw, out var cur) && cur.SameContents(target)) continue;
            var t = target;
            if (_capacities.TryGetValue(sw, out var cap) && cap.Check(t).Count > 0)
            {
                var fit = Coarsening.Fit(t, cap);
                if (!fit.Fits)
                {
                    _refused[sw] = $"does not fit the switch: {fit.Reason}";
                    _log.LogWarning("distribution {Fabric}: table of {Switch} refused before sending: {Reason}", Fabric, sw, fit.Reason);
                    continue;
                }
                _log.LogInformation("distribution {Fabric}: table of {Switch} coarsened to fit: {Steps}", Fabric, sw, string.Join("; ", fit.Steps));
                t = fit.Table!;
                if (cur is not null && cur.SameContents(t)) continue;
            }
            var st = _planner.Status(sw);
            changed[sw] = t.WithVersion(Math.Max(st.DesiredVersion, st.AckedVersion) + 1);
        }
        var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        // Nothing installed anywhere yet (first tables of a fabric): no traffic to protect, so one wave instead of an order
        // over every key of every switch (seconds on the MPFT).
        var plan = _released.Count == 0
            ? new RolloutPlan(changed.Count == 0 ? [] : [new RolloutWave(0, [.. changed.Values.OrderBy(t => t.SwitchName, StringComparer.Ordinal).Select(t => new RolloutStep(t.SwitchName, t, true))])], [], [])
            : MakeBeforeBreak.Order(_released, changed, _neighbors);
        _orderTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        if (plan.Unordered.Length > 0)
            _log.LogWarning("distribution {Fabric}: make-before-break found a dependency cycle; {Switches} go in the last wave unordered", Fabric, string.Join(", ", plan.Unordered));
        var r = new Rollout(lane, plan, sources, carried, now);
        _active = r;
        _log.LogDebug("distribution {Fabric}: rollout of routing v{Routing} ({Lane}): {Switches} switches in {Waves} waves", Fabric, r.RoutingVersion, lane, changed.Count, plan.Waves.Length);
    }

    private void OnHello(HelloCmd h, DateTimeOffset now)
    {
        var sw = h.Hello.SwitchName;
        if (_topology.FindSwitch(sw) < 0)
        {
            _log.LogWarning("distribution {Fabric}: hello from agent {Agent} for unknown switch {Switch} ignored", Fabric, h.AgentId, sw);
            return;
        }
        _sessions[sw] = new AgentSession(h.AgentId, h.ReplyQueue, h.At);
        var report = _planner.OnHello(h.Hello);
        // An agent ahead of us (our state was lost) makes the planner renumber the desired table: keep our copy in step.
        if (_released.TryGetValue(sw, out var mine) && _planner.Status(sw).DesiredVersion is var dv && dv != mine.Version) _released[sw] = mine.WithVersion(dv);
        _log.LogDebug("distribution {Fabric}: hello from {Agent}: {Detail}", Fabric, h.AgentId, report.Detail);
        TrackLag(sw, now);
        Mark(sw, now);
    }

    private void OnAck(AckCmd a, DateTimeOffset now)
    {
        var sw = a.Ack.SwitchName;
        var report = _planner.OnAck(a.Ack);
        switch (report.Outcome)
        {
            case AckOutcome.Rejected:
                _agentRejections++;
                _lastReject[sw] = a.Ack.RejectReason ?? "no reason given";
                _log.LogWarning("distribution {Fabric}: agent {Agent} rejected: {Detail}; it keeps its last good table", Fabric, a.AgentId, report.Detail);
                break;
            case AckOutcome.Drift:
                _log.LogWarning("distribution {Fabric}: {Detail}", Fabric, report.Detail);
                break;
            case AckOutcome.UnknownSwitch or AckOutcome.UnknownVersion:
                _log.LogWarning("distribution {Fabric}: agent {Agent}: {Detail}", Fabric, a.AgentId, report.Detail);
                return;
            case AckOutcome.Duplicate or AckOutcome.Stale:
                return;
        }
        TrackLag(sw, now);
        Mark(sw, now);
    }

    // ---- rollout progress, sends ----

    private async Task FlushAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        Advance(now);
        var t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        var plan = _planner.Plan(now);
        var t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        _advanceTicks += t1 - t0;
        _planTicks += t2 - t1;
        List<Task>? sends = null;
        // Updates for agents behind one queue (an agent host serving many switches) go as one message.
        Dictionary<string, List<RouteUpdateOrdered>>? byQueue = null;
        foreach (var s in plan.Sends)
        {
            if (!_sessions.TryGetValue(s.SwitchName, out var session))
            {
                _sendsWithoutSession++; // it lags until its agent says hello
                continue;
            }
            var msg = new RouteUpdateOrdered { Fabric = Fabric, SwitchName = s.SwitchName, Payload = TableCodec.EncodeUpdate(s.Update), SentAt = now };
            byQueue ??= new(StringComparer.Ordinal);
            if (!byQueue.TryGetValue(session.ReplyQueue, out var list)) byQueue[session.ReplyQueue] = list = [];
            list.Add(msg);
            _sends++;
        }
        foreach (var (queue, list) in byQueue ?? [])
        {
            (sends ??= []).Add(list.Count == 1
                ? _output.SendAsync(queue, list[0], ct)
                : _output.SendBatchAsync(queue, new RouteUpdatesOrdered { Fabric = Fabric, Updates = list }, ct));
        }
        _encodeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t2;
        DateTimeOffset? wake = plan.NextWakeUp;
        if (_active is { } r && r.NextDeadline is { } d && (wake is null || d < wake)) wake = d;
        _timer.Change(wake is { } w ? (w > now ? w - now : TimeSpan.Zero) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _summary = MakeSummary(now);
        if (sends is not null)
        {
            try
            {
                await Task.WhenAll(sends);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The planner retries: a lost send is a missing ack.
                _log.LogWarning("distribution {Fabric}: {Count} sends attempted, some failed: {Message}", Fabric, sends.Count, e.Message);
            }
        }
        if (_toPublish.Count > 0)
        {
            var list = _toPublish.ToList();
            _toPublish.Clear();
            foreach (var c in list) await _output.PublishAsync(c, ct);
        }
    }

    private void Advance(DateTimeOffset now)
    {
        for (var guard = 0; guard < 1000; guard++)
        {
            if (_active is null)
            {
                if (_pendingCongestion is null) return;
                var pending = _pendingCongestion;
                var sources = _pendingSources;
                var carried = _pendingCarried;
                _pendingCongestion = null;
                _pendingSources = [];
                _pendingCarried = [];
                Start(Lane.Congestion, pending, sources, carried, now);
            }
            var r = _active!;
            // Waves: release, then move on when every step is acknowledged or the wave timed out.
            while (r.WaveIndex < r.Waves.Count)
            {
                var wave = r.Waves[r.WaveIndex];
                if (!wave.Released)
                {
                    foreach (var step in wave.Steps) Release(r, step, now);
                    wave.Released = true;
                    wave.Deadline = now + (r.Lane == Lane.Priority ? _options.PriorityWaveTimeout : _options.CongestionWaveTimeout);
                }
                // Runs after every ack: look for a step still open without building lists (they are only for the log).
                if (!AnyOpen(wave.Steps))
                {
                    r.WaveIndex++;
                    continue;
                }
                if (r.WaveIndex < r.Waves.Count - 1 && now >= wave.Deadline)
                {
                    var lagging = wave.Steps.Where(s => !Done(s)).Select(s => s.Switch).ToList();
                    _log.LogWarning("distribution {Fabric}: wave {Wave}/{Waves} of routing v{Routing} timed out; lagging: {Switches}",
                        Fabric, r.WaveIndex + 1, r.Waves.Count, r.RoutingVersion, string.Join(", ", lagging));
                    r.WaveIndex++;
                    continue;
                }
                break;
            }
            if (r.GiveUpAt is null && (r.Waves.Count == 0 || r.Waves[^1].Released))
                r.GiveUpAt = now + _options.ConvergenceTimeout;
            if ((r.GiveUpAt is null || now < r.GiveUpAt) && AnyOpen(r)) return;
            var open = r.Finals().Where(s => !Done(s)).Select(s => s.Switch)
                .Concat(r.CarriedAcks.Where(x => !_planner.IsAcknowledged(x.Switch, x.Version)).Select(x => x.Switch)).Distinct().ToList();
            Finish(r, open, now);
            _active = null;
        }
    }

    private bool Done(Step s) => s.Skipped || (s.ReleasedVersion is { } v && _planner.IsAcknowledged(s.Switch, v));

    private bool AnyOpen(List<Step> steps)
    {
        foreach (var s in steps)
        {
            if (!Done(s)) return true;
        }
        return false;
    }

    // True while a final step or a carried ack is not acknowledged: the rollout is not finished.
    private bool AnyOpen(Rollout r)
    {
        foreach (var w in r.Waves)
        {
            foreach (var s in w.Steps)
            {
                if (s.IsFinal && !Done(s)) return true;
            }
        }
        foreach (var (sw, v) in r.CarriedAcks)
        {
            if (!_planner.IsAcknowledged(sw, v)) return true;
        }
        return false;
    }

    private void Release(Rollout r, Step step, DateTimeOffset now)
    {
        var st = _planner.Status(step.Switch);
        var t = step.Table;
        // A hello may have renumbered the desired version (agent ahead of us): keep versions increasing.
        if (t.Version <= st.DesiredVersion || t.Version <= st.AckedVersion) t = t.WithVersion(Math.Max(st.DesiredVersion, st.AckedVersion) + 1);
        var errors = _planner.SetDesired(t, r.Lane);
        if (errors.Count > 0)
        {
            // Only an intermediate (make) table can get here (finals were fitted before ordering): skip the step, the
            // break step installs the final table.
            step.Skipped = true;
            _log.LogWarning("distribution {Fabric}: {Step} table of {Switch} does not fit ({Reason}); step skipped", Fabric, step.IsFinal ? "final" : "intermediate", step.Switch, string.Join("; ", errors));
            if (step.IsFinal) _refused[step.Switch] = string.Join("; ", errors);
            return;
        }
        step.ReleasedVersion = t.Version;
        _released[step.Switch] = t;
        _refused.Remove(step.Switch);
        TrackLag(step.Switch, now);
        Mark(step.Switch, now);
    }

    private void Finish(Rollout r, List<string> lagging, DateTimeOffset now)
    {
        var converged = new RoutesConverged
        {
            Fabric = Fabric,
            RoutingVersion = r.RoutingVersion,
            TriggerIds = [.. r.Sources.SelectMany(s => s.Message.TriggerIds).Distinct()],
            Switches = r.FinalCount,
            Waves = r.Waves.Count,
            TriggeredAt = r.Sources.Select(s => s.Message.TriggeredAt).Where(t => t is not null).Min(),
            ReceivedAt = r.ReceivedAt,
            ConvergedAt = now,
            Lagging = lagging,
        };
        _toPublish.Add(converged);
        var record = new ConvergenceRecord(r.RoutingVersion, r.Lane, converged.Switches, converged.Waves, now - r.ReceivedAt,
            converged.TriggeredAt is { } tr ? now - tr : null, lagging.Count, now);
        _history.Enqueue(record);
        while (_history.Count > _options.ConvergenceHistory) _history.Dequeue();
        _lastRecord = _history.Count > 0 ? record : null;
        if (lagging.Count > 0)
            _log.LogWarning("distribution {Fabric}: routing v{Routing} rolled out with {Count} switches lagging: {Switches}", Fabric, r.RoutingVersion, lagging.Count, string.Join(", ", lagging.Take(20)));
        else
            _log.LogInformation("distribution {Fabric}: routing v{Routing} converged: {Switches} switches, {Waves} waves, {Ms:F1} ms", Fabric, r.RoutingVersion, converged.Switches, converged.Waves, (now - r.ReceivedAt).TotalMilliseconds);
    }

    private void TrackLag(string sw, DateTimeOffset now)
    {
        if (_planner.IsInSync(sw)) _lagSince.Remove(sw);
        else _lagSince.TryAdd(sw, now);
    }

    private void Mark(string sw, DateTimeOffset now)
    {
        if (_persist is null) return;
        var st = _planner.Status(sw);
        _persist.Mark(new PersistedSwitch(Fabric, sw, _released.GetValueOrDefault(sw), st.AckedVersion, st.AckedDigest, now));
    }

    private void Restore(IEnumerable<DistributionSwitchRow> rows)
    {
        foreach (var row in rows)
        {
            if (_topology.FindSwitch(row.SwitchName) < 0 || row.DesiredTable.Length == 0) continue;
            SwitchTable table;
            try
            {
                table = TableCodec.DecodeTable(row.DesiredTable);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or FabricInputException)
            {
                _log.LogWarning("distribution {Fabric}: stored table of {Switch} unreadable, ignored: {Message}", Fabric, row.SwitchName, e.Message);
                continue;
            }
            _planner.SetDesired(table, Lane.Congestion);
            _released[row.SwitchName] = table;
            // What the agent acknowledged last: a reconnecting agent that still holds it gets deltas from it.
            if (row.AckedVersion > 0) _planner.OnHello(new AgentHelloInfo(row.SwitchName, (ulong)row.AckedVersion, row.AckedDigest));
            if (!_planner.Status(row.SwitchName).InSync) _lagSince[row.SwitchName] = DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAtUnixMs);
        }
    }

    // ---- views (called on the loop through QueryAsync) ----

    private DistributionSummary MakeSummary(DateTimeOffset now)
    {
        var last = _lastRecord;
        return new DistributionSummary(Fabric, _topology.Switches.Count, _topology.Switches.Count - _lagSince.Count, _lagSince.Count,
            _active is { } r ? new RolloutView(r.RoutingVersion, r.Lane, Math.Min(r.WaveIndex, Math.Max(0, r.Waves.Count - 1)), r.Waves.Count, r.FinalCount, r.ReceivedAt) : null,
            _pendingCongestion?.Count ?? 0, last?.Duration.TotalMilliseconds, Interlocked.Read(ref _rejectedCredentials), _agentRejections,
            Interlocked.Read(ref _malformed), _sessions.Count, now);
    }

    /// <summary>The fabric's status (run on the loop).</summary>
    public FabricStatusView StatusView()
    {
        var now = _time.GetUtcNow();
        return new FabricStatusView(MakeSummary(now), LaggingView(now), [.. _history], _sends, _sendsWithoutSession,
            _refused.Select(kv => new RefusedTable(kv.Key, kv.Value)).OrderBy(x => x.Switch, StringComparer.Ordinal).ToList(),
            _lastReject.Select(kv => new AgentRejection(kv.Key, kv.Value)).OrderBy(x => x.Switch, StringComparer.Ordinal).ToList());
    }

    /// <summary>Lagging switches (run on the loop).</summary>
    public List<LaggingSwitch> LaggingView(DateTimeOffset now) =>
        [.. _lagSince.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
        {
            var st = _planner.Status(kv.Key);
            return new LaggingSwitch(kv.Key, st.DesiredVersion, st.AckedVersion, kv.Value, (now - kv.Value).TotalMilliseconds,
                _sessions.ContainsKey(kv.Key), st.BlockedReason, st.InFlightVersion, st.Attempt);
        })];

    /// <summary>One switch (run on the loop); null when the fabric has no such switch.</summary>
    public SwitchView? SwitchView(string sw)
    {
        if (_topology.FindSwitch(sw) < 0) return null;
        var st = _planner.Status(sw);
        var desired = _released.GetValueOrDefault(sw);
        return new SwitchView(Fabric, sw, st.DesiredVersion, desired is null ? null : TableDigest.Short(desired.Digest), st.AckedVersion,
            st.AckedDigest.Length == 0 ? null : TableDigest.Short(st.AckedDigest), st.InSync, _lagSince.TryGetValue(sw, out var since) ? since : null,
            st.InFlightVersion, st.Attempt, st.Lane, st.BlockedReason, _lastReject.GetValueOrDefault(sw), _refused.GetValueOrDefault(sw),
            _sessions.TryGetValue(sw, out var s) ? s : null, desired?.Groups.Count, desired?.Routes.Count);
    }

    /// <summary>The table the agent of <paramref name="sw"/> should hold (run on the loop), for tests and tools.</summary>
    public SwitchTable? DesiredTable(string sw) => _released.GetValueOrDefault(sw);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_inbox.Writer.TryComplete()) return;
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        await _timer.DisposeAsync();
    }

    // ---- state types ----

    private abstract record Command;

    private sealed record ComputedCmd(RoutesComputed Message, IReadOnlyList<SwitchTable> Tables, DateTimeOffset ReceivedAt) : Command;

    private sealed record HelloCmd(AgentHelloInfo Hello, string AgentId, string ReplyQueue, DateTimeOffset At) : Command;

    private sealed record AckCmd(AgentAck Ack, string AgentId) : Command;

    private sealed record TopologyCmd(FabricTopology Topology) : Command;

    private sealed record QueryCmd(Action Run) : Command;

    private sealed record Tick : Command
    {
        public static readonly Tick Instance = new();
    }

    private sealed record RolloutSource(RoutesComputed Message, DateTimeOffset ReceivedAt);

    private sealed class Step(RolloutStep s)
    {
        public string Switch { get; } = s.SwitchName;

        public SwitchTable Table { get; } = s.Table;

        public bool IsFinal { get; } = s.IsFinal;

        public ulong? ReleasedVersion { get; set; }

        public bool Skipped { get; set; }
    }

    private sealed class Wave(IEnumerable<Step> steps)
    {
        public List<Step> Steps { get; } = [.. steps];

        public bool Released { get; set; }

        public DateTimeOffset Deadline { get; set; }
    }

    private sealed class Rollout
    {
        public Rollout(Lane lane, RolloutPlan plan, List<RolloutSource> sources, List<(string, ulong)> carried, DateTimeOffset now)
        {
            Lane = lane;
            Waves = [.. plan.Waves.Select(w => new Wave(w.Steps.Select(s => new Step(s))))];
            FinalCount = Waves.Sum(w => w.Steps.Count(s => s.IsFinal));
            Sources = sources;
            CarriedAcks = carried;
            StartedAt = now;
        }

        public Lane Lane { get; }

        public List<Wave> Waves { get; }

        public List<RolloutSource> Sources { get; }

        // Final steps (one per changed switch); the waves never change after construction.
        public int FinalCount { get; }

        // Acks a superseded rollout was waiting for (finals it released): the merged one waits for them too.
        public List<(string Switch, ulong Version)> CarriedAcks { get; }

        public DateTimeOffset StartedAt { get; }

        public DateTimeOffset ReceivedAt => Sources.Min(s => s.ReceivedAt);

        public long RoutingVersion => Sources.Max(s => s.Message.RoutingVersion);

        public int WaveIndex { get; set; }

        public DateTimeOffset? GiveUpAt { get; set; }

        public DateTimeOffset? NextDeadline => GiveUpAt ?? (WaveIndex < Waves.Count && Waves[WaveIndex].Released ? Waves[WaveIndex].Deadline : null);

        public IEnumerable<Step> Finals() => Waves.SelectMany(w => w.Steps).Where(s => s.IsFinal);

        // Final tables not yet released: what is left to order when this rollout is superseded.
        public Dictionary<string, SwitchTable> UnreleasedFinals() =>
            Finals().Where(s => s.ReleasedVersion is null && !s.Skipped).ToDictionary(s => s.Switch, s => s.Table, StringComparer.Ordinal);

        public List<(string, ulong)> Carried(FabricDistributor d) =>
        [
            .. CarriedAcks.Where(x => !d._planner.IsAcknowledged(x.Switch, x.Version)),
            .. Finals().Where(s => s.ReleasedVersion is { } v && !d._planner.IsAcknowledged(s.Switch, v)).Select(s => (s.Switch, s.ReleasedVersion!.Value)),
        ];
    }
}
