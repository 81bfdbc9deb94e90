using System.CommandLine;
using System.Text.Json;
using ControlPlane.Cli.Output;
using ControlPlane.Fabric;
using ControlPlane.Fabric.Planning;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl plan`: size, power, bisection and cost of a design, offline.</summary>
public static class PlanCommands
{
    public static Command Build(CliContext ctx)
    {
        var g = new GeneratorOptions { AllowAll = true };
        var prices = new Option<FileInfo?>("--prices") { Description = "JSON price list overriding the defaults (fields: see README)" };
        var output = CommonOptions.OutputFormat();
        var cmd = new Command("plan", "Plan a fabric: endpoints, switches by tier, links, optics and cables by medium and reach, power, bisection, cost. 'plan all' compares every kind");
        g.AddTo(cmd);
        cmd.Options.Add(prices);
        cmd.Options.Add(output);
        cmd.SetAction(r =>
        {
            var priceList = LoadPrices(r.GetValue(prices));
            if (r.GetValue(g.Kind) == "all") return CompareAll(ctx, g, r, priceList, r.GetValue(output) == "json");
            var p = g.Read(r);
            PlanReport report;
            try
            {
                report = FabricPlanner.Plan(p, priceList);
            }
            catch (FabricInputException ex)
            {
                throw GeneratorOptions.UsageError(ex);
            }
            if (r.GetValue(output) == "json") JsonOutput.Write(ctx.Out, report);
            else PlanView.Render(ctx.Console, report);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Every kind with the same radix and speed, side by side (Table 3 of the DeepSeek-V3 paper at radix 64).</summary>
    private static int CompareAll(CliContext ctx, GeneratorOptions g, ParseResult r, PriceList prices, bool json)
    {
        var reports = new List<PlanReport>();
        foreach (var kind in GeneratorOptions.Kinds.Values)
        {
            // Options that do not apply to a kind (planes for ft2, oversubscription for slimfly) keep its defaults.
            var p = g.Read(r, kind);
            if (kind != TopologyKind.Mpft) p = p with { Planes = null };
            if (kind is TopologyKind.SlimFly or TopologyKind.Dragonfly) p = p with { Oversubscription = 1, LeavesPerPlane = null, Pods = null };
            if (kind != TopologyKind.Ft3) p = p with { Pods = null };
            try
            {
                reports.Add(FabricPlanner.Plan(p, prices));
            }
            catch (FabricInputException ex)
            {
                throw GeneratorOptions.UsageError(ex);
            }
        }
        if (json) JsonOutput.Write(ctx.Out, reports);
        else PlanView.Compare(ctx.Console, reports);
        return ExitCodes.Ok;
    }

    private static readonly JsonSerializerOptions PriceJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads a price list file; absent fields keep the calibrated defaults.</summary>
    public static PriceList LoadPrices(FileInfo? file)
    {
        if (file is null) return PriceList.Default;
        if (!file.Exists) throw new CliUsageException($"--prices: {file.FullName}: no such file");
        try
        {
            var p = JsonSerializer.Deserialize<PriceList>(File.ReadAllText(file.FullName), PriceJson) ?? PriceList.Default;
            var errors = p.Validate();
            if (errors.Count > 0) throw new CliUsageException($"--prices: {file.Name}: " + string.Join("; ", errors.Select(e => e.ToString())));
            return p;
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"--prices: {file.Name}: {(ex.Path is { } path ? path.TrimStart('$', '.') + ": " : "")}{ex.Message.Split(" Path:")[0]}");
        }
    }
}
