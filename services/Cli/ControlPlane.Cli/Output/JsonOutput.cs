using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Cli.Output;

/// <summary>The one JSON style of `-o json`: camelCase, indented, nulls kept so every documented field is always present.</summary>
public static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Figures that are not measured (no CPU clock, bound skipped) are NaN and print as "NaN".
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Write<T>(TextWriter w, T value) => w.WriteLine(JsonSerializer.Serialize(value, Options));
}
