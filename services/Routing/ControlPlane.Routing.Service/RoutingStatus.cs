using System.Collections.Concurrent;

namespace ControlPlane.Routing.Service;

/// <summary>Why a port event was refused.</summary>
public enum PortEventRejection
{
    /// <summary>The payload is not a fabric.v1.PortStateEvent.</summary>
    Malformed = 0,
    /// <summary>The credential is not the named switch's.</summary>
    BadCredential = 1,
    /// <summary>The fabric is not routed here.</summary>
    UnknownFabric = 2,
    /// <summary>The switch is not in the fabric.</summary>
    UnknownSwitch = 3,
    /// <summary>The port is outside the switch's radix or not cabled.</summary>
    UnknownPort = 4,
}

/// <summary>
/// Live status of the routing service, one entry per fabric; a DI singleton so an all-in-one host can print a one-line
/// summary in-process. Writers are the fabric routers; readers take copies.
/// </summary>
public sealed class RoutingStatus
{
    private readonly ConcurrentDictionary<string, FabricStatusEntry> _fabrics = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<PortEventRejection, long> _unrouted = new();

    /// <summary>Fabric names currently routed (or loading).</summary>
    public IReadOnlyList<string> Fabrics => _fabrics.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Port events refused before they could be tied to a fabric (malformed, unknown fabric), by reason.</summary>
    public IReadOnlyDictionary<PortEventRejection, long> Unrouted => new Dictionary<PortEventRejection, long>(_unrouted);

    /// <summary>A copy of one fabric's status, or null when it is not routed here.</summary>
    public FabricRoutingStatus? Get(string fabric) => _fabrics.TryGetValue(fabric, out var e) ? e.Read() : null;

    /// <summary>Copies of every fabric's status.</summary>
    public IReadOnlyList<FabricRoutingStatus> All() => _fabrics.Values.Select(e => e.Read()).OrderBy(s => s.Fabric, StringComparer.Ordinal).ToList();

    /// <summary>A one-line summary, e.g. for the all-in-one host's console.</summary>
    public string Summary()
    {
        var all = All();
        if (all.Count == 0) return "routing: no fabric";
        return "routing: " + string.Join("; ", all.Select(s =>
            $"{s.Fabric} v{s.RoutingVersion} ({s.State}) {s.LinksDownByOverlay} links down, last {s.LastReason ?? "-"} {s.LastComputeMs:0.#} ms/{s.LastSwitchesChanged} sw, rejected {s.RejectedPortEvents.Values.Sum()}"));
    }

    internal FabricStatusEntry Entry(string fabric) => _fabrics.GetOrAdd(fabric, f => new FabricStatusEntry(f));

    internal void Remove(string fabric) => _fabrics.TryRemove(fabric, out _);

    internal void RejectUnrouted(PortEventRejection reason) => _unrouted.AddOrUpdate(reason, 1, (_, n) => n + 1);

    internal void Reject(string fabric, PortEventRejection reason)
    {
        if (_fabrics.TryGetValue(fabric, out var e)) e.Reject(reason);
        else RejectUnrouted(reason);
    }
}

/// <summary>Health of one plane as the last computation saw it.</summary>
/// <param name="Plane">Plane id.</param>
/// <param name="Name">Plane name.</param>
/// <param name="SwitchLinkCapacityFraction">Usable fraction of the plane's switch-link capacity.</param>
/// <param name="LiveSwitchFraction">Fraction of the plane's switches carrying traffic.</param>
/// <param name="UnreachablePairs">Leaf pairs with no route.</param>
/// <param name="MinNodeCapacityFraction">Worst node's remaining capacity fraction.</param>
public sealed record PlaneHealthView(int Plane, string Name, double SwitchLinkCapacityFraction, double LiveSwitchFraction, int UnreachablePairs, double MinNodeCapacityFraction);

/// <summary>A copy of one fabric's routing status.</summary>
public sealed record FabricRoutingStatus
{
    /// <summary>Fabric name.</summary>
    public required string Fabric { get; init; }

