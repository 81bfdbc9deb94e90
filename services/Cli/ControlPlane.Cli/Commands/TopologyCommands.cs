using System.CommandLine;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Output;
using ControlPlane.Fabric;
using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Validation;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl topology generate|validate|import|cabling`: topology files, offline (import can upload).</summary>
public static class TopologyCommands
{
    public static Command Build(CliContext ctx)
    {
        var cmd = new Command("topology", "Generate, validate, import topology files and check cabling against a plan");
        cmd.Subcommands.Add(Generate(ctx));
        cmd.Subcommands.Add(Validate(ctx));
        cmd.Subcommands.Add(Import(ctx));
        cmd.Subcommands.Add(Cabling(ctx));
        return cmd;
    }

    private static Option<string?> FormatOption(bool auto) =>
        auto
            ? new Option<string?>("--format") { Description = "File format (auto: by extension, then by content)", DefaultValueFactory = _ => "auto" }.OneOf(["auto", .. TopologyFiles.Formats])
            : new Option<string?>("--format") { Description = "File format (default: by extension: .yaml/.yml, .ibnet/.txt, else json)" }.OneOf(TopologyFiles.Formats);

    private static Option<int> MaxOption() => new("--max") { Description = "Rows to show per table", DefaultValueFactory = _ => 100 };

    private static Command Generate(CliContext ctx)
    {
        var g = new GeneratorOptions();
        var file = new Option<string>("--output", "-o") { Description = "File to write ('-' for standard output)", Required = true };
        var format = FormatOption(auto: false);
        var cmd = new Command("generate", "Generate a fabric and write it as a spec (JSON, YAML) or as ibnetdiscover output");
        g.AddTo(cmd);
        cmd.Options.Add(file);
        cmd.Options.Add(format);
        cmd.SetAction(r =>
        {
            var p = g.Read(r);
            if (p.Kind is TopologyKind.SlimFly or TopologyKind.Dragonfly)
                throw new CliUsageException($"<kind>: {r.GetValue(g.Kind)} is planned analytically and cannot be generated; use 'fabricctl plan {r.GetValue(g.Kind)}'");
            FabricTopology t;
            try
            {
                t = FabricGenerator.Generate(p);
            }
            catch (FabricInputException ex)
            {
                throw GeneratorOptions.UsageError(ex);
            }
            var path = r.GetValue(file)!;
            var fmt = r.GetValue(format) is { Length: > 0 } f ? f : TopologyFiles.FormatFromPath(path);
            var text = TopologyFiles.Write(t, fmt);
            if (path == "-")
            {
                ctx.Out.Write(text);
                return ExitCodes.Ok;
            }
            try
            {
                File.WriteAllText(path, text);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"--output: cannot write {path}: {ex.Message}");
            }
            ctx.Out.WriteLine($"wrote {path} ({fmt}, {Format.Size(text.Length)}): {Format.N(t.EndpointCount)} endpoints, {Format.N(t.Switches.Count)} switches, {Format.N(t.Links.Count)} links, {Format.N(t.Transceivers.Count)} transceivers");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Validate(CliContext ctx)
    {
        var file = new Argument<string>("file") { Description = "Topology file ('-' for standard input)" };
        var format = FormatOption(auto: true);
        var output = CommonOptions.OutputFormat();
        var max = MaxOption();
        var cmd = new Command("validate", "Check a topology file: names, ports, speeds, planes, tiers, uncabled NICs and switches. Exit 0 when clean, 1 with problems");
        cmd.Arguments.Add(file);
        cmd.Options.Add(format);
        cmd.Options.Add(output);
        cmd.Options.Add(max);
        cmd.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var loaded = TopologyFiles.Read(path, r.GetValue(format)!, "<file>");
            var t = loaded.Snapshot.Topology;
            var problems = TopologyValidator.Validate(t);
            if (r.GetValue(output) == "json") JsonOutput.Write(ctx.Out, ProblemsView.Json(path, loaded.Format, t, problems));
            else
            {
                ProblemsView.Summary(ctx.Console, t, $"{path}, {loaded.Format}");
                ProblemsView.Problems(ctx.Console, problems, r.GetValue(max));
            }
            return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return cmd;
    }

    private static Command Import(CliContext ctx)
    {
        var file = new Argument<string>("file") { Description = "Topology file: spec (JSON, YAML) or ibnetdiscover output" };
        var format = FormatOption(auto: true);
        var server = new Option<string?>("--server") { Description = "Upload to this inventory server (POST /api/v1/fabrics/{name}/import)" };
        var fabric = new Option<string?>("--fabric", "--name") { Description = "Fabric name (default: the spec's name, or the file name for ibnetdiscover)" };
        var force = new Option<bool>("--force") { Description = "Upload even when validation finds problems" };
        var max = MaxOption();
        var cmd = new Command("import", "Parse and validate a topology file, print a summary, and with --server upload it");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { format, server, fabric, force, max }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            var loaded = TopologyFiles.Read(path, r.GetValue(format)!, "<file>", r.GetValue(fabric));
            var t = loaded.Snapshot.Topology;
            var problems = TopologyValidator.Validate(t);
            ProblemsView.Summary(ctx.Console, t, $"{path}, {loaded.Format}");
            ProblemsView.Problems(ctx.Console, problems, r.GetValue(max));
            if (r.GetValue(server) is not { } url) return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Problems;
            if (problems.Count > 0 && !r.GetValue(force))
            {
                ctx.Error("not uploaded: fix the problems above or pass --force");
                return ExitCodes.Problems;
            }
            var name = r.GetValue(fabric) ?? t.Name;
            using var client = new InventoryClient(ctx.CreateClient(CommonOptions.ServerUri(url)));
            var summary = await client.ImportAsync(name, loaded.Format, loaded.Text, ct);
            ctx.Out.WriteLine($"imported as '{summary.Name}' version {summary.Version}: {Format.N(summary.Endpoints)} endpoints, {Format.N(summary.Switches)} switches, {Format.N(summary.Links)} links");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command Cabling(CliContext ctx)
    {
        var plan = new Option<string>("--plan") { Description = "The planned topology (spec JSON/YAML or ibnetdiscover)", Required = true };
        var discovered = new Option<string>("--discovered") { Description = "What the fabric reports: ibnetdiscover output, or a neighbour list (.csv/.tsv: local_device,local_port,remote_device,remote_port, e.g. from LLDP)", Required = true };
        var output = CommonOptions.OutputFormat();
        var max = MaxOption();
        var cmd = new Command("cabling", "Compare discovered cabling with the plan: swapped pairs, wrong ports, missing and unexpected cables. Exit 0 when it matches, 1 otherwise");
        foreach (var o in new Option[] { plan, discovered, output, max }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var planned = TopologyFiles.Read(r.GetValue(plan)!, "auto", "--plan").Snapshot.Topology;
            var report = CablingValidator.Compare(planned, TopologyFiles.ReadNeighbors(r.GetValue(discovered)!, "--discovered"));
            if (r.GetValue(output) == "json") JsonOutput.Write(ctx.Out, report with { });
            else CablingView.Render(ctx.Console, report, r.GetValue(max));
            return report.IsClean ? ExitCodes.Ok : ExitCodes.Problems;
        });
        return cmd;
    }
}
