using static ControlPlane.Telemetry.Tests.Fixtures;

namespace ControlPlane.Telemetry.Tests;

public class IngestQueueTests
{
    private static readonly TelemetryOptions Small = new() { QueueCapacityBatches = 3, QueueCapacityBytes = 1000, MaxBatchBytes = 400 };

    [Fact]
    public void When_full_the_oldest_batches_are_shed_and_counted_per_agent()
    {
        var m = new TelemetryMetrics();
        var q = new IngestQueue(Small, m);
        for (var i = 0; i < 3; i++) Assert.Empty(q.Enqueue(new byte[10], $"a{i}", T0 + i));
        var shed = q.Enqueue(new byte[10], "a3", T0 + 3);
        var r = Assert.Single(shed);
        Assert.Equal(RejectReason.Shed, r.Reason);
        Assert.Equal("a0", r.Agent);
        q.Enqueue(new byte[10], "a4", T0 + 4);
        Assert.Equal(3, q.Count);
        Assert.Equal(2, q.ShedBatches);
        Assert.Equal(20, q.ShedBytes);
        Assert.True(q.TryDequeue(out var first));
        Assert.Equal("a2", first.Agent);
        Assert.Equal(T0 + 2, first.ReceiveUnixNanos);
        var figures = m.Read();
        Assert.Equal(2, figures.BatchRejected(RejectReason.Shed));
        Assert.Equal(1, figures.Agents["a1"].BatchesRejected[RejectReason.Shed]);
    }

    [Fact]
    public void Byte_limit_sheds_as_many_old_batches_as_needed()
    {
        var q = new IngestQueue(Small, new TelemetryMetrics());
        q.Enqueue(new byte[300], "a", 1);
        q.Enqueue(new byte[300], "b", 2);
        var shed = q.Enqueue(new byte[399], "c", 3); // 600 + 399 fits; the next one does not
        Assert.Empty(shed);
        shed = q.Enqueue(new byte[350], "d", 4);
        Assert.Equal(["a", "b"], shed.Select(s => s.Agent));
        Assert.Equal(749, q.Bytes);
    }

    [Fact]
    public void Oversized_batch_is_refused_at_the_door()
    {
        var m = new TelemetryMetrics();
        var q = new IngestQueue(Small, m);
        var r = Assert.Single(q.Enqueue(new byte[401], "big", 1));
        Assert.Equal(RejectReason.TooLarge, r.Reason);
        Assert.Equal(0, q.Count);
        Assert.Equal(1, q.RefusedTooLarge);
        Assert.Equal(1, m.Read().Agents["big"].BatchesRejected[RejectReason.TooLarge]);
    }

    [Fact]
    public void Drain_feeds_the_pipeline_with_the_receive_time_of_enqueueing()
    {
        var p = new TelemetryPipeline(SmallFabric());
        var q = new IngestQueue(p.Options, p.Metrics);
        var a = new ScriptedAgent("leaf-0", "agent-q");
        q.Enqueue(Google.Protobuf.MessageExtensions.ToByteArray(a.Next(T0, Port(3))), "amqp:agent-q", T0 + Ms);
        q.Enqueue(new byte[] { 0x0A, 0x05, 0x6C }, "amqp:broken", T0 + 2 * Ms);
        q.Enqueue(Google.Protobuf.MessageExtensions.ToByteArray(a.Next(T0 + 100 * Ms, Port(3, tx: 1_000_000))), "amqp:agent-q", T0 + 101 * Ms);
        var logged = new List<Rejection>();
        // The pipeline uses the receive time kept in the queue, not the time of draining.
        Assert.Equal(2, q.DrainInto(p, 2, logged.Add));
        Assert.Equal(1, q.DrainInto(p, 10, logged.Add));
        var r = Assert.Single(logged);
        Assert.Equal((RejectReason.Malformed, "amqp:broken"), (r.Reason, r.Agent));
        Assert.True(p.GetPort(0, 3)!.HasRates);
        Assert.Equal(2, p.Metrics.Read().SamplesAccepted);
    }

    [Fact]
    public void Concurrent_producers_lose_nothing_silently()
    {
        var q = new IngestQueue(new TelemetryOptions { QueueCapacityBatches = 100 }, new TelemetryMetrics());
        Parallel.For(0, 4, w => { for (var i = 0; i < 1000; i++) q.Enqueue(new byte[8], $"w{w}", i); });
        Assert.Equal(4000, q.Enqueued);
        Assert.Equal(4000 - 100, q.ShedBatches);
        Assert.Equal(100, q.Count);
    }
}

public class DownsamplerTests
{
    private static PortDownsampler Make(int maxRows = 1000) => new(4, 10 * Sec, maxRows, p => (p / 2, p % 2 + 1, 100 + p));

    private static RawPoint Point(long t, float tx, float temp = float.NaN) => new(t, tx, tx / 2, 0, 0, float.NaN, temp, float.NaN);