    /// <summary>"loading", "routing" or "store-unreachable".</summary>
    public required string State { get; init; }

    /// <summary>Version of the current routing computation (0 before the first).</summary>
    public long RoutingVersion { get; init; }

    /// <summary>Version of the snapshot routed (inventory version plus operational overlays).</summary>
    public long TopologyVersion { get; init; }

    /// <summary>Version of the inventory snapshot underneath the overlays.</summary>
    public long InventoryVersion { get; init; }

    /// <summary>Switches in the fabric.</summary>
    public int Switches { get; init; }

    /// <summary>Links taken down because an agent reported one of their ports down.</summary>
    public int LinksDownByOverlay { get; init; }

    /// <summary>Why the last computation ran.</summary>
    public string? LastReason { get; init; }

    /// <summary>How long the last computation took, from its trigger being taken up to its tables being published.</summary>
    public double LastComputeMs { get; init; }

    /// <summary>Switches whose tables the last computation changed.</summary>
    public int LastSwitchesChanged { get; init; }

    /// <summary>When the last computation finished.</summary>
    public DateTimeOffset? LastComputedAt { get; init; }

    /// <summary>Computations by reason.</summary>
    public required IReadOnlyDictionary<string, long> Recomputes { get; init; }

    /// <summary>Refused port events by reason.</summary>
    public required IReadOnlyDictionary<string, long> RejectedPortEvents { get; init; }

    /// <summary>Port events accepted.</summary>
    public long PortEvents { get; init; }

    /// <summary>Link-load snapshots merged.</summary>
    public long LoadSnapshots { get; init; }

    /// <summary>Link-load snapshots ignored (sequence gap before a full one, unknown plane, bad values).</summary>
    public long LoadSnapshotsIgnored { get; init; }

    /// <summary>Port event to published RoutesComputed, milliseconds, over the recent events: median, p99, last.</summary>
    public required LatencyView PortEventLatencyMs { get; init; }

    /// <summary>Stages of the last port-event computation.</summary>
    public PortStagesView? LastPortStages { get; init; }

    /// <summary>Link directions the congestion loop holds hot.</summary>
    public int HotDirections { get; init; }

    /// <summary>Steps the congestion loop took.</summary>
    public int AdaptiveSteps { get; init; }

    /// <summary>Per-plane health.</summary>
    public required IReadOnlyList<PlaneHealthView> Planes { get; init; }

    /// <summary>Last error (store unreachable, computation failed), if any.</summary>
    public string? LastError { get; init; }
}

/// <summary>Where the last port-event computation spent its time, milliseconds.</summary>
/// <param name="QueueMs">From the first event coming off the bus to the router taking it up.</param>
/// <param name="UpdateMs">Overlay and incremental engine update.</param>
/// <param name="ExportMs">Export and protobuf encoding of the changed switches' tables.</param>
/// <param name="PublishMs">Handing the message to the bus.</param>
/// <param name="Events">Port events folded into the computation.</param>
public sealed record PortStagesView(double QueueMs, double UpdateMs, double ExportMs, double PublishMs, int Events);

/// <summary>Recent latency figures, milliseconds.</summary>
public sealed record LatencyView(int Count, double Median, double P99, double Last);

/// <summary>Mutable status of one fabric; every member is read and written under the entry's lock (no await inside).</summary>
internal sealed class FabricStatusEntry(string fabric)
{
    private const int Window = 1024;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _recomputes = new(StringComparer.Ordinal);
    private readonly Dictionary<PortEventRejection, long> _rejected = [];
    private readonly double[] _latencies = new double[Window];
    private int _latencyCount;
    private int _latencyNext;
    private string _state = "loading";
    private long _routingVersion, _topologyVersion, _inventoryVersion, _portEvents, _loads, _loadsIgnored;
    private int _switches, _linksDown, _lastChanged, _hot, _steps;
    private string? _lastReason, _lastError;
    private double _lastMs;
    private DateTimeOffset? _lastAt;
    private IReadOnlyList<PlaneHealthView> _planes = [];
    private PortStagesView? _stages;

