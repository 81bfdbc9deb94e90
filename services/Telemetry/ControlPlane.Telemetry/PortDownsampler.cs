namespace ControlPlane.Telemetry;

/// <summary>Minimum, mean and maximum of one metric over a bucket, and how many values went in.</summary>
public readonly record struct SeriesStat(double Min, double Mean, double Max, int Count);

/// <summary>
/// One downsampled row: a port's figures over one bucket (default 10 s) of control plane time. A metric with
/// no value in the bucket (for example optics not read) is null. Rows are what the store writes.
/// </summary>
public sealed record PortSeriesRow
{
    /// <summary>Switch id.</summary>
    public required int SwitchId { get; init; }
    /// <summary>1-based port.</summary>
    public required int Port { get; init; }
    /// <summary>Link on the port.</summary>
    public required int LinkId { get; init; }
    /// <summary>Start of the bucket, unix nanoseconds, a multiple of the bucket length.</summary>
    public required long BucketStartUnixNanos { get; init; }
    /// <summary>Samples that fell in the bucket.</summary>
    public required int Samples { get; init; }
    /// <summary>Transmit utilization, fraction of line rate.</summary>
    public SeriesStat? TxUtil { get; init; }
    /// <summary>Receive utilization.</summary>
    public SeriesStat? RxUtil { get; init; }
    /// <summary>FEC-uncorrectable codewords per second.</summary>
    public SeriesStat? FecUncorrectedRate { get; init; }
    /// <summary>Dropped packets per second.</summary>
    public SeriesStat? DropRate { get; init; }
    /// <summary>Pre-FEC BER.</summary>
    public SeriesStat? PreFecBer { get; init; }
    /// <summary>Module temperature, C.</summary>
    public SeriesStat? TemperatureC { get; init; }
    /// <summary>Lowest lane receive power, dBm.</summary>
    public SeriesStat? RxPowerMinDbm { get; init; }
}

/// <summary>
/// Folds raw points of each port into fixed buckets of control plane time and emits one
/// <see cref="PortSeriesRow"/> per port per bucket: when a point of a later bucket arrives, or on
/// <see cref="Flush"/> once the bucket has ended. NaN values (not measured) are left out. Pending rows are
/// bounded; beyond the bound the oldest are dropped and counted in <see cref="RowsDropped"/>.
/// Memory: <see cref="BytesPerPort"/> per port plus the pending rows. Not thread-safe.
/// </summary>
public sealed class PortDownsampler
{
    private const int Metrics = 7;
    private readonly Acc[] _acc;
    private readonly long _bucket;
    private readonly int _maxPending;
    private readonly Func<int, (int Switch, int Port, int Link)> _describe;
    private readonly Queue<PortSeriesRow> _pending = new();

    /// <summary>Creates a downsampler for <paramref name="portCount"/> ports.</summary>
    /// <param name="portCount">Dense port count.</param>
    /// <param name="bucketNanos">Bucket length.</param>
    /// <param name="maxPendingRows">Rows held until drained.</param>
    /// <param name="describe">Maps a port index to its switch, port and link for the rows.</param>
    public PortDownsampler(int portCount, long bucketNanos, int maxPendingRows, Func<int, (int Switch, int Port, int Link)> describe)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketNanos, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingRows, 1);
        _acc = new Acc[portCount];
        _bucket = bucketNanos;
        _maxPending = maxPendingRows;
        _describe = describe;
    }

    /// <summary>Bytes of accumulator state per port.</summary>
    public static int BytesPerPort => System.Runtime.CompilerServices.Unsafe.SizeOf<Acc>();

    /// <summary>Rows dropped because nobody drained them in time.</summary>
    public long RowsDropped { get; private set; }

    /// <summary>Rows waiting to be drained.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Adds a point of a port. A point older than the port's open bucket is folded into it (clock offset estimates can step back slightly).</summary>
    public void Add(int portIndex, in RawPoint p)
    {
        ref var a = ref _acc[portIndex];
        // Most points fall in the open bucket: skip the 64-bit division then.
        if (a.Samples == 0 || p.TimeUnixNanos >= a.Start + _bucket)
        {
            var start = p.TimeUnixNanos - Mod(p.TimeUnixNanos, _bucket);
            if (a.Samples > 0 && start > a.Start) Emit(portIndex, ref a);
            if (a.Samples == 0) a.Start = start;
        }
        a.Samples++;
        a.Fold(0, p.TxUtil);
        a.Fold(1, p.RxUtil);
        a.Fold(2, p.FecUncorrectedRate);
        a.Fold(3, p.DropRate);
        a.Fold(4, p.PreFecBer);
        a.Fold(5, p.TemperatureC);
        a.Fold(6, p.RxPowerMinDbm);
    }

    /// <summary>Emits every open bucket that ended at or before <paramref name="nowUnixNanos"/>.</summary>
    public void Flush(long nowUnixNanos)
    {
        for (var i = 0; i < _acc.Length; i++)
        {
            ref var a = ref _acc[i];
            if (a.Samples > 0 && a.Start + _bucket <= nowUnixNanos) Emit(i, ref a);
        }
    }

    /// <summary>Takes every pending row, oldest first.</summary>
    public IReadOnlyList<PortSeriesRow> Drain()
    {
        var rows = _pending.ToArray();
        _pending.Clear();
        return rows;
    }

    private void Emit(int portIndex, ref Acc a)
    {
        var (sw, port, link) = _describe(portIndex);
        if (_pending.Count >= _maxPending)
        {
            _pending.Dequeue();
            RowsDropped++;
        }
        _pending.Enqueue(new PortSeriesRow
        {
            SwitchId = sw,
            Port = port,
            LinkId = link,
            BucketStartUnixNanos = a.Start,
            Samples = a.Samples,
            TxUtil = a.Stat(0),
            RxUtil = a.Stat(1),
            FecUncorrectedRate = a.Stat(2),
            DropRate = a.Stat(3),
            PreFecBer = a.Stat(4),
            TemperatureC = a.Stat(5),
            RxPowerMinDbm = a.Stat(6),
        });
        a = default;
    }

    private static long Mod(long t, long m)
    {
        var r = t % m;
        return r < 0 ? r + m : r;
    }

    [System.Runtime.CompilerServices.InlineArray(Metrics)]
    private struct F4 { private float _e; }

    [System.Runtime.CompilerServices.InlineArray(Metrics)]
    private struct D8 { private double _e; }

    [System.Runtime.CompilerServices.InlineArray(Metrics)]
    private struct I4 { private int _e; }

    private struct Acc
    {
        public long Start;
        public int Samples;
        public F4 Min, Max;
        public D8 Sum;
        public I4 N;

        public void Fold(int m, float v)
        {
            if (float.IsNaN(v)) return;
            if (N[m] == 0 || v < Min[m]) Min[m] = v;
            if (N[m] == 0 || v > Max[m]) Max[m] = v;
            Sum[m] += v;
            N[m]++;
        }

        public readonly SeriesStat? Stat(int m) => N[m] == 0 ? null : new SeriesStat(Min[m], Sum[m] / N[m], Max[m], N[m]);
    }
}
