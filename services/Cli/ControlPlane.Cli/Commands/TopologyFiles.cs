using ControlPlane.Fabric;
using ControlPlane.Fabric.Serialization;
using ControlPlane.Fabric.Yaml;

namespace ControlPlane.Cli.Commands;

/// <summary>Reading and writing topology files in the three formats, with format detection.</summary>
internal static class TopologyFiles
{
    public static readonly string[] Formats = ["json", "yaml", "ibnetdiscover"];

    /// <summary>A parsed file: the snapshot, the format it was in, and its text.</summary>
    public sealed record Loaded(FabricSnapshot Snapshot, string Format, string Text);

    /// <summary>Reads and parses a file; "-" is standard input. Parse errors are <see cref="FabricInputException"/>s.</summary>
    public static Loaded Read(string path, string format, string option, string? fabricName = null)
    {
        var text = ReadText(path, option);
        var fmt = format == "auto" ? Detect(path, text) : format;
        try
        {
            var snapshot = fmt switch
            {
                "json" => FabricSpecJson.ParseSnapshot(text),
                "yaml" => FabricSpecYaml.ParseSnapshot(text),
                _ => FabricSnapshot.Initial(IbNetDiscover.Parse(text, fabricName ?? NameFromPath(path))),
            };
            return new Loaded(snapshot, fmt, text);
        }
        catch (FabricInputException ex)
        {
            // "fabric.json: links[12].b: ..." so several files in one command stay apart.
            throw new FabricInputException(ex.Errors.Select(e => e with { Field = $"{path} ({fmt}): {e.Field}" }).ToArray());
        }
    }

    /// <summary>Discovered cabling: a neighbour list (.csv, .tsv, .lldp) or ibnetdiscover output (anything else).</summary>
    public static IReadOnlyList<ControlPlane.Fabric.Validation.DiscoveredLink> ReadNeighbors(string path, string option)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".csv" or ".tsv" or ".lldp"))
            return ControlPlane.Fabric.Validation.CablingValidator.DiscoveredLinks(Read(path, "ibnetdiscover", option, "discovered").Snapshot.Topology);
        try
        {
            return ControlPlane.Fabric.Validation.NeighborList.Parse(ReadText(path, option));
        }
        catch (FabricInputException ex)
        {
            throw new FabricInputException(ex.Errors.Select(e => e with { Field = $"{path} (neighbour list): {e.Field}" }).ToArray());
        }
    }

    public static string ReadText(string path, string option)
    {
        if (path == "-") return Console.In.ReadToEnd();
        if (!File.Exists(path)) throw new CliUsageException($"{option}: {path}: no such file");
        return File.ReadAllText(path);
    }

    public static string Write(FabricTopology t, string format) => format switch
    {
        "yaml" => FabricSpecYaml.Write(t),
        "ibnetdiscover" => IbNetDiscover.Write(t),
        _ => FabricSpecJson.Write(t),
    };

    /// <summary>By extension first, then by content: '{' is JSON, ibnetdiscover headers or node lines are ibnetdiscover, else YAML.</summary>
    public static string Detect(string path, string text)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".json") return "json";
        if (ext is ".yaml" or ".yml") return "yaml";
        if (ext is ".ibnet" or ".ibnetdiscover" or ".topo") return "ibnetdiscover";
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{')) return "json";
        foreach (var line in text.Split('\n').Take(200))
        {
            var l = line.TrimStart();
            if (l.StartsWith("vendid=", StringComparison.Ordinal) || l.StartsWith("Switch\t", StringComparison.Ordinal) || l.StartsWith("Switch ", StringComparison.Ordinal)
                || l.StartsWith("Ca\t", StringComparison.Ordinal) || l.StartsWith("# Topology file", StringComparison.Ordinal))
                return "ibnetdiscover";
        }
        return "yaml";
    }

    /// <summary>Format for an output file from its extension; JSON otherwise.</summary>
    public static string FormatFromPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".yaml" or ".yml" => "yaml",
        ".ibnet" or ".ibnetdiscover" or ".topo" or ".txt" => "ibnetdiscover",
        _ => "json",
    };

    private static string NameFromPath(string path)
    {
        var stem = path == "-" ? "imported" : Path.GetFileNameWithoutExtension(path);
        var clean = new string(stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray()).Trim('-');
        return clean.Length == 0 ? "imported" : clean;
    }
}
