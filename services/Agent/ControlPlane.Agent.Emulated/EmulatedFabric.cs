using System.Collections.Immutable;
using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Emulation;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using RouteKey = ControlPlane.Distribution.RouteKey;
using GroupMember = ControlPlane.Distribution.GroupMember;
using ControlPlane.Routing;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agent.Emulated;

/// <summary>A fault to inject (REST body and the bus command share it).</summary>
public sealed record FaultRequest
{
    /// <summary>What to do.</summary>
    public FaultKind? Kind { get; init; }

    /// <summary>Link id for link faults.</summary>
    public int? LinkId { get; init; }

    /// <summary>Switch name for switch faults.</summary>
    public string? Switch { get; init; }

    /// <summary>For a flap: how long the link stays down, ms.</summary>
    public int DurationMs { get; init; }
}

/// <summary>A fault in effect or recently injected.</summary>
public sealed record FaultRecord(string TriggerId, FaultKind Kind, int? LinkId, string? Switch, DateTimeOffset At, DateTimeOffset? Until, bool Active);

/// <summary>
/// Every switch of one fabric as a <see cref="SwitchAgent"/> over an <see cref="InMemoryDataPlane"/>, in one process. Each
/// period it runs the workload through the flow-level emulator over the tables the data planes hold (see
/// <see cref="InstalledTables"/>) and the physical link state, turns link utilization into cumulative port counters and
/// sends one telemetry batch per switch. Faults change the physical state at once and make the agents at both ends
/// report their ports.
/// </summary>
public sealed class EmulatedFabric : IAsyncDisposable
{
    private const double BytesPerPacket = 4096;
    private readonly EmulationOptions _o;
    private readonly AgentDirectory _directory;
    private readonly AgentQueue _queue;
    private readonly IPublishEndpoint _bus;
    private readonly TimeProvider _time;
    private readonly EmulatedFabricStatus _status;
    private readonly AgentCredentials _credentials;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly object _faultGate = new();
    private readonly object _checkGate = new();
    private readonly List<FaultRecord> _faults = [];
    private readonly SemaphoreSlim _period = new(1, 1);
    private readonly BackgroundCpu _cpu = new("emulator");

    private FabricSnapshot? _base;
    private FabricTopology? _topology;
    private SwitchAgent[] _agents = [];
    private InMemoryDataPlane?[] _planes = [];
    private bool[] _linkDown = [];
    private bool[] _switchDown = [];
    private Workload _workload = new("none", []);
    private int[] _portOffset = [];
    private ulong[] _tx = [], _rx = [], _txPk = [], _rxPk = [], _txDrops = [], _linkDowns = [];
    private double[] _txFrac = [], _rxFrac = [], _dropFrac = [];
    private DateTimeOffset _lastSample;
    private long _periods, _batches, _checks, _problems, _faultsRejected, _generation, _emulations;
    private long _emulatedGeneration = -1;
    private EmulationResult? _last;
    private double _lastEmulateMs;
    private string? _lastProblem;

    /// <summary>Creates the (empty) emulated fabric; <see cref="InitializeAsync"/> loads it.</summary>
    public EmulatedFabric(IOptions<EmulationOptions> options, AgentDirectory directory, AgentQueue queue, IBus bus, TimeProvider time,
        EmulatedFabricStatus status, AgentCredentials credentials, ILoggerFactory logs)
    {
        _o = options.Value;
        _directory = directory;
        _queue = queue;
        _bus = bus;
        _time = time;
        _status = status;
        _credentials = credentials;
        _logs = logs;
        _log = logs.CreateLogger<EmulatedFabric>();
        _status.Update(s => s with { Fabric = _o.Fabric, Workload = _o.Workload });
    }

    /// <summary>Fabric name.</summary>
    public string Fabric => _o.Fabric;

    /// <summary>The topology once loaded.</summary>
    public FabricTopology? Topology => _base?.Topology;

    /// <summary>True once every agent exists.</summary>
    public bool Loaded => _base is not null;

    /// <summary>The policy the workload's classes refer to (tables are matched to it by class name).</summary>
    public static TrafficPolicy Policy => TrafficPolicy.Default;

    /// <summary>Agents by switch id.</summary>
    public IReadOnlyList<SwitchAgent> Agents => _agents;

