using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace ControlPlane.Fabric.Serialization;

/// <summary>
/// Reads and writes the fabric spec (<see cref="FabricSpec"/>) as JSON with System.Text.Json. Strict:
/// unknown fields, missing required fields, nulls where a value is required and wrong types are all
/// rejected with a <see cref="FabricInputException"/> whose field errors carry a path such as "links[12].b".
/// </summary>
public static partial class FabricSpecJson
{
    /// <summary>The serializer options (read-only): camelCase, unknown members rejected, nullable annotations respected.</summary>
    public static readonly JsonSerializerOptions Options = Frozen(new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 32,
    });

    private static readonly JsonSerializerOptions IndentedOptions = Frozen(new(Options) { WriteIndented = true });

    private static JsonSerializerOptions Frozen(JsonSerializerOptions o)
    {
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>Writes a topology and, when given, the non-initial states of a snapshot of it.</summary>
    public static string Write(FabricTopology topology, FabricSnapshot? state = null, bool indented = true) =>
        Serialize(FabricSpecMapper.ToSpec(topology, state), indented);

    /// <summary>Serializes a spec.</summary>
    public static string Serialize(FabricSpec spec, bool indented = true) =>
        JsonSerializer.Serialize(spec, indented ? IndentedOptions : Options);

    /// <summary>Parses a spec file into a topology (states, if any, are checked and dropped).</summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path.</exception>
    public static FabricTopology Parse(string json) => ParseSnapshot(json).Topology;

    /// <summary>Parses a spec file into a snapshot: the topology plus the states the file records (all up when none).</summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path.</exception>
    public static FabricSnapshot ParseSnapshot(string json) => FabricSpecMapper.FromSpec(Deserialize(json));

    /// <summary>
    /// Parses a spec that another syntax (YAML) has already turned into a JSON tree. Errors name the field path
    /// only: line numbers of the generated JSON would mislead.
    /// </summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path.</exception>
    public static FabricSnapshot ParseSnapshot(System.Text.Json.Nodes.JsonNode? document)
    {
        if (document is null) throw new FabricInputException("$", "the document is empty");
        FabricSpec? spec;
        try
        {
            spec = document.Deserialize<FabricSpec>(Options);
        }
        catch (JsonException ex)
        {
            var fe = ToFieldError(ex);
            throw new FabricInputException([fe with { Reason = LineSuffix().Replace(fe.Reason, "") }]);
        }
        return FabricSpecMapper.FromSpec(spec ?? throw new FabricInputException("$", "the document is null; expected an object"));
    }

    /// <summary>Parses the JSON text into the spec DTO without checking cross references.</summary>
    /// <exception cref="FabricInputException">On a syntax error, an unknown or missing field, or a wrong type.</exception>
    public static FabricSpec Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (string.IsNullOrWhiteSpace(json)) throw new FabricInputException("$", "the document is empty");
        try
        {
            return JsonSerializer.Deserialize<FabricSpec>(json, Options) ?? throw new FabricInputException("$", "the document is null; expected an object");
        }
        catch (JsonException ex)
        {
            throw new FabricInputException([ToFieldError(ex)]);
        }
    }

    /// <summary>Turns a System.Text.Json error into a field error with a readable reason and the line.</summary>
    internal static FieldError ToFieldError(JsonException ex)
    {
        var path = ex.Path is null or "$" ? "$" : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? ex.Path[2..] : ex.Path;
        var where = ex.LineNumber is { } ln ? $" (line {ln + 1})" : "";
        var msg = ex.Message;
        string reason;
        if (UnmappedRegex().Match(msg) is { Success: true } um)
        {
            // The path may or may not already end with the member; name the member once.
            var member = um.Groups[1].Value;
            if (!path.EndsWith(member, StringComparison.Ordinal)) path = path == "$" ? member : $"{path}.{member}";
            reason = $"unknown field '{member}'";
        }
        else if (msg.Contains("missing required properties", StringComparison.Ordinal))
        {
            var names = RequiredRegex().Match(msg) is { Success: true } rm ? rm.Groups[1].Value : "";
            reason = $"required field(s) missing: {names.Trim()}";
        }
        else if (msg.Contains("null value", StringComparison.Ordinal) || msg.Contains("was null", StringComparison.Ordinal) || msg.Contains("cannot be null", StringComparison.Ordinal))
        {
            reason = "must not be null";
        }
        else if (msg.Contains("could not be converted to", StringComparison.Ordinal))
        {
            reason = ConvertRegex().Match(msg) is { Success: true } cm ? $"expected {Describe(cm.Groups[1].Value)}" : "has the wrong type";
        }
        else
        {
            reason = "invalid JSON: " + msg.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        }
        return new FieldError(path, reason + where);
    }

    private static string Describe(string clrType)
    {
        if (clrType.Contains("Int32", StringComparison.Ordinal) || clrType.Contains("Int64", StringComparison.Ordinal)) return "an integer";
        if (clrType.Contains("Double", StringComparison.Ordinal)) return "a number";
        if (clrType.Contains("String", StringComparison.Ordinal)) return "a string";
        if (clrType.Contains("DateTimeOffset", StringComparison.Ordinal)) return "an ISO 8601 timestamp";
        if (clrType.Contains("List", StringComparison.Ordinal)) return "an array";
        return "an object";
    }

    [GeneratedRegex(@" \(line \d+\)$")]
    private static partial Regex LineSuffix();

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnmappedRegex();

    [GeneratedRegex(@"including: (.*?)\.?$", RegexOptions.Singleline)]
    private static partial Regex RequiredRegex();

    [GeneratedRegex(@"could not be converted to ([\w.`\[\], =]+?)\.\s")]
    private static partial Regex ConvertRegex();
}
