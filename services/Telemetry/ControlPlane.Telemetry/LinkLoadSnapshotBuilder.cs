using ControlPlane.Contracts;
using ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Telemetry;

/// <summary>
/// Builds one <see cref="LinkLoadSnapshot"/> per plane per period from a <see cref="TelemetryPipeline"/>'s state.
/// <para>
/// Direction: a switch port on a link's A end transmits A to B. A direction's utilization comes from the sending
/// port's transmit counter when it is fresh, else from the receiving port's receive counter (host links have only
/// the leaf end), else the last known value with <c>Fresh = false</c>.
/// </para>
/// <para>
/// Deltas: a link is in a delta snapshot when, compared with what was last published for it (not the previous
/// period, so slow drifts add up and get out), a direction's utilization or a priority's moved by at least
/// <see cref="TelemetryOptions.UtilizationChangeThreshold"/>, an error/drop/ECN/pause rate or the pre-FEC BER moved by
/// more than <see cref="TelemetryOptions.RateRelativeChangeThreshold"/> of its value or crossed zero (rates under
/// <see cref="TelemetryOptions.RateAbsoluteFloor"/> count as zero), or oper state or freshness changed. A full
/// snapshot (every link) goes out first and then every <see cref="TelemetryOptions.FullSnapshotInterval"/>, or
/// after <see cref="RequestFull"/>. Call from the pipeline's thread.
/// </para>
/// </summary>
public sealed class LinkLoadSnapshotBuilder
{
    private const double BerFloor = 1e-12;
    private static readonly PriorityLoadState NoPriority;
    private static readonly PortLoad NoLoad;

    private readonly TelemetryPipeline _p;
    private readonly TelemetryOptions _o;
    private readonly PortLayout _layout;
    private readonly Published[] _pub;
    private readonly float[] _pubPrio;      // link * 16 + priority * 2 + direction
    private readonly long[] _sequence;
    private readonly long[] _lastFull;
    private readonly bool[] _forceFull;
    private readonly long _stale;
    private readonly long _fullInterval;
    private readonly long _period;

    /// <summary>Creates a builder over a pipeline.</summary>
    public LinkLoadSnapshotBuilder(TelemetryPipeline pipeline)
    {
        _p = pipeline;
        _o = pipeline.Options;
        _layout = pipeline.Layout;
        _pub = new Published[_layout.Topology.Links.Count];
        _pubPrio = new float[_layout.Topology.Links.Count * TelemetryPipeline.Priorities * 2];
        _sequence = new long[_layout.PlaneCount];
        _lastFull = new long[_layout.PlaneCount];
        _forceFull = new bool[_layout.PlaneCount];
        _stale = UnixNanos.FromTimeSpan(_o.StaleAfter);
        _fullInterval = UnixNanos.FromTimeSpan(_o.FullSnapshotInterval);
        _period = UnixNanos.FromTimeSpan(_o.Period);
    }

    /// <summary>The end of the period that contains <paramref name="nowUnixNanos"/> (periods are aligned to multiples of the period since 1970).</summary>
    public long PeriodEndAfter(long nowUnixNanos) => (nowUnixNanos / _period + 1) * _period;

    /// <summary>Makes the next snapshot of a plane (or of every plane) full, e.g. when a consumer asks to catch up.</summary>
    public void RequestFull(int? plane = null)
    {
        if (plane is { } pl) _forceFull[pl] = true;
        else Array.Fill(_forceFull, true);
    }

    /// <summary>One snapshot per plane for the period ending at <paramref name="periodEndUnixNanos"/>.</summary>
    public IReadOnlyList<LinkLoadSnapshot> Build(long periodEndUnixNanos)
    {
        var result = new LinkLoadSnapshot[_layout.PlaneCount];
        for (var pl = 0; pl < result.Length; pl++) result[pl] = Build(pl, periodEndUnixNanos);
        return result;
    }

