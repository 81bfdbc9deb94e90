using System.Diagnostics;
using ControlPlane.Fabric;
using ControlPlane.Telemetry;
using ControlPlane.Telemetry.Service;
using ControlPlane.Testing;

namespace ControlPlane.Benchmarks;

/// <summary>
/// Writes downsampled 10 s rows of every switch port of an MPFT (16,384 endpoints, 49,152 ports) into the
/// hour-partitioned PostgreSQL series table with binary COPY, bucket after bucket, then queries one port and one link
/// over an hour. Args: [--buckets N] (default 12 = 2 minutes of data).
/// </summary>
public sealed class TelemetryStoreSuite : IBenchmarkSuite
{
    public string Name => "telemetry-store";

    public string Description => "MPFT 49,152 ports: 10 s rows per port written with COPY into the partitioned PostgreSQL table; series queries";

    public async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var buckets = args.SkipWhile(a => a != "--buckets").Skip(1).Select(int.Parse).FirstOrDefault(12);
        var ct = cancellationToken;
        var sw = Stopwatch.StartNew();
        await using var pg = await PostgresServer.StartAsync(ct);
        output.WriteLine($"postgres started in {sw.Elapsed.TotalSeconds:F2} s (fsync off, throwaway cluster)");
        var cs = await pg.CreateDatabaseAsync("telbench", ct);
        var topology = FabricGenerator.Generate(new GeneratorParameters { Name = "mpft", Kind = TopologyKind.Mpft, Radix = 64 });
        var options = new TelemetryServiceOptions();
        var store = new PostgresSeriesStore(cs, options);
        var start = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        await store.EnsureSchemaAsync(start, ct);

        var ports = new List<(int Switch, int Port, int Link)>();
        for (var s = 0; s < topology.Switches.Count; s++)
            for (var p = 1; p <= topology.Switches[s].Radix; p++)
                if (topology.LinkAtSwitchPort(s, p) is var l and >= 0) ports.Add((s, p, l));
        var rng = new Random(1);
        var total = 0L;
        var times = new List<double>();
        for (var b = 0; b < buckets; b++)
        {
            var bucket = start + TimeSpan.FromSeconds(10 * b);
            var rows = ports.Select(x =>
            {
                var u = rng.NextDouble();
                var st = new SeriesStat(u * 0.8, u * 0.9, u, 100);
                return new PortSeriesRow
                {
                    SwitchId = x.Switch, Port = x.Port, LinkId = x.Link, BucketStartUnixNanos = UnixNanos.From(bucket), Samples = 100,
                    TxUtil = st, RxUtil = st, FecUncorrectedRate = new SeriesStat(0, 0.1, 1, 100), DropRate = new SeriesStat(0, 0, 0, 100),
                    PreFecBer = new SeriesStat(1e-9, 2e-9, 3e-9, 10), TemperatureC = new SeriesStat(44, 45, 46, 10), RxPowerMinDbm = new SeriesStat(-3, -2, -1, 10),
                };
            }).ToList();
            sw.Restart();
            total += await store.WriteAsync(new SeriesBatch("mpft", topology, rows), bucket + TimeSpan.FromSeconds(10), ct);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        output.WriteLine($"wrote {total:N0} rows ({ports.Count:N0} ports x {buckets} buckets): per bucket median {times[times.Count / 2]:F0} ms, max {times[^1]:F0} ms; " +
                         $"{ports.Count / (times[times.Count / 2] / 1000):N0} rows/s; a bucket is due every 10,000 ms");

        var leaf = topology.Switches.First(s => s.Tier == SwitchTier.Leaf);
        var q = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            sw.Restart();
            var r = await store.QueryAsync("mpft", leaf.Id, 1, start, start + TimeSpan.FromHours(1), ct);
            q.Add(sw.Elapsed.TotalMilliseconds);
            if (r.Single().Points.Count != buckets) throw new InvalidOperationException($"expected {buckets} points, got {r.Single().Points.Count}");
        }
        var lq = new List<double>();
        var link = topology.LinkAtSwitchPort(leaf.Id, leaf.Radix / 2 + 1); // an uplink: both ends are switch ports
        for (var i = 0; i < 20; i++)
        {
            sw.Restart();
            var r = await store.QueryAsync("mpft", link, null, start, start + TimeSpan.FromHours(1), ct);
            lq.Add(sw.Elapsed.TotalMilliseconds);
            if (r.Count != 2) throw new InvalidOperationException($"expected both ends of link {link}, got {r.Count}");
        }
        q.Sort();
        lq.Sort();
        output.WriteLine($"query one port over 1 h ({buckets} points): median {q[q.Count / 2]:F1} ms; one link (both ends): median {lq[lq.Count / 2]:F1} ms");
        var parts = await store.ListPartitionsAsync(ct);
        output.WriteLine($"partitions: {string.Join(", ", parts)}");
        return 0;
    }
}