    public void Stages(PortStagesView stages)
    {
        lock (_gate) _stages = stages;
    }

    public void SetState(string state, string? error = null)
    {
        lock (_gate) { _state = state; if (error is not null) _lastError = error; }
    }

    public void Computed(string reason, long routingVersion, long topologyVersion, long inventoryVersion, int switches, int linksDown, double ms, int changed, DateTimeOffset at, IReadOnlyList<PlaneHealthView> planes)
    {
        lock (_gate)
        {
            _state = "routing";
            _routingVersion = routingVersion;
            _topologyVersion = topologyVersion;
            _inventoryVersion = inventoryVersion;
            _switches = switches;
            _linksDown = linksDown;
            _lastReason = reason;
            _lastMs = ms;
            _lastChanged = changed;
            _lastAt = at;
            _planes = planes;
            _recomputes[reason] = _recomputes.GetValueOrDefault(reason) + 1;
        }
    }

    public void Adaptive(int hot, int steps)
    {
        lock (_gate) { _hot = hot; _steps = steps; }
    }

    public void Reject(PortEventRejection reason)
    {
        lock (_gate) _rejected[reason] = _rejected.GetValueOrDefault(reason) + 1;
    }

    public void PortEventsAccepted(int n)
    {
        lock (_gate) _portEvents += n;
    }

    public void LoadSnapshot(bool merged)
    {
        lock (_gate) { if (merged) _loads++; else _loadsIgnored++; }
    }

    public void Latency(double ms)
    {
        lock (_gate)
        {
            _latencies[_latencyNext] = ms;
            _latencyNext = (_latencyNext + 1) % Window;
            _latencyCount = Math.Min(Window, _latencyCount + 1);
        }
    }

    public FabricRoutingStatus Read()
    {
        lock (_gate)
        {
            LatencyView lat;
            if (_latencyCount == 0) lat = new LatencyView(0, 0, 0, 0);
            else
            {
                var xs = _latencies.AsSpan(0, _latencyCount).ToArray();
                var last = _latencies[(_latencyNext + Window - 1) % Window];
                Array.Sort(xs);
                lat = new LatencyView(xs.Length, Percentile(xs, 0.5), Percentile(xs, 0.99), last);
            }
            return new FabricRoutingStatus
            {
                Fabric = fabric,
                State = _state,
                RoutingVersion = _routingVersion,
                TopologyVersion = _topologyVersion,
                InventoryVersion = _inventoryVersion,
                Switches = _switches,
                LinksDownByOverlay = _linksDown,
                LastReason = _lastReason,
                LastComputeMs = _lastMs,
                LastSwitchesChanged = _lastChanged,
                LastComputedAt = _lastAt,
                Recomputes = new Dictionary<string, long>(_recomputes, StringComparer.Ordinal),
                RejectedPortEvents = _rejected.ToDictionary(kv => Name(kv.Key), kv => kv.Value, StringComparer.Ordinal),
                PortEvents = _portEvents,
                LoadSnapshots = _loads,
                LoadSnapshotsIgnored = _loadsIgnored,
                PortEventLatencyMs = lat,
                LastPortStages = _stages,
                HotDirections = _hot,
                AdaptiveSteps = _steps,
                Planes = _planes,
                LastError = _lastError,
            };
        }
    }

    internal static string Name(PortEventRejection r) => r switch
    {
        PortEventRejection.Malformed => "malformed",
        PortEventRejection.BadCredential => "badCredential",
        PortEventRejection.UnknownFabric => "unknownFabric",
        PortEventRejection.UnknownSwitch => "unknownSwitch",
        PortEventRejection.UnknownPort => "unknownPort",
        _ => r.ToString(),
    };

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    internal static double Percentile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
