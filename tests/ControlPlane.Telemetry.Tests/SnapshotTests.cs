using ControlPlane.Contracts;
using ControlPlane.Protos.Fabric.V1;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static ControlPlane.Telemetry.Tests.Fixtures;

namespace ControlPlane.Telemetry.Tests;

public class SnapshotTests
{
    private readonly TelemetryPipeline _p;
    private readonly LinkLoadSnapshotBuilder _b;
    private readonly ScriptedAgent _leaf0 = new("leaf-0");
    private readonly ScriptedAgent _spine0 = new("spine-0");
    private readonly int _uplink;   // leaf-0 port 3 (A) <-> spine-0 port 1 (B)
    private readonly int _hostLink; // node NIC (A) <-> leaf-0 port 1 (B)
    private ulong _leafTx, _leafRx, _spineTx;

    public SnapshotTests()
    {
        _p = new TelemetryPipeline(SmallFabric(), new TelemetryOptions { FullSnapshotInterval = TimeSpan.FromSeconds(1) });
        _b = new LinkLoadSnapshotBuilder(_p);
        var topo = _p.Layout.Topology;
        _uplink = topo.LinkAtSwitchPort(topo.FindSwitch("leaf-0"), 3);
        _hostLink = topo.LinkAtSwitchPort(topo.FindSwitch("leaf-0"), 1);
    }

    /// <summary>Both ends of the uplink and the leaf's host port report at <paramref name="t"/> with the given loads over the last 100 ms.</summary>
    private void Report(long t, double up, double down, double hostDown = 0.1, PortOperState state = PortOperState.Up)
    {
        _leafTx += (ulong)(up * LineBytes * 0.1);
        _spineTx += (ulong)(down * LineBytes * 0.1);
        _leafRx += (ulong)(hostDown * LineBytes * 0.1);
        _p.Ingest(_leaf0.Next(t, Port(3, tx: _leafTx, rx: _spineTx, state: state), Port(1, tx: _leafRx)), t + Ms);
        _p.Ingest(_spine0.Next(t, Port(1, tx: _spineTx, rx: _leafTx, state: state)), t + Ms);
    }

    private static LinkLoad Load(LinkLoadSnapshot s, int link) => s.Loads.Single(l => l.LinkId == link);

    [Fact]
    public void First_snapshot_is_full_and_maps_directions_from_the_port_sides()
    {
        for (var i = 0; i < 30; i++) Report(T0 + i * 100 * Ms, up: 0.6, down: 0.2, hostDown: 0.3);
        var s = _b.Build(0, T0 + 3 * Sec);
        Assert.True(s.IsFull);
        Assert.Equal(1, s.Sequence);
        Assert.Equal("small", s.Fabric);
        Assert.Equal(_p.Layout.PlaneLinks(0).Length, s.Loads.Count);
        var up = Load(s, _uplink);
        Assert.Equal(0.6, up.UtilAtoB, 3);   // leaf (A) transmits up
        Assert.Equal(0.2, up.UtilBtoA, 3);   // spine (B) transmits down
        Assert.True(up.Up && up.Fresh);
        var host = Load(s, _hostLink);
        Assert.Equal(0.3, host.UtilBtoA, 3); // leaf is B on host links: its tx goes to the host
        Assert.Equal(0, host.UtilAtoB, 3);
        Assert.InRange(s.MaxLagMs, 0, 200);
    }

    [Fact]
    public void Deltas_carry_only_links_that_moved_beyond_the_threshold_since_last_published()
    {
        for (var i = 0; i < 30; i++) Report(T0 + i * 100 * Ms, 0.5, 0.5);
        Assert.True(_b.Build(0, T0 + 3 * Sec).IsFull);
        // Nothing changed.
        Report(T0 + 3 * Sec, 0.5, 0.5);
        var quiet = _b.Build(0, T0 + 3100 * Ms);
        Assert.False(quiet.IsFull);
        Assert.Equal(2, quiet.Sequence);
        Assert.Empty(quiet.Loads);
        // A small move stays out: one sample of 0.58 moves the smoothed value by 0.08 * (1 - e^-0.2) = 1.45%.
        Report(T0 + 3100 * Ms, 0.58, 0.5);
        Assert.Empty(_b.Build(0, T0 + 3200 * Ms).Loads);
        // It keeps drifting: 1.2% more than last period, but 2.6% from the last *published* value, so it comes out.
        Report(T0 + 3200 * Ms, 0.58, 0.5);
        var moved = _b.Build(0, T0 + 3300 * Ms);
        var l = Assert.Single(moved.Loads);
        Assert.Equal(_uplink, l.LinkId);
        Assert.True(l.UtilAtoB > 0.52);
    }

    [Fact]
    public void Full_snapshots_come_at_the_slower_interval_and_on_request()
    {
        var fulls = new List<long>();
        for (var i = 1; i <= 25; i++)
        {
            Report(T0 + i * 100 * Ms, 0.3, 0.3);
            var s = _b.Build(0, T0 + i * 100 * Ms);
            Assert.Equal(i, s.Sequence);
            if (s.IsFull) fulls.Add(s.Sequence);
        }
        Assert.Equal([1, 11, 21], fulls);
        _b.RequestFull(0);
        Assert.True(_b.Build(0, T0 + 2600 * Ms).IsFull);
        Assert.False(_b.Build(0, T0 + 2700 * Ms).IsFull);
    }

