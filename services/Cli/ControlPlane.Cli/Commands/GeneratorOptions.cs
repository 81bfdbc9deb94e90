using System.CommandLine;
using ControlPlane.Fabric;

namespace ControlPlane.Cli.Commands;

/// <summary>The design options of plan and topology generate, and the mapping of core field names back to them.</summary>
internal sealed class GeneratorOptions
{
    public static readonly IReadOnlyDictionary<string, TopologyKind> Kinds = new Dictionary<string, TopologyKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["ft2"] = TopologyKind.Ft2,
        ["mpft"] = TopologyKind.Mpft,
        ["ft3"] = TopologyKind.Ft3,
        ["rail"] = TopologyKind.RailOptimized,
        ["slimfly"] = TopologyKind.SlimFly,
        ["dragonfly"] = TopologyKind.Dragonfly,
    };

    private static readonly Dictionary<string, string> FieldToOption = new(StringComparer.Ordinal)
    {
        ["kind"] = "<kind>",
        ["name"] = "--name",
        ["radix"] = "--radix",
        ["portSpeedGbps"] = "--speed",
        ["planes"] = "--planes",
        ["oversubscription"] = "--oversubscription",
        ["nicsPerNode"] = "--nics-per-node",
        ["gpusPerNode"] = "--gpus-per-node",
        ["leavesPerPlane"] = "--leaves",
        ["pods"] = "--pods",
    };

    public Argument<string> Kind { get; } = new("kind") { Description = "Topology: ft2, mpft, ft3, rail, slimfly or dragonfly" };

    /// <summary>Also accept "all" (plan only: every kind side by side).</summary>
    public bool AllowAll { get; init; }
    public Option<int> Radix { get; } = new("--radix", "-k") { Description = "Switch ports", DefaultValueFactory = _ => 64 };
    public Option<int?> Planes { get; } = new("--planes", "-p") { Description = "Planes (mpft; default 8)" };
    public Option<int> Speed { get; } = new("--speed") { Description = "Port speed, Gb/s (100, 200, 400, 800, 1600)", DefaultValueFactory = _ => 400 };
    public Option<double> Oversubscription { get; } = new("--oversubscription") { Description = "Leaf down:up ratio (1 = non-blocking, 3 = 3:1)", DefaultValueFactory = _ => 1.0 };
    public Option<int> NicsPerNode { get; } = new("--nics-per-node") { Description = "NICs per node", DefaultValueFactory = _ => 8 };
    public Option<int> GpusPerNode { get; } = new("--gpus-per-node") { Description = "GPUs per node", DefaultValueFactory = _ => 8 };
    public Option<int?> Leaves { get; } = new("--leaves") { Description = "Leaves per plane (ft2, mpft, rail; default: as many as the spines allow)" };
    public Option<int?> Pods { get; } = new("--pods") { Description = "Pods (ft3; default: radix)" };
    public Option<string?> Name { get; } = new("--name") { Description = "Fabric name (default: the kind)" };

    public GeneratorOptions()
    {
        Kind.Validators.Add(r =>
        {
            var v = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (!Kinds.ContainsKey(v) && !(AllowAll && v == "all"))
                r.AddError($"<kind>: unknown topology kind '{v}'; expected one of {string.Join(", ", Kinds.Keys)}{(AllowAll ? " or all" : "")}");
        });
    }

    public void AddTo(Command c)
    {
        c.Arguments.Add(Kind);
        AddDesignOptionsTo(c);
    }

    /// <summary>The design options without the kind argument (for verbs whose topology comes from --topology).</summary>
    public void AddDesignOptionsTo(Command c)
    {
        foreach (var o in new Option[] { Radix, Planes, Speed, Oversubscription, NicsPerNode, GpusPerNode, Leaves, Pods, Name }) c.Options.Add(o);
    }

    public GeneratorParameters Read(ParseResult r) => Read(r, Kinds[r.GetValue(Kind)!]);

    public GeneratorParameters Read(ParseResult r, TopologyKind kind)
    {
        return new GeneratorParameters
        {
            Kind = kind,
            Name = r.GetValue(Name) ?? Kinds.First(k => k.Value == kind).Key,
            Radix = r.GetValue(Radix),
            Planes = r.GetValue(Planes),
            PortSpeedGbps = r.GetValue(Speed),
            Oversubscription = r.GetValue(Oversubscription),
            NicsPerNode = r.GetValue(NicsPerNode),
            GpusPerNode = r.GetValue(GpusPerNode),
            LeavesPerPlane = r.GetValue(Leaves),
            Pods = r.GetValue(Pods),
        };
    }

    /// <summary>Turns the core's field errors into one usage error naming the options.</summary>
    public static CliUsageException UsageError(FabricInputException ex)
    {
        // A bad --planes also breaks "nics per node is a multiple of planes"; say only the first.
        var planesBad = ex.Errors.Any(e => e.Field == "planes");
        var errors = ex.Errors.Where(e => !(planesBad && e.Field == "nicsPerNode" && e.Reason.Contains("multiple of planes", StringComparison.Ordinal)));
        return new(string.Join(Environment.NewLine + "error: ", errors.Select(e => $"{OptionFor(e.Field)}: {e.Reason}")));
    }

    private static string OptionFor(string field) =>
        field.StartsWith("prices.", StringComparison.Ordinal) ? $"--prices ({field[7..]})" : FieldToOption.GetValueOrDefault(field, field);
}