    /// <summary>The snapshot of one plane for the period ending at <paramref name="periodEndUnixNanos"/>.</summary>
    public LinkLoadSnapshot Build(int plane, long periodEndUnixNanos)
    {
        var full = _sequence[plane] == 0 || _forceFull[plane] || periodEndUnixNanos - _lastFull[plane] >= _fullInterval;
        var ports = _p.PortLoads;
        var links = _layout.PlaneLinks(plane);
        var loads = new List<LinkLoad>(full ? links.Length : 16);
        Span<Values> prio = stackalloc Values[TelemetryPipeline.Priorities];
        foreach (var l in links)
        {
            var v = Compute(l, periodEndUnixNanos, prio, out var prioMask);
            ref var pub = ref _pub[l];
            if (!full && !Changed(in pub, in v, l, prio, prioMask)) continue;
            pub = new Published { Has = true, V = v };
            var plist = prioMask == 0 ? (IReadOnlyList<PriorityLoad>)[] : PriorityLoads(l, prio, prioMask);
            loads.Add(new LinkLoad
            {
                LinkId = l,
                UtilAtoB = v.UtilAB,
                UtilBtoA = v.UtilBA,
                ErrorRate = v.Err,
                PreFecBer = v.Ber,
                DropRate = v.Drop,
                EcnRate = v.Ecn,
                PauseRate = v.Pause,
                Up = v.Up,
                Fresh = v.Fresh,
                Priorities = plist,
            });
        }
        double maxLag = 0;
        foreach (var pi in _layout.PlanePorts(plane))
        {
            ref readonly var ps = ref ports[pi];
            if (ps.SeenTime == 0) continue;
            var age = periodEndUnixNanos - ps.SeenTime;
            if (age <= _stale && age > maxLag) maxLag = age;
        }
        maxLag /= 1e6;
        if (full)
        {
            _lastFull[plane] = periodEndUnixNanos;
            _forceFull[plane] = false;
        }
        _p.Metrics.SnapshotLag(maxLag);
        return new LinkLoadSnapshot
        {
            Fabric = _layout.Topology.Name,
            Plane = plane,
            Sequence = ++_sequence[plane],
            IsFull = full,
            PeriodEnd = UnixNanos.ToDateTimeOffset(periodEndUnixNanos),
            MaxLagMs = maxLag,
            Loads = loads,
        };
    }

    private IReadOnlyList<PriorityLoad> PriorityLoads(int link, Span<Values> prio, int mask)
    {
        var list = new PriorityLoad[System.Numerics.BitOperations.PopCount((uint)mask)];
        var n = 0;
        for (var k = 0; k < TelemetryPipeline.Priorities; k++)
        {
            if ((mask & (1 << k)) == 0) continue;
            _pubPrio[link * 16 + k * 2] = (float)prio[k].UtilAB;
            _pubPrio[link * 16 + k * 2 + 1] = (float)prio[k].UtilBA;
            list[n++] = new PriorityLoad { Priority = k, UtilAtoB = prio[k].UtilAB, UtilBtoA = prio[k].UtilBA, PauseRate = prio[k].Pause, QueueBytes = (long)prio[k].Queue };
        }
        return list;
    }