    [Fact]
    public void Oper_state_change_and_staleness_show_in_deltas()
    {
        for (var i = 0; i < 10; i++) Report(T0 + i * 100 * Ms, 0.5, 0.5);
        _b.Build(0, T0 + Sec);
        Report(T0 + Sec, 0.5, 0.5, state: PortOperState.Down);
        var down = _b.Build(0, T0 + 1100 * Ms);
        Assert.False(Load(down, _uplink).Up);
        // Nobody reports for 2 s: every reported link goes stale.
        var stale = _b.Build(0, T0 + 3100 * Ms);
        Assert.All(stale.Loads, l => Assert.False(l.Fresh));
        Assert.Contains(stale.Loads, l => l.LinkId == _uplink);
    }

    [Fact]
    public void Receiver_counter_is_used_when_the_sender_is_stale()
    {
        var t = T0;
        for (var i = 0; i < 20; i++)
        {
            t = T0 + i * 100 * Ms;
            _leafTx += (ulong)(0.7 * LineBytes * 0.1);
            // Only the spine reports from 1 s on; its rx counter sees the leaf's transmissions.
            if (i < 10) _p.Ingest(_leaf0.Next(t, Port(3, tx: _leafTx)), t + Ms);
            _p.Ingest(_spine0.Next(t, Port(1, rx: _leafTx)), t + Ms);
        }
        var s = _b.Build(0, t + 1500 * Ms - 600 * Ms);
        var l = Load(s, _uplink);
        Assert.True(l.Fresh);
        Assert.Equal(0.7, l.UtilAtoB, 3);
    }

    [Fact]
    public void Error_and_priority_figures_reach_the_snapshot()
    {
        ulong fec = 0, tx = 0, pause = 0;
        for (var i = 0; i < 20; i++)
        {
            var t = T0 + i * 100 * Ms;
            fec += 50; tx += (ulong)(0.4 * LineBytes * 0.1); pause += 10;
            var s = Port(3, tx: tx);
            s.FecUncorrectedCodewords = fec;
            s.Optics = Optics(ber: 3e-5);
            s.Priorities.Add(new PrioritySample { Priority = 3, TxBytes = tx / 4, RxPauseFrames = pause, QueueBytes = 1000 + (ulong)i });
            _p.Ingest(_leaf0.Next(t, s), t + Ms);
        }
        var snap = _b.Build(0, T0 + 2 * Sec);
        var l = Load(snap, _uplink);
        Assert.Equal(500, l.ErrorRate, 0);
        Assert.Equal(3e-5, l.PreFecBer, 8);
        Assert.Equal(100, l.PauseRate, 0);
        var pr = Assert.Single(l.Priorities);
        Assert.Equal(3, pr.Priority);
        Assert.Equal(0.1, pr.UtilAtoB, 3);
        Assert.Equal(1019, pr.QueueBytes);
    }

    [Fact]
    public void Each_plane_gets_its_own_snapshot_and_sequence()
    {
        var p = new TelemetryPipeline(TwoPlanes());
        var b = new LinkLoadSnapshotBuilder(p);
        var snaps = b.Build(T0);
        Assert.Equal(2, snaps.Count);
        Assert.Equal([0, 1], snaps.Select(s => s.Plane));
        Assert.All(snaps, s => Assert.Equal(p.Layout.PlaneLinks(s.Plane).Length, s.Loads.Count));
        Assert.All(snaps, s => Assert.All(s.Loads, l => Assert.False(l.Fresh)));
        Assert.Equal(T0 + 100 * Ms, b.PeriodEndAfter(T0 + 30 * Ms));
    }

    [Property(MaxTest = 60)]
    public Property No_bad_value_ever_reaches_a_snapshot_or_a_stored_row(double temp, double ber, double rx, ulong txJump, uint port)
    {
        var p = new TelemetryPipeline(SmallFabric());
        var b = new LinkLoadSnapshotBuilder(p);
        var a = new ScriptedAgent("leaf-0");
        ulong tx = 0;
        for (var i = 0; i < 6; i++)
        {
            var t = T0 + i * 100 * Ms;
            tx = i == 3 ? unchecked(tx + txJump) : tx + (ulong)(0.5 * LineBytes * 0.1);
            var s = Port(i == 4 ? port : 3, tx: tx);
            s.FecUncorrectedCodewords = i == 2 ? txJump : 0;
            if (i % 2 == 1) s.Optics = Optics(temp: temp, ber: ber, rxDbm: rx);
            p.Ingest(a.Next(t, s), t + Ms);
        }
        var snap = b.Build(0, T0 + 600 * Ms);
        var ok = snap.Loads.All(l =>
            l.UtilAtoB is >= 0 and <= 1 && l.UtilBtoA is >= 0 and <= 1 && double.IsFinite(l.ErrorRate) && l.ErrorRate >= 0
            && l.PreFecBer is >= 0 and <= 1 && double.IsFinite(l.DropRate) && double.IsFinite(l.PauseRate) && double.IsFinite(l.EcnRate));
        p.Downsampler.Flush(T0 + 60 * Sec);
        var rows = p.Downsampler.Drain();
        static bool Fine(SeriesStat? st, double lo, double hi) => st is null || (st.Value.Min >= lo && st.Value.Max <= hi && double.IsFinite(st.Value.Mean));
        var rowsOk = rows.All(r => Fine(r.TxUtil, 0, 1.05) && Fine(r.RxUtil, 0, 1.05) && Fine(r.TemperatureC, -40, 125) && Fine(r.PreFecBer, 0, 1)
            && Fine(r.RxPowerMinDbm, -40, 10) && Fine(r.FecUncorrectedRate, 0, double.MaxValue) && Fine(r.DropRate, 0, double.MaxValue));
        return (ok && rowsOk && rows.Count > 0).Label("every published figure and stored row finite and in range");
    }
}