    /// <summary>The data plane of a switch, or null while it is crashed.</summary>
    public InMemoryDataPlane? DataPlane(int switchId) => _planes[switchId];

    /// <summary>The workload run each period.</summary>
    public Workload Workload => _workload;

    internal void SetState(string state) => _status.Update(s => s with { State = state });

    /// <summary>Creates one agent per switch (each with its own credential and a data plane of the switch's capacity) and says hello for all.</summary>
    public async Task InitializeAsync(FabricSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (_base is not null) throw new InvalidOperationException("the emulated fabric is already loaded");
        var t = snapshot.Topology;
        var S = t.Switches.Count;
        var transport = new BusAgentTransport(_bus, _queue.Name, _time);
        var agentLog = _logs.CreateLogger<SwitchAgent>();
        var agents = new SwitchAgent[S];
        var planes = new InMemoryDataPlane?[S];
        _portOffset = new int[S + 1];
        for (var s = 0; s < S; s++)
        {
            var sw = t.Switches[s];
            planes[s] = new InMemoryDataPlane(sw.Radix, SwitchCapacity.For(sw));
            agents[s] = new SwitchAgent(new AgentIdentity(_o.Fabric, sw.Name, "emu-" + sw.Name, _credentials.Issue(_o.Fabric, sw.Name)),
                planes[s]!, 64, transport, _time, agentLog, TimeSpan.FromSeconds(_o.KeepAliveSeconds));
            agents[s].Installed += _ => Interlocked.Increment(ref _generation);
            if (_o.CheckForwarding) agents[s].Installed += OnInstalled;
            _portOffset[s + 1] = _portOffset[s] + sw.Radix;
        }
        var P = _portOffset[S];
        _tx = new ulong[P]; _rx = new ulong[P]; _txPk = new ulong[P]; _rxPk = new ulong[P]; _txDrops = new ulong[P]; _linkDowns = new ulong[P];
        _txFrac = new double[P]; _rxFrac = new double[P]; _dropFrac = new double[P];
        _linkDown = new bool[t.Links.Count];
        _switchDown = new bool[S];
        _workload = BuildWorkload(t, _o);
        _agents = agents;
        _planes = planes;
        _lastSample = _time.GetUtcNow();
        _topology = t;
        foreach (var a in agents) _directory.Register(a);
        var failed = 0;
        foreach (var a in agents)
        {
            try
            {
                await a.StartAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (failed++ == 0) _log.LogWarning(ex, "hello of {Switch} failed; the keepalive will retry", a.SwitchName);
            }
        }
        // Loaded only once every agent runs: an update or a fault before that would find an agent not yet started.
        _base = snapshot;
        _status.Update(s => s with { State = "running", Agents = S });
        _log.LogInformation("emulated fabric {Fabric}: {Agents} agents said hello on queue '{Queue}', workload {Workload} ({Flows} flows)",
            _o.Fabric, S, _queue.Name, _workload.Name, _workload.Flows.Count);
    }

    /// <summary>The configured workload over a topology, in the classes of <see cref="Policy"/>.</summary>
    public static Workload BuildWorkload(FabricTopology t, EmulationOptions o)
    {
        var ep = Math.Max(0, Policy.IndexOf("ep"));
        var kv = Policy.IndexOf("kv") is var k and >= 0 ? k : ep;
        switch (o.Workload)
        {
            case "moe": return WorkloadGenerator.Moe(t, ep, o.Seed);
            case "alltoall": return WorkloadGenerator.AllToAll(t, ep);
            case "permutation": return WorkloadGenerator.Permutation(t, ep, o.Seed);
            case "kv": return WorkloadGenerator.KvCache(t, kv, o.Seed);
            default:
                var moe = WorkloadGenerator.Moe(t, ep, o.Seed);
                var bg = WorkloadGenerator.KvCache(t, kv, o.Seed + 1);
                var scale = bg.TotalBytes > 0 ? o.KvShare * moe.TotalBytes / bg.TotalBytes : 0;
                var scaled = new Workload("kv", bg.Flows.Select(f => f with { Bytes = f.Bytes * scale }).Where(f => f.Bytes > 0).ToList());
                if (o.Workload != "moe-kv-hashed") return WorkloadGenerator.Mix("moe-ep+kv", moe, scaled);
                var other = Policy.IndexOf("other") is var x and >= 0 ? x : ep;
                var perm = WorkloadGenerator.Permutation(t, other, o.Seed + 1);
                var share = perm.TotalBytes > 0 ? o.HashedShare * moe.TotalBytes / perm.TotalBytes : 0;
                var hashed = new Workload("hashed", perm.Flows.Select(f => f with { Bytes = f.Bytes * share }).Where(f => f.Bytes > 0).ToList());
                return WorkloadGenerator.Mix("moe-ep+kv+hashed", moe, scaled, hashed);
        }
    }

