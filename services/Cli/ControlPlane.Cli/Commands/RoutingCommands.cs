using System.CommandLine;
using ControlPlane.Cli.Output;
using ControlPlane.Emulation;
using ControlPlane.Routing;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl routes compute` and `fabricctl simulate`: the routing engine and the emulator, offline.</summary>
public static class RoutingCommands
{
    private static readonly string[] Workloads = ["moe", "alltoall", "permutation", "allreduce", "kv", "tp", "incast", "mixed"];
    private static readonly string[] Routings = ["ecmp", "wcmp", "adaptive", "policy"];

    /// <summary>`routes compute`.</summary>
    public static Command BuildRoutes(CliContext ctx)
    {
        var source = new TopologySource();
        var switches = new Option<string[]>("--switch") { Description = "Only these switches' tables (repeat the option); default all", AllowMultipleArgumentsPerToken = true };
        var groupSize = new Option<int>("--group-size") { Description = "Buckets per next-hop group the ASIC supports", DefaultValueFactory = _ => 64 };
        var output = CommonOptions.OutputFormat();
        var compute = new Command("compute", "Compute the routing tables of a fabric: per switch, per destination leaf and traffic class, a weighted next-hop group (JSON schema: see README)");
        source.AddTo(compute);
        compute.Options.Add(switches);
        compute.Options.Add(groupSize);
        compute.Options.Add(output);
        compute.SetAction(r =>
        {
            var (snapshot, failed) = source.Load(r);
            var result = Compute(snapshot, TrafficPolicy.Default, new RoutingOptions { GroupSize = r.GetValue(groupSize) });
            var names = r.GetValue(switches) ?? [];
            var ids = new List<int>();
            foreach (var n in names)
            {
                var id = snapshot.Topology.FindSwitch(n);
                if (id < 0) throw new CliUsageException($"--switch: no switch named '{n}' in {snapshot.Topology.Name}");
                ids.Add(id);
            }
            if (r.GetValue(output) == "json")
            {
                JsonOutput.Write(ctx.Out, RoutingTablesDocument.From(result, ids.Count > 0 ? ids : null));
                return ExitCodes.Ok;
            }
            RenderSummary(ctx, result, failed.Count);
            if (ids.Count > 0) RenderSwitches(ctx, RoutingTablesDocument.From(result, ids));
            return ExitCodes.Ok;
        });
        var cmd = new Command("routes", "Routing tables");
        cmd.Subcommands.Add(compute);
        return cmd;
    }

    /// <summary>`simulate`.</summary>
    public static Command BuildSimulate(CliContext ctx)
    {
        var source = new TopologySource();
        var workload = new Option<string>("--workload", "-w") { Description = string.Join(", ", Workloads), DefaultValueFactory = _ => "moe" }.OneOf(Workloads);
        var routing = new Option<string>("--routing") { Description = "ecmp (hashed), wcmp (sprayed), adaptive (sprayed + congestion loop), policy (per class, as configured)", DefaultValueFactory = _ => "wcmp" }.OneOf(Routings);
        var skew = new Option<double>("--expert-skew") { Description = "Zipf exponent of expert popularity for MoE (0 = uniform)", DefaultValueFactory = _ => 0 };
        var noRates = new Option<bool>("--no-rates") { Description = "Skip max-min rates (faster on large fabrics; no per-class throughput)" };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("simulate", "Run a workload on a fabric with the flow-level emulator: link loads, per-class throughput and completion, ratios to a certified lower bound");
        source.AddTo(cmd);
        foreach (var o in new Option[] { workload, routing, skew, noRates, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var s = r.GetValue(skew);
            if (!double.IsFinite(s) || s < 0 || s > 4) throw new CliUsageException($"--expert-skew: must be between 0 and 4, got {s}");
            var (snapshot, _) = source.Load(r);
            SimulateReport report;
            try
            {
                report = Simulation.Run(snapshot, new SimulateRequest
                {
                    Workload = r.GetValue(workload)!,
                    Routing = r.GetValue(routing)!,
                    Seed = r.GetValue(source.Seed),
                    ExpertSkew = s,
                    MaxMinRates = !r.GetValue(noRates),
                });
            }
            catch (Fabric.FabricInputException ex)
            {
                throw new CliUsageException(string.Join("; ", ex.Errors.Select(e => $"--{e.Field}: {e.Reason}")));
            }
            if (r.GetValue(output) == "json") JsonOutput.Write(ctx.Out, report);
            else RenderSimulation(ctx, report);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static RoutingResult Compute(Fabric.FabricSnapshot snapshot, TrafficPolicy policy, RoutingOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new CliUsageException(string.Join("; ", errors.Select(e => $"--group-size: {e.Reason}")));
        return RoutingEngine.Compute(snapshot, policy, null, options);
    }

    private static void RenderSummary(CliContext ctx, RoutingResult result, int failed)
    {
        var t = result.Snapshot.Topology;
        ctx.Console.MarkupLine(Markup.Escape(
            $"{t.Name}: table version {result.Version} for topology version {result.Snapshot.Version}, {t.Switches.Count:N0} switches, " +
            $"{result.EntryCount:N0} (switch, destination) entries x {result.LayerCount} weighting layers, {result.GroupCount:N0} distinct groups, " +
            $"group size {result.GroupSize}, about {result.ApproximateBytes / 1e6:F1} MB" + (failed > 0 ? $"; {failed} links failed" : "")));
        var table = new Table().AddColumns("PLANE", "LINK CAPACITY", "LIVE SWITCHES", "MIN NODE CAPACITY", "UNREACHABLE PAIRS", "FALLBACK DESTS");
        foreach (var h in result.PlaneHealth)
            table.AddRow(h.Name, $"{h.SwitchLinkCapacityFraction:P1}", $"{h.LiveSwitchFraction:P1}", $"{h.MinNodeCapacityFraction:P1}", $"{h.UnreachablePairs:N0}", $"{result.FallbackDestinations(h.Plane)}");
        ctx.Console.Write(table);
        ctx.Console.MarkupLine(Markup.Escape("classes: " + string.Join(", ", result.Policy.Classes.Select((c, i) => $"{c.Name} ({result.Mode(i).ToString().ToLowerInvariant()}, {c.Weighting.ToString().ToLowerInvariant()})"))));
    }

    private static void RenderSwitches(CliContext ctx, RoutingTablesDocument doc)
    {
        foreach (var s in doc.Switches)
        {
            var table = new Table().Title(Markup.Escape($"{s.Name} (plane {s.Plane}, {s.Tier}, version {s.Version})")).AddColumns("DESTINATION", "CLASS", "ROUTE", "MEMBERS port:weight");
            var groups = s.Groups.ToDictionary(g => g.Id);
            foreach (var route in s.Routes)
            {
                var members = route.Group >= 0 ? string.Join(" ", groups[route.Group].Members.Select(m => $"{m.Port}:{m.Weight}")) : "";
                table.AddRow(Markup.Escape(route.Destination), Markup.Escape(route.Class), Markup.Escape(route.Kind), Markup.Escape(members));
            }
            ctx.Console.Write(table);
        }
    }

    private static void RenderSimulation(CliContext ctx, SimulateReport report)
    {
        ctx.Console.MarkupLine(Markup.Escape($"{report.Topology} (topology version {report.TopologyVersion}), routing {report.Routing}, {report.FailedLinks} links failed"));
        var table = new Table().AddColumns("WORKLOAD", "ROUTING", "FLOWS", "MAX UTIL", "P99 UTIL", "BOUND", "RATIO TO BOUND", "COMPLETION", "BOUND", "HOTTEST LINK");
        foreach (var c in report.Collectives)
            table.AddRow(Markup.Escape(c.Workload), Markup.Escape(c.Routing), $"{c.Flows:N0}", $"{c.MaxFabricUtilization:F3}", $"{c.P99FabricUtilization:F3}",
                $"{c.LowerBoundUtilization:F3}", $"{c.RatioToBound:F3}", Ms(c.CompletionSeconds), Ms(c.LowerBoundCompletionSeconds), Markup.Escape(c.HottestLink));
        ctx.Console.Write(table);
        var classes = new Table().AddColumns("WORKLOAD", "CLASS", "MODE", "FLOWS", "GB", "THROUGHPUT Gb/s", "COMPLETION", "MAX-MIN COMPLETION");
        foreach (var c in report.Collectives)
            foreach (var k in c.Classes.Where(k => k.Flows > 0))
                classes.AddRow(Markup.Escape(c.Workload), Markup.Escape(k.Name), Markup.Escape(k.Mode), $"{k.Flows:N0}", $"{k.Bytes / 1e9:F2}",
                    double.IsFinite(k.ThroughputGbps) ? $"{k.ThroughputGbps:N1}" : "-", Ms(k.CompletionSeconds), Ms(k.MaxMinCompletionSeconds));
        ctx.Console.Write(classes);
    }

    private static string Ms(double seconds) => double.IsFinite(seconds) ? $"{seconds * 1e3:F3} ms" : "-";
}
