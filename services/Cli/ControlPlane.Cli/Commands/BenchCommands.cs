extern alias allinone;

using System.CommandLine;
using System.Diagnostics;
using ControlPlane.Cli.Output;
using ControlPlane.Emulation;
using ControlPlane.Telemetry;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl bench routing|telemetry`: the same measurements as the benchmark suites, printed as text or JSON.</summary>
public static class BenchCommands
{
    public static Command Build(CliContext ctx)
    {
        var cmd = new Command("bench", "Measure: routing speed and quality, telemetry ingest throughput (takes minutes; --quick for a short run)");
        cmd.Subcommands.Add(Routing(ctx));
        cmd.Subcommands.Add(Telemetry(ctx));
        cmd.Subcommands.Add(Convergence(ctx));
        return cmd;
    }

    private static Command Routing(CliContext ctx)
    {
        var quick = new Option<bool>("--quick") { Description = "Small fabrics (radix 16), fewer runs: about a minute" };
        var runs = new Option<int?>("--runs") { Description = "Timed runs per figure (median reported)" };
        var seed = new Option<int>("--seed") { Description = "Seed of failures and workload", DefaultValueFactory = _ => 7 };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("routing", "Full and incremental table computation, emulator speed, and routing quality (max link utilization vs a certified bound and hash ECMP) on MPFT and FT3, healthy and with 1/2/5% failures");
        foreach (var o in new Option[] { quick, runs, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var options = new RoutingBenchmarkOptions { Seed = r.GetValue(seed), CpuClock = () => Process.GetCurrentProcess().TotalProcessorTime };
            if (r.GetValue(quick)) options = options with { Quick = true, Runs = 3 };
            if (r.GetValue(runs) is { } n)
            {
                if (n < 1 || n > 100) throw new CliUsageException($"--runs: must be between 1 and 100, got {n}");
                options = options with { Runs = n };
            }
            var json = r.GetValue(output) == "json";
            var report = RoutingBenchmark.Run(options, json ? null : ctx.Err.WriteLine);
            if (json) JsonOutput.Write(ctx.Out, report);
            else ctx.Out.Write(RoutingBenchmarkText.Format(report));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Convergence(CliContext ctx)
    {
        var failures = new Option<int>("--failures") { Description = "Link failures injected, one at a time, each repaired before the next", DefaultValueFactory = _ => 100 };
        var radix = new Option<int>("--radix") { Description = "Switch radix of the MPFT (64: 16,384 endpoints, 768 switches)", DefaultValueFactory = _ => 64 };
        var warmup = new Option<int>("--warmup") { Description = "Failures injected first and reported apart (the first failures after a start run unoptimized code)", DefaultValueFactory = _ => 10 };
        var periods = new Option<int>("--periods") { Description = "Emulation periods watched for the adaptation figures", DefaultValueFactory = _ => 10 };
        var rabbit = new Option<string?>("--rabbitmq") { Description = "Run the bus over this RabbitMQ (amqp://user:pass@host:port/) instead of in memory" };
        var seed = new Option<int>("--seed") { Description = "Seed of the link choice", DefaultValueFactory = _ => 1 };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("convergence", "The closed loop in this process (inventory, telemetry, routing, distribution, one emulated agent per switch): link failure -> every affected agent acknowledged, p50/p99 over many failures; load vs bound per period");
        foreach (var o in new Option[] { failures, warmup, radix, periods, rabbit, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var options = new allinone::ControlPlane.AllInOne.ConvergenceBenchmarkOptions
            {
                Failures = r.GetValue(failures), WarmupFailures = r.GetValue(warmup), Radix = r.GetValue(radix), AdaptationPeriods = r.GetValue(periods), RabbitMqUri = r.GetValue(rabbit), Seed = r.GetValue(seed),
            };
            var problems = options.Problems().ToList();
            if (problems.Count > 0) throw new CliUsageException(string.Join("; ", problems.Select(p => $"--{p.Field}: {p.Reason}")));
            var json = r.GetValue(output) == "json";
            var report = await allinone::ControlPlane.AllInOne.ConvergenceBenchmark.RunAsync(options, ctx.Err.WriteLine, ct);
            if (json) JsonOutput.Write(ctx.Out, report);
            else ctx.Out.Write(allinone::ControlPlane.AllInOne.ConvergenceBenchmark.Format(report));
            return report.TimedOut == 0 && report.ForwardingProblems == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return cmd;
    }

    private static Command Telemetry(CliContext ctx)
    {
        var polls = new Option<int?>("--polls") { Description = "Polls of every port per run" };
        var repeat = new Option<int?>("--repeat") { Description = "Timed runs" };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("telemetry", "Telemetry ingest on the MPFT's 49,152 switch ports: samples per CPU-second through decode, rates and snapshots; snapshot time; memory per port");
        foreach (var o in new Option[] { polls, repeat, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var options = new TelemetryBenchmarkOptions();
            if (r.GetValue(polls) is { } p)
            {
                if (p < 2 || p > 1000) throw new CliUsageException($"--polls: must be between 2 and 1000, got {p}");
                options = options with { Polls = p };
            }
            if (r.GetValue(repeat) is { } n)
            {
                if (n < 1 || n > 100) throw new CliUsageException($"--repeat: must be between 1 and 100, got {n}");
                options = options with { Repeat = n };
            }
            if (ThreadCpuClock.Available) options = options with { ThreadCpuTime = ThreadCpuClock.Read };
            var report = TelemetryBenchmark.Run(options);
            if (r.GetValue(output) == "json") JsonOutput.Write(ctx.Out, report);
            else ctx.Out.Write(TelemetryBenchmarkText.Format(report));
            return report.SamplesRejected == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return cmd;
    }
}