    [Fact]
    public void Ten_second_buckets_give_min_mean_max_and_skip_unmeasured_values()
    {
        var d = Make();
        var start = T0 - T0 % (10 * Sec);
        for (var i = 0; i < 250; i++) // 25 s at 10 Hz
            d.Add(1, Point(start + i * 100 * Ms, tx: i % 10 / 10f, temp: i % 10 == 0 ? 40 + i / 10 : float.NaN));
        var rows = d.Drain();
        Assert.Equal(2, rows.Count); // the third bucket is still open
        var r = rows[0];
        Assert.Equal((0, 2, 101), (r.SwitchId, r.Port, r.LinkId));
        Assert.Equal(start, r.BucketStartUnixNanos);
        Assert.Equal(100, r.Samples);
        Assert.Equal(0, r.TxUtil!.Value.Min, 6);
        Assert.Equal(0.45, r.TxUtil.Value.Mean, 5);
        Assert.Equal(0.9, r.TxUtil.Value.Max, 5);
        Assert.Equal(10, r.TemperatureC!.Value.Count);
        Assert.Equal(40, r.TemperatureC.Value.Min);
        Assert.Equal(49, r.TemperatureC.Value.Max);
        Assert.Null(r.PreFecBer);
        Assert.Equal(start + 10 * Sec, rows[1].BucketStartUnixNanos);
        d.Flush(start + 29 * Sec);
        Assert.Empty(d.Drain());
        d.Flush(start + 30 * Sec);
        Assert.Equal(50, Assert.Single(d.Drain()).Samples);
    }

    [Fact]
    public void Pending_rows_are_bounded_and_drops_counted()
    {
        var d = Make(maxRows: 2);
        for (var b = 0; b < 5; b++) d.Add(0, Point(T0 + b * 10 * Sec, 0.5f));
        d.Flush(T0 + 60 * Sec);
        Assert.Equal(3, d.RowsDropped);
        Assert.Equal(2, d.Drain().Count);
    }

    [Fact]
    public void Pipeline_feeds_the_downsampler_with_measured_rates()
    {
        var p = new TelemetryPipeline(SmallFabric());
        var a = new ScriptedAgent("leaf-0");
        var start = T0 - T0 % (10 * Sec) + 10 * Sec;
        for (var i = 0; i <= 100; i++)
            p.Ingest(a.Next(start + i * 100 * Ms - Ms, Port(3, tx: (ulong)(i * 0.25 * LineBytes * 0.1))), start + i * 100 * Ms);
        p.Downsampler.Flush(start + 20 * Sec - 1); // the 101st sample opened the next bucket, still open
        var row = Assert.Single(p.Downsampler.Drain());
        Assert.Equal(start, row.BucketStartUnixNanos);
        Assert.Equal(100, row.Samples);
        Assert.Equal(99, row.TxUtil!.Value.Count); // the first sample is a baseline
        Assert.Equal(0.25, row.TxUtil.Value.Mean, 3);
        Assert.Equal(0.25, row.TxUtil.Value.Max, 3);
    }
}

public class OptionsAndMemoryTests
{
    [Fact]
    public void Invalid_options_name_every_field()
    {
        var e = new TelemetryOptions { Period = TimeSpan.Zero, EwmaTimeConstant = TimeSpan.FromSeconds(-1), UtilizationChangeThreshold = double.NaN, RawHistoryDepth = 0 }.Validate();
        Assert.Equal(["period", "ewmaTimeConstant", "utilizationChangeThreshold", "rawHistoryDepth"], e.Select(x => x.Field).Where(f => f is "period" or "ewmaTimeConstant" or "utilizationChangeThreshold" or "rawHistoryDepth"));
        Assert.Throws<ControlPlane.Fabric.FabricInputException>(() => new TelemetryPipeline(SmallFabric(), new TelemetryOptions { RawHistoryDepth = 0 }));
        Assert.Empty(new TelemetryOptions().Validate());
    }

    [Fact]
    public void Memory_per_port_is_bounded_by_the_stated_figure()
    {
        var bytes = TelemetryPipeline.BytesPerPort(new TelemetryOptions());
        Assert.InRange(bytes, 1000, 4096);
        Assert.True(TelemetryPipeline.BytesPerPort(new TelemetryOptions { RawHistoryDepth = 64 }) > bytes);
    }

    [Fact]
    public void Metrics_count_acceptance_per_agent()
    {
        var p = new TelemetryPipeline(SmallFabric());
        var a = new ScriptedAgent("leaf-1", "ag");
        p.Ingest(a.Next(T0, Port(1), Port(2), Port(3)), T0 + Ms);
        var m = p.Metrics.Read();
        Assert.Equal(3, m.SamplesAccepted);
        Assert.Equal(1, m.BatchesAccepted);
        Assert.Equal(3, m.Agents["ag"].SamplesAccepted);
    }
}

public class BenchmarkHarnessTests
{
    [Fact]
    public void Synthetic_load_is_valid_and_the_report_is_consistent()
    {
        var r = TelemetryBenchmark.Run(new TelemetryBenchmarkOptions
        {
            Fabric = new ControlPlane.Fabric.GeneratorParameters { Kind = ControlPlane.Fabric.TopologyKind.Mpft, Name = "tiny", Radix = 8, Planes = 2, NicsPerNode = 2 },
            Polls = 12,
            Repeat = 1,
        });
        Assert.Equal(0, r.SamplesRejected);
        Assert.Equal(2, r.Planes);
        Assert.Equal(r.SwitchPorts * 12L, r.SamplesPerRepetition);
        Assert.Equal(r.SwitchPorts * 10.0, r.RequiredSamplesPerSecond);
        Assert.True(r.PipelineSamplesPerSecond > 0 && r.DecodeSamplesPerSecond > 0);
        Assert.Equal(r.Links / 2, r.FullLinksPerPlane);
        Assert.InRange(r.DeltaLinksPerPlaneMean, 0, r.FullLinksPerPlane);
        Assert.Equal(TelemetryPipeline.BytesPerPort(new TelemetryOptions()), r.BytesPerPortStated);
    }
}
