using System.CommandLine;
using ControlPlane.Fabric;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `--topology ft2|mpft|ft3|rail|FILE` with the design options: a generated fabric, or a spec / ibnetdiscover file
/// (states in a spec file are kept, so a drained link stays drained), plus `--fail 2% --seed N` random link failures.
/// </summary>
internal sealed class TopologySource
{
    private readonly GeneratorOptions _design = new();

    public Option<string> Topology { get; } = new("--topology", "-t")
    {
        Description = "A generated fabric (ft2, mpft, ft3, rail; design options apply) or a topology file (spec JSON/YAML, ibnetdiscover)",
        DefaultValueFactory = _ => "mpft",
    };

    public Option<string?> Fail { get; } = new("--fail") { Description = "Fail this share of the switch links at random, e.g. 2% or 0.02" };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the failures and the workload", DefaultValueFactory = _ => 1 };

    public void AddTo(Command c)
    {
        c.Options.Add(Topology);
        _design.AddDesignOptionsTo(c);
        c.Options.Add(Fail);
        c.Options.Add(Seed);
    }

    /// <summary>The snapshot to route, after injected failures, and the ids of the links failed.</summary>
    public (FabricSnapshot Snapshot, IReadOnlyList<int> Failed) Load(ParseResult r)
    {
        var t = r.GetValue(Topology)!;
        FabricSnapshot snapshot;
        if (GeneratorOptions.Kinds.TryGetValue(t, out var kind) && !File.Exists(t))
        {
            if (kind is TopologyKind.SlimFly or TopologyKind.Dragonfly)
                throw new CliUsageException($"--topology: {t} is sized by the planner only; routing needs ft2, mpft, ft3, rail or a file");
            try
            {
                snapshot = FabricSnapshot.Initial(FabricGenerator.Generate(_design.Read(r, kind)));
            }
            catch (FabricInputException ex)
            {
                throw GeneratorOptions.UsageError(ex);
            }
        }
        else if (File.Exists(t) || t == "-")
        {
            snapshot = TopologyFiles.Read(t, "auto", "--topology").Snapshot;
        }
        else
        {
            throw new CliUsageException($"--topology: '{t}' is neither a kind ({string.Join(", ", GeneratorOptions.Kinds.Keys.Where(k => k is not ("slimfly" or "dragonfly")))}) nor a file");
        }
        var fail = ParseFraction(r.GetValue(Fail));
        return fail > 0 ? Emulation.FaultInjection.FailRandomLinks(snapshot, fail, r.GetValue(Seed)) : (snapshot, []);
    }

    /// <summary>"2%" or "0.02" to 0.02.</summary>
    public static double ParseFraction(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 0;
        var percent = text.EndsWith('%');
        var number = percent ? text[..^1] : text;
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new CliUsageException($"--fail: '{text}' is not a share; write e.g. 2% or 0.02");
        var f = percent ? v / 100 : v;
        if (f < 0 || f > 1) throw new CliUsageException($"--fail: must be between 0% and 100%, got {text}");
        return f;
    }
}