    private Values Compute(int link, long now, Span<Values> prio, out int prioMask)
    {
        var loads = _p.PortLoads;
        var a = _layout.PortA(link);
        var b = _layout.PortB(link);
        var line = a >= 0 ? _layout.LineBytesPerSecond(a) : _layout.LineBytesPerSecond(b);
        ref readonly var la = ref a >= 0 ? ref loads[a] : ref NoLoad;
        ref readonly var lb = ref b >= 0 ? ref loads[b] : ref NoLoad;
        var hasA = la.SeenTime != 0;
        var hasB = lb.SeenTime != 0;
        var freshA = hasA && now - la.SeenTime <= _stale;
        var freshB = hasB && now - lb.SeenTime <= _stale;
        var v = new Values
        {
            UtilAB = Math.Clamp(Pick(la.HasRates, freshA, la.TxRate, lb.HasRates, freshB, lb.RxRate) / line, 0, 1),
            UtilBA = Math.Clamp(Pick(lb.HasRates, freshB, lb.TxRate, la.HasRates, freshA, la.RxRate) / line, 0, 1),
            Fresh = freshA || freshB,
            Up = (hasA || hasB) && (!hasA || la.OperState == (byte)PortOperState.Up) && (!hasB || lb.OperState == (byte)PortOperState.Up),
        };
        if (la.HasRates) AddEnd(ref v, in la);
        if (lb.HasRates) AddEnd(ref v, in lb);
        if (la.HasOptics) v.Ber = Math.Max(v.Ber, la.PreFecBer);
        if (lb.HasOptics) v.Ber = Math.Max(v.Ber, lb.PreFecBer);
        prioMask = la.PriorityMask | lb.PriorityMask;
        if (prioMask != 0)
        {
            var pls = _p.PriorityLoads;
            for (int m = prioMask, k = 0; m != 0; m >>= 1, k++)
            {
                if ((m & 1) == 0) continue;
                var sa = (la.PriorityMask >> k & 1) != 0;
                var sb = (lb.PriorityMask >> k & 1) != 0;
                ref readonly var qa = ref sa ? ref pls[a * TelemetryPipeline.Priorities + k] : ref NoPriority;
                ref readonly var qb = ref sb ? ref pls[b * TelemetryPipeline.Priorities + k] : ref NoPriority;
                prio[k] = new Values
                {
                    UtilAB = Math.Clamp(Pick(sa, freshA, qa.TxRate, sb, freshB, qb.RxRate) / line, 0, 1),
                    UtilBA = Math.Clamp(Pick(sb, freshB, qb.TxRate, sa, freshA, qa.RxRate) / line, 0, 1),
                    Pause = qa.Pause + qb.Pause,
                    Queue = Math.Max(qa.QueueBytes, qb.QueueBytes),
                };
            }
        }
        return v;
    }

    private static void AddEnd(ref Values v, in PortLoad l)
    {
        v.Err = Math.Max(v.Err, l.FecUncorrected);
        v.Drop += l.Drops;
        v.Ecn += l.Ecn;
        v.Pause += l.Pause;
    }

    /// <summary>Rate of the sender's tx when fresh, else the receiver's rx when fresh, else whichever is known.</summary>
    private static double Pick(bool senderKnown, bool senderFresh, float senderRate, bool receiverKnown, bool receiverFresh, float receiverRate)
    {
        if (senderKnown && senderFresh) return senderRate;
        if (receiverKnown && receiverFresh) return receiverRate;
        if (senderKnown) return senderRate;
        if (receiverKnown) return receiverRate;
        return 0;
    }

    private bool Changed(in Published pub, in Values v, int link, Span<Values> prio, int prioMask)
    {
        if (!pub.Has) return true;
        var o = pub.V;
        var u = _o.UtilizationChangeThreshold;
        if (Math.Abs(v.UtilAB - o.UtilAB) >= u || Math.Abs(v.UtilBA - o.UtilBA) >= u) return true;
        if (v.Up != o.Up || v.Fresh != o.Fresh) return true;
        if (RateChanged(o.Err, v.Err, _o.RateAbsoluteFloor) || RateChanged(o.Drop, v.Drop, _o.RateAbsoluteFloor)
            || RateChanged(o.Ecn, v.Ecn, _o.RateAbsoluteFloor) || RateChanged(o.Pause, v.Pause, _o.RateAbsoluteFloor)
            || RateChanged(o.Ber, v.Ber, BerFloor)) return true;
        for (var k = 0; k < TelemetryPipeline.Priorities; k++)
        {
            if ((prioMask & (1 << k)) == 0) continue;
            if (Math.Abs(prio[k].UtilAB - _pubPrio[link * 16 + k * 2]) >= u || Math.Abs(prio[k].UtilBA - _pubPrio[link * 16 + k * 2 + 1]) >= u) return true;
        }
        return false;
    }

    private bool RateChanged(double old, double now, double floor)
    {
        if (old < floor) old = 0;
        if (now < floor) now = 0;
        if (old == 0 || now == 0) return (old == 0) != (now == 0);
        return Math.Abs(now - old) > _o.RateRelativeChangeThreshold * old;
    }

    private struct Values
    {
        public double UtilAB, UtilBA, Err, Ber, Drop, Ecn, Pause, Queue;
        public bool Up, Fresh;
    }

    private struct Published
    {
        public bool Has;
        public Values V;
    }
}
