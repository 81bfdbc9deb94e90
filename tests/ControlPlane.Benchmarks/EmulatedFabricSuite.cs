using System.Diagnostics;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Emulation;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using ControlPlane.Routing;
using Google.Protobuf;

namespace ControlPlane.Benchmarks;

/// <summary>
/// One period of the emulated fabric on the full MPFT (768 switches) over the tables its data planes hold: building the
/// installed-table view, running the flow-level emulator on the default workload (MoE EP dispatch + KV-cache background),
/// and encoding one telemetry batch per switch. The agent host does exactly these steps each period (plus the bus).
/// </summary>
public sealed class EmulatedFabricSuite : IBenchmarkSuite
{
    public string Name => "emulated-fabric";

    public string Description => "one emulated-fabric period on the full MPFT over installed tables: view build, emulator, telemetry encoding";

    public Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var runs = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 5;
        var t = FabricGenerator.Generate(new GeneratorParameters { Kind = TopologyKind.Mpft });
        var snap = FabricSnapshot.Initial(t);
        var sw = Stopwatch.StartNew();
        var result = RoutingEngine.Compute(snap, TrafficPolicy.Default);
        var tables = RoutingExport.All(result);
        var planes = t.Switches.Select(s => new InMemoryDataPlane(s.Radix, SwitchCapacity.For(s))).ToArray();
        for (var s = 0; s < planes.Length; s++)
            if (!planes[s].Install(tables[t.Switches[s].Name]).Installed) throw new InvalidOperationException($"install on {t.Switches[s].Name} refused");
        output.WriteLine($"MPFT: {t.Switches.Count} switches, {t.Links.Count} links; routes computed, exported and installed in {sw.Elapsed.TotalMilliseconds:F0} ms");

        var moe = WorkloadGenerator.Moe(t, TrafficPolicy.Default.IndexOf("ep"), 1);
        var kv = WorkloadGenerator.KvCache(t, TrafficPolicy.Default.IndexOf("kv"), 2);
        var scale = 0.5 * moe.TotalBytes / kv.TotalBytes;
        var w = WorkloadGenerator.Mix("moe-ep+kv", moe, new Workload("kv", kv.Flows.Select(f => f with { Bytes = f.Bytes * scale }).ToList()));
        output.WriteLine($"workload {w.Name}: {w.Flows.Count:N0} flows, {w.TotalBytes / 1e9:F2} GB");

        // One link down: the view prunes the dead member (fast failover) on top of the installed tables.
        var broken = snap.WithLink(t.Links.First(l => l.IsSwitchLink).Id, new ElementState(ElementStatus.Down));
        var view = new List<double>();
        var emu = new List<double>();
        var enc = new List<double>();
        EmulationReport? report = null;
        long bytes = 0;
        for (var i = 0; i < runs + 1; i++)
        {
            var cpu = Stopwatch.StartNew();
            var installed = InstalledTables.Build(i % 2 == 0 ? snap : broken, TrafficPolicy.Default, result.GroupSize, s => planes[s].Installed);
            var a = cpu.Elapsed.TotalMilliseconds;
            var r = Emulator.Run(installed, w, new EmulatorOptions { MaxMinRates = false });
            var b = cpu.Elapsed.TotalMilliseconds;
            bytes = 0;
            for (var s = 0; s < t.Switches.Count; s++)
            {
                var batch = new TelemetryBatch { SwitchName = t.Switches[s].Name, AgentId = "emu-" + t.Switches[s].Name, SessionId = 1, Sequence = (ulong)i + 1, BootId = 1, SampleTimeUnixNanos = 1 };
                var ports = t.SwitchPortLinks(s);
                for (var p = 0; p < ports.Length; p++)
                {
                    var l = ports[p];
                    if (l < 0) continue;
                    var u = r.Utilization.AToB[l];
                    batch.Ports.Add(new PortSample { Port = (uint)p + 1, OperState = PortOperState.Up, TxBytes = (ulong)(u * 5e10 * (i + 1)), RxBytes = (ulong)(u * 4e10 * (i + 1)), TxPackets = (ulong)(u * 1e7), RxPackets = (ulong)(u * 1e7) });
                }
                bytes += batch.ToByteArray().Length;
            }
            var c = cpu.Elapsed.TotalMilliseconds;
            if (i == 0) continue; // warm-up
            view.Add(a);
            emu.Add(b - a);
            enc.Add(c - b);
            report = r.Report;
        }
        var engine = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var c = Stopwatch.StartNew();
            Emulator.Run(result, w, new EmulatorOptions { MaxMinRates = false });
            engine.Add(c.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"per period (median of {runs}, one core):");
        output.WriteLine($"  installed-table view        {Median(view),8:F1} ms");
        output.WriteLine($"  emulator (loads + bound)    {Median(emu),8:F1} ms");
        output.WriteLine($"  {t.Switches.Count} telemetry batches   {Median(enc),8:F1} ms   ({bytes / 1024.0:F0} KiB encoded, {bytes / t.Switches.Count} B per batch)");
        output.WriteLine($"  total                       {Median(view) + Median(emu) + Median(enc),8:F1} ms");
        output.WriteLine($"(reference: the emulator over the engine's own result takes {Median(engine):F1} ms)");
        output.WriteLine($"last period: max link util {report!.MaxFabricUtilization:F3}, bound {report.LowerBoundUtilization:F3}, ratio {report.RatioToBound:F3}, undelivered {report.UndeliveredBytes:G3} B");
        return Task.FromResult(0);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s[s.Count / 2];
    }
}