    /// <summary>The physical state now: the store's snapshot with the injected faults on top.</summary>
    public FabricSnapshot PhysicalSnapshot()
    {
        var b = _base ?? throw new InvalidOperationException("not loaded");
        lock (_faultGate)
        {
            var links = new List<KeyValuePair<int, ElementState>>();
            for (var l = 0; l < _linkDown.Length; l++) if (_linkDown[l]) links.Add(new(l, new ElementState(ElementStatus.Down, "emulated fault")));
            var sws = new List<KeyValuePair<int, ElementState>>();
            for (var s = 0; s < _switchDown.Length; s++) if (_switchDown[s]) sws.Add(new(s, new ElementState(ElementStatus.Down, "emulated crash")));
            return links.Count == 0 && sws.Count == 0 ? b : b.With(links, sws);
        }
    }

    /// <summary>The tables the data planes hold now, as the emulator reads them.</summary>
    public InstalledTables InstalledView(FabricSnapshot physical)
    {
        var planes = _planes;
        var groupSize = planes.Select(p => p?.Installed?.GroupSize ?? 0).FirstOrDefault(g => g > 0);
        return InstalledTables.Build(physical, Policy, groupSize > 0 ? groupSize : 64, s => planes[s]?.Installed);
    }

    /// <summary>Runs one period: emulate, advance counters, send one telemetry batch per running switch.</summary>
    public async Task<EmulationReport> RunPeriodAsync(CancellationToken cancellationToken)
    {
        var b = _base ?? throw new InvalidOperationException("not loaded");
        await _period.WaitAsync(cancellationToken);
        try
        {
            var t = b.Topology;
            // The workload is fixed, so loads change only when a table or the physical state does: emulate only then.
            var generation = Interlocked.Read(ref _generation);
            var physical = PhysicalSnapshot();
            var result = _last;
            var emulateMs = _lastEmulateMs;
            if (result is null || generation != _emulatedGeneration)
            {
                var cpu = Stopwatch.StartNew();
                // At the lowest priority: the emulator stands in for the hardware and must not slow the loop it observes.
                result = await _cpu.RunAsync(() => Emulator.Run(InstalledView(physical), _workload, new EmulatorOptions { MaxMinRates = false }));
                emulateMs = _lastEmulateMs = cpu.Elapsed.TotalMilliseconds;
                _last = result;
                _emulatedGeneration = generation;
                Interlocked.Increment(ref _emulations);
            }

            var now = _time.GetUtcNow();
            var dt = Math.Max(0, (now - _lastSample).TotalSeconds);
            _lastSample = now;
            var u = result.Utilization;
            var batches = new List<(SwitchAgent Agent, TelemetryBatch Batch)>(_agents.Length);
            var nanos = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
            lock (_faultGate)
            {
                for (var s = 0; s < _agents.Length; s++)
                {
                    if (_switchDown[s]) continue;
                    var batch = new TelemetryBatch { SampleTimeUnixNanos = nanos, BootId = _agents[s].BootId };
                    var ports = t.SwitchPortLinks(s);
                    for (var i = 0; i < ports.Length; i++)
                    {
                        var l = ports[i];
                        if (l < 0) continue;
                        var idx = _portOffset[s] + i;
                        var link = t.Links[l];
                        var up = physical.IsLinkUsable(l);
                        if (up)
                        {
                            var isA = !link.A.IsHost && link.A.Device == s && link.A.Port == i + 1;
                            var outU = isA ? u.AToB[l] : u.BToA[l];
                            var inU = isA ? u.BToA[l] : u.AToB[l];
                            var lineBytes = link.SpeedGbps * 1e9 / 8 * dt;
                            Advance(ref _tx[idx], ref _txFrac[idx], Math.Min(outU, 1) * lineBytes, ref _txPk[idx]);
                            Advance(ref _rx[idx], ref _rxFrac[idx], Math.Min(inU, 1) * lineBytes, ref _rxPk[idx]);
                            if (outU > 1)
                            {
                                _dropFrac[idx] += (outU - 1) * lineBytes / BytesPerPacket;
                                var whole = Math.Floor(_dropFrac[idx]);
                                _txDrops[idx] += (ulong)whole;
                                _dropFrac[idx] -= whole;
                            }
                        }
                        batch.Ports.Add(new PortSample
                        {
                            Port = (uint)(i + 1),
                            OperState = up ? PortOperState.Up : PortOperState.Down,
                            TxBytes = _tx[idx],
                            RxBytes = _rx[idx],
                            TxPackets = _txPk[idx],
                            RxPackets = _rxPk[idx],
                            TxDrops = _txDrops[idx],
                            LinkDownCount = _linkDowns[idx],
                        });
                    }
                    batches.Add((_agents[s], batch));
                }
            }
            var sent = 0;
            // Spread over half the period, as real agents poll on their own clocks: a burst of every switch's batch at
            // once would hold the bus and the thread pool for tens of milliseconds, in front of any failure's rollout.
            var chunks = batches.Chunk(32).ToList();
            var gap = chunks.Count > 1 ? TimeSpan.FromMilliseconds(_o.PeriodMs * 0.5 / (chunks.Count - 1)) : TimeSpan.Zero;
            for (var c = 0; c < chunks.Count; c++)
            {
                var chunk = chunks[c];
                if (c > 0 && gap > TimeSpan.Zero) await Task.Delay(gap, _time, cancellationToken);
                var done = await Task.WhenAll(chunk.Select(async x =>
                {
                    try { return await x.Agent.SendTelemetryAsync(x.Batch, cancellationToken); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { _log.LogDebug(ex, "telemetry of {Switch} failed", x.Agent.SwitchName); return false; }
                }));
                sent += done.Count(d => d);
            }
            var period = Interlocked.Increment(ref _periods);
            _batches += sent;
            PublishStatus(result.Report, period, emulateMs, sent);
            return result.Report;
        }
        finally
        {
            _period.Release();
        }
    }

    private static void Advance(ref ulong bytes, ref double frac, double add, ref ulong packets)
    {
        // Whole bytes go to the counter, the rest carries over, so counters never lose the fractions of a slow link.
        frac += add;
        var whole = Math.Floor(frac);
        frac -= whole;
        bytes += (ulong)whole;
        packets = (ulong)(bytes / BytesPerPacket);
    }

    private void PublishStatus(EmulationReport? r, long period, double ms, int sent)
    {
        var running = _agents.Where(a => a.Running).ToList();
        int active;
        lock (_faultGate) active = _faults.Count(f => f.Active);
        _status.Update(s => s with
        {
            State = "running",
            Agents = _agents.Length,
            AgentsDown = _agents.Length - running.Count,
            MinVersion = running.Count > 0 ? running.Min(a => a.Version) : 0,
            MaxVersion = running.Count > 0 ? running.Max(a => a.Version) : 0,
            AcksSent = _agents.Sum(a => a.AcksSent),
            Rejects = _agents.Sum(a => a.Rejects),
            UpdatesDropped = _directory.Dropped,
            Period = r is null ? s.Period : period,
            MaxUtilization = r?.MaxFabricUtilization ?? s.MaxUtilization,
            LowerBound = r?.LowerBoundUtilization ?? s.LowerBound,
            RatioToBound = r?.RatioToBound ?? s.RatioToBound,
            UndeliveredBytes = r?.UndeliveredBytes ?? s.UndeliveredBytes,
            HottestLink = r?.HottestLink ?? s.HottestLink,
            LastPeriodMs = r is null ? s.LastPeriodMs : ms,
            Emulations = Interlocked.Read(ref _emulations),
            BatchesLastPeriod = r is null ? s.BatchesLastPeriod : sent,
            BatchesSent = Interlocked.Read(ref _batches),
            ActiveFaults = active,
            FaultsRejected = Interlocked.Read(ref _faultsRejected),
            ForwardingProblems = Interlocked.Read(ref _problems),
            ForwardingChecks = Interlocked.Read(ref _checks),
            LastForwardingProblem = _lastProblem,
        });
    }

    /// <summary>Refreshes the status figures that do not need a period (acks, versions, faults).</summary>
    public void RefreshStatus()
    {
        if (_base is not null) PublishStatus(null, 0, 0, 0);
    }

    /// <summary>Faults in effect and the most recent ones (newest first).</summary>
    public IReadOnlyList<FaultRecord> Faults()
    {
        lock (_faultGate) return [.. _faults.AsEnumerable().Reverse()];
    }

    /// <summary>Checks a fault request against the loaded fabric; each problem names its field.</summary>
    public IReadOnlyList<FieldError> Validate(FaultRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var t = _base?.Topology ?? throw new InvalidOperationException("not loaded");
        var e = new List<FieldError>();
        if (r.Kind is not { } kind) { e.Add(new("kind", "is required: linkDown, linkUp, linkFlap, switchCrash or switchRestart")); return e; }
        if (!Enum.IsDefined(kind)) { e.Add(new("kind", $"unknown kind {(int)kind}")); return e; }
        if (r.DurationMs < 0) e.Add(new("durationMs", $"must not be negative, got {r.DurationMs}"));
        switch (kind)
        {
            case FaultKind.LinkDown or FaultKind.LinkUp or FaultKind.LinkFlap:
                if (r.LinkId is not { } l) e.Add(new("linkId", $"is required for {kind}"));
                else if ((uint)l >= (uint)t.Links.Count) e.Add(new("linkId", $"unknown link {l}: the fabric has links 0..{t.Links.Count - 1}"));
                if (kind == FaultKind.LinkFlap && r.DurationMs == 0) e.Add(new("durationMs", "must be positive for a flap"));
                break;
            case FaultKind.SwitchCrash or FaultKind.SwitchRestart:
                if (string.IsNullOrWhiteSpace(r.Switch)) e.Add(new("switch", $"is required for {kind}"));
                else if (t.FindSwitch(r.Switch) < 0) e.Add(new("switch", $"unknown switch '{r.Switch}' in fabric '{_o.Fabric}'"));
                break;
        }
        return e;
    }

    /// <summary>Applies a fault; the agents concerned report their ports before this returns.</summary>
    /// <exception cref="FabricInputException">Bad input, naming the field.</exception>
    public async Task<FaultRecord> InjectAsync(FaultRequest r, string triggerId, CancellationToken cancellationToken)
    {
        var e = Validate(r);
        if (e.Count > 0)
        {
            Interlocked.Increment(ref _faultsRejected);
            RefreshStatus();
            throw new FabricInputException(e);
        }
        var t = _base!.Topology;
        var now = _time.GetUtcNow();
        FaultRecord rec;
        switch (r.Kind!.Value)
        {
            case FaultKind.LinkDown:
                rec = new(triggerId, FaultKind.LinkDown, r.LinkId, null, now, null, true);
                await SetLinkAsync(r.LinkId!.Value, false, "los", triggerId, rec, cancellationToken);
                break;
            case FaultKind.LinkUp:
                rec = new(triggerId, FaultKind.LinkUp, r.LinkId, null, now, null, false);
                await SetLinkAsync(r.LinkId!.Value, true, "los-cleared", triggerId, rec, cancellationToken);
                break;
            case FaultKind.LinkFlap:
                var until = now.AddMilliseconds(r.DurationMs);
                rec = new(triggerId, FaultKind.LinkFlap, r.LinkId, null, now, until, true);
                await SetLinkAsync(r.LinkId!.Value, false, "flap", triggerId, rec, cancellationToken);
                var link = r.LinkId.Value;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(r.DurationMs), _time, CancellationToken.None);
                        await SetLinkAsync(link, true, "flap", triggerId, new(triggerId, FaultKind.LinkUp, link, null, _time.GetUtcNow(), null, false), CancellationToken.None);
                    }
                    catch (Exception ex)
                    {
                        _log.LogWarning(ex, "flap {Trigger}: bringing link {Link} back up failed", triggerId, link);
                    }
                }, CancellationToken.None);
                break;
            case FaultKind.SwitchCrash:
                rec = new(triggerId, FaultKind.SwitchCrash, null, r.Switch, now, null, true);
                await CrashAsync(t.FindSwitch(r.Switch!), triggerId, rec, cancellationToken);
                break;
            default:
                rec = new(triggerId, FaultKind.SwitchRestart, null, r.Switch, now, null, false);
                await RestartAsync(t.FindSwitch(r.Switch!), triggerId, rec, cancellationToken);
                break;
        }
        _log.LogInformation("fault {Trigger}: {Kind} {Target}", triggerId, rec.Kind, rec.LinkId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? rec.Switch);
        RefreshStatus();
        return rec;
    }

    /// <summary>Counts a refused bus command (the REST path counts in <see cref="InjectAsync"/>).</summary>
    internal void CountRejected()
    {
        Interlocked.Increment(ref _faultsRejected);
        RefreshStatus();
    }

    private async Task SetLinkAsync(int linkId, bool up, string reason, string triggerId, FaultRecord rec, CancellationToken ct)
    {
        var t = _base!.Topology;
        var link = t.Links[linkId];
        var ends = new List<(int Switch, int Port)>();
        lock (_faultGate)
        {
            var changed = _linkDown[linkId] == up;
            _linkDown[linkId] = !up;
            Interlocked.Increment(ref _generation);
            if (up)
            {
                // The link's own faults end (a flap's up also ends its down).
                for (var i = 0; i < _faults.Count; i++)
                    if (_faults[i] is { Active: true, LinkId: { } l } f && l == linkId) _faults[i] = f with { Active = false, Until = rec.At };
            }
            _faults.Add(rec);
            Trim();
            foreach (var end in new[] { link.A, link.B })
            {
                if (end.IsHost || _switchDown[end.Device]) continue;
                if (!changed) continue;
                if (!up) _linkDowns[_portOffset[end.Device] + end.Port - 1]++;
                ends.Add((end.Device, end.Port));
            }
        }
        foreach (var (s, port) in ends) await _agents[s].ReportPortAsync(port, up, reason, triggerId, ct);
    }

    private async Task CrashAsync(int s, string triggerId, FaultRecord rec, CancellationToken ct)
    {
        var neighbours = new List<(int Switch, int Port)>();
        lock (_faultGate)
        {
            _faults.Add(rec);
            Trim();
            if (_switchDown[s]) return;
            _switchDown[s] = true;
            _planes[s] = null;
            Interlocked.Increment(ref _generation);
            _agents[s].Crash();
            neighbours.AddRange(Neighbours(s));
            foreach (var (n, p) in neighbours) _linkDowns[_portOffset[n] + p - 1]++;
        }
        foreach (var (n, port) in neighbours) await _agents[n].ReportPortAsync(port, false, "neighbor-down", triggerId, ct);
    }

    private async Task RestartAsync(int s, string triggerId, FaultRecord rec, CancellationToken ct)
    {
        var t = _base!.Topology;
        List<(int Switch, int Port)> neighbours;
        var plane = new InMemoryDataPlane(t.Switches[s].Radix, SwitchCapacity.For(t.Switches[s]));
        lock (_faultGate)
        {
            for (var i = 0; i < _faults.Count; i++)
                if (_faults[i] is { Active: true, Kind: FaultKind.SwitchCrash } f && f.Switch == t.Switches[s].Name) _faults[i] = f with { Active = false, Until = rec.At };
            _faults.Add(rec);
            Trim();
            var wasDown = _switchDown[s];
            _agents[s].Crash();
            _switchDown[s] = false;
            _planes[s] = plane;
            Interlocked.Increment(ref _generation);
            // Its counters start from 0 under a new boot id.
            for (var i = _portOffset[s]; i < _portOffset[s + 1]; i++) { _tx[i] = _rx[i] = _txPk[i] = _rxPk[i] = _txDrops[i] = _linkDowns[i] = 0; _txFrac[i] = _rxFrac[i] = _dropFrac[i] = 0; }
            neighbours = wasDown ? Neighbours(s) : [];
        }
        await _agents[s].RestartAsync(plane, ct);
        foreach (var (n, port) in neighbours) await _agents[n].ReportPortAsync(port, true, "neighbor-up", triggerId, ct);
    }

    /// <summary>(neighbour switch, its port) for each live switch link of <paramref name="s"/>; call under the fault lock.</summary>
    private List<(int Switch, int Port)> Neighbours(int s)
    {
        var t = _base!.Topology;
        var r = new List<(int, int)>();
        var ports = t.SwitchPortLinks(s);
        for (var i = 0; i < ports.Length; i++)
        {
            var l = ports[i];
            if (l < 0 || _linkDown[l]) continue;
            var o = t.Opposite(l, s);
            if (o.IsHost || _switchDown[o.Device]) continue;
            r.Add((o.Device, o.Port));
        }
        return r;
    }

    private void Trim()
    {
        // Keep every active fault and the 200 most recent inactive ones.
        var inactive = _faults.Count(f => !f.Active);
        for (var i = 0; inactive > 200 && i < _faults.Count;)
        {
            if (!_faults[i].Active) { _faults.RemoveAt(i); inactive--; }
            else i++;
        }
    }

    private void OnInstalled(TableInstalled e)
    {
        var t = _topology;
        if (t is null) return;
        lock (_checkGate)
        {
            var s = t.FindSwitch(e.Current.SwitchName);
            if (s < 0) return;
            var plane = t.Switches[s].Plane;
            var members = t.Switches.Where(x => x.Plane == plane).ToList();
            var installed = new Dictionary<string, SwitchTable>(StringComparer.Ordinal);
            foreach (var m in members)
            {
                var tab = _planes[m.Id]?.Installed;
                // Until every running switch of the plane holds a table there is nothing meaningful to walk.
                if (tab is null) { if (!_switchDown[m.Id]) return; continue; }
                installed[m.Name] = tab;
            }
            var changed = ChangedKeys(e.Previous, e.Current);
            if (changed.Count == 0) return;
            var neighbour = MakeBeforeBreak.Neighbors(t);
            // A crashed switch holds nothing and cannot be judged: members towards it are what fast failover skips,
            // as traffic into a freshly failed link is (that loss is the failure's, until routing converges). What is
            // checked is that the installed tables agree with each other: no loop, no switch without a route.
            bool Usable(string sw, int port)
            {
                var id = t.FindSwitch(sw);
                var link = id < 0 ? -1 : t.LinkAtSwitchPort(id, port);
                if (link < 0) return false;
                var l = t.Links[link];
                var other = l.A.IsHost ? -1 : l.A.Device == id ? l.B.Device : l.A.Device;
                return other < 0 || !_switchDown[other];
            }
            var leaves = members.Where(m => m.Tier == SwitchTier.Leaf && !_switchDown[m.Id]).Select(m => m.Name).ToList();
            foreach (var key in changed)
            {
                // Only destinations of this plane that are live: a crashed destination has nobody to deliver to.
                var d = t.FindSwitch(key.Destination);
                if (d < 0 || t.Switches[d].Plane != plane || _switchDown[d]) continue;
                foreach (var src in leaves)
                {
                    if (src == key.Destination) continue;
                    Interlocked.Increment(ref _checks);
                    if (ForwardingCheck.Walk(installed, neighbour, src, key, Usable) is { } p)
                    {
                        _lastProblem = p.ToString();
                        Interlocked.Increment(ref _problems);
                        _log.LogWarning("forwarding problem after {Switch} installed v{Version}: {Problem}", e.Current.SwitchName, e.Current.Version, p);
                        break;
                    }
                }
            }
        }
    }

    private static List<RouteKey> ChangedKeys(SwitchTable before, SwitchTable after)
    {
        var r = new List<RouteKey>();
        foreach (var (k, v) in after.Routes)
        {
            if (!before.Routes.TryGetValue(k, out var old)) { r.Add(k); continue; }
            var a = v.GroupId == SwitchTable.LocalGroup ? ImmutableArray<GroupMember>.Empty : after.Groups[v.GroupId].Members;
            var b = old.GroupId == SwitchTable.LocalGroup ? ImmutableArray<GroupMember>.Empty : before.Groups.TryGetValue(old.GroupId, out var g) ? g.Members : [];
            if ((v.GroupId == SwitchTable.LocalGroup) != (old.GroupId == SwitchTable.LocalGroup) || !a.AsSpan().SequenceEqual(b.AsSpan())) r.Add(k);
        }
        foreach (var k in before.Routes.Keys) if (!after.Routes.ContainsKey(k)) r.Add(k);
        return r;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents) await a.DisposeAsync();
        _period.Dispose();
        _cpu.Dispose();
    }
}
