using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ControlPlane.Fabric.Serialization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace ControlPlane.Fabric.Yaml;

/// <summary>
/// The fabric spec (<see cref="FabricSpec"/>) in YAML. The YAML is a different syntax for the very same document
/// as <see cref="FabricSpecJson"/>: same field names, same strictness, same error paths. Objects whose values
/// are all scalars (a switch, a NIC, a link without transceivers) are written on one line in flow style so a
/// spec stays greppable: one link, one line.
/// </summary>
/// <remarks>
/// Scalars are typed the YAML 1.2 core-schema way: plain numbers are numbers, plain true/false are booleans,
/// plain null/~ or empty is null, anything quoted is a string. The writer quotes every string the reader would
/// otherwise take for something else.
/// </remarks>
public static partial class FabricSpecYaml
{
    /// <summary>Writes a topology and, when given, the non-initial states of a snapshot of it.</summary>
    public static string Write(FabricTopology topology, FabricSnapshot? state = null)
    {
        var node = JsonNode.Parse(FabricSpecJson.Write(topology, state, indented: false));
        var sb = new StringBuilder();
        using (var w = new StringWriter(sb, CultureInfo.InvariantCulture))
        {
            var emitter = new Emitter(w, bestIndent: 2, bestWidth: int.MaxValue);
            emitter.Emit(new StreamStart());
            emitter.Emit(new DocumentStart());
            Emit(emitter, node);
            emitter.Emit(new DocumentEnd(isImplicit: true));
            emitter.Emit(new StreamEnd());
        }
        return sb.ToString();
    }

    /// <summary>Parses a YAML spec into a topology.</summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path (or line for syntax errors).</exception>
    public static FabricTopology Parse(string yaml) => ParseSnapshot(yaml).Topology;

    /// <summary>Parses a YAML spec into a snapshot (topology plus recorded states).</summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path (or line for syntax errors).</exception>
    public static FabricSnapshot ParseSnapshot(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new FabricInputException($"line {ex.Start.Line}", "invalid YAML: " + (ex.InnerException?.Message ?? ex.Message));
        }
        if (stream.Documents.Count == 0) throw new FabricInputException("$", "the document is empty");
        if (stream.Documents.Count > 1) throw new FabricInputException($"line {stream.Documents[1].RootNode.Start.Line}", "expected one YAML document, found several");
        return FabricSpecJson.ParseSnapshot(ToJson(stream.Documents[0].RootNode, "$"));
    }

    private static JsonNode? ToJson(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMappingNode m:
                var o = new JsonObject();
                foreach (var (k, v) in m.Children)
                {
                    if (k is not YamlScalarNode { Value: { } key }) throw new FabricInputException(Loc(path, k), "mapping keys must be plain strings");
                    if (o.ContainsKey(key)) throw new FabricInputException(Loc(Join(path, key), k), "duplicate key");
                    o[key] = ToJson(v, Join(path, key));
                }
                return o;
            case YamlSequenceNode s:
                var a = new JsonArray();
                var i = 0;
                foreach (var item in s.Children) a.Add(ToJson(item, $"{path}[{i++}]"));
                return a;
            case YamlScalarNode sc:
                return Scalar(sc);
            default:
                throw new FabricInputException(Loc(path, node), "aliases and other YAML node kinds are not supported");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode sc)
    {
        var v = sc.Value ?? "";
        var tag = sc.Tag.IsEmpty ? "" : sc.Tag.Value;
        if (sc.Style is not ScalarStyle.Plain || tag == "tag:yaml.org,2002:str") return JsonValue.Create(v);
        if (v is "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (NumberRegex().IsMatch(v))
        {
            return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                ? JsonValue.Create(l)
                : JsonValue.Create(double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        return JsonValue.Create(v);
    }

    private static void Emit(IEmitter e, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                e.Emit(new MappingStart(null, null, true, IsFlat(o) ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (k, v) in o)
                {
                    EmitString(e, k);
                    Emit(e, v);
                }
                e.Emit(new MappingEnd());
                break;
            case JsonArray a:
                e.Emit(new SequenceStart(null, null, true, a.Count == 0 || a.All(x => x is JsonValue) ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var x in a) Emit(e, x);
                e.Emit(new SequenceEnd());
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                EmitString(e, v.GetValue<string>());
                break;
            case null:
                e.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            default:
                e.Emit(new Scalar(null, null, node.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static bool IsFlat(JsonObject o) => o.All(kv => kv.Value is JsonValue or null || kv.Value is JsonArray { Count: 0 });

    private static void EmitString(IEmitter e, string s)
    {
        var plain = SafePlainRegex().IsMatch(s) && !NumberRegex().IsMatch(s)
            && s is not ("~" or "null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE" or "yes" or "no" or "on" or "off" or "y" or "n");
        e.Emit(new Scalar(null, null, s, plain ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted, true, true));
    }

    private static string Join(string path, string key) => path == "$" ? key : $"{path}.{key}";

    private static string Loc(string path, YamlNode n) => $"{path} (line {n.Start.Line})";

    [GeneratedRegex(@"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex NumberRegex();

    // Strings that are safe unquoted even inside a flow mapping: no ',', '{', '}', '[', ']', ':', '#', no leading '-' or space.
    [GeneratedRegex(@"^[A-Za-z0-9_./@+][A-Za-z0-9_./@+() -]*(?<! )$")]
    private static partial Regex SafePlainRegex();
}
