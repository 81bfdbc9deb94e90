namespace ControlPlane.Fabric.Serialization;

/// <summary>camelCase names of the model enums as used in spec files, the REST API and the CLI.</summary>
public static class EnumNames
{
    /// <summary>The camelCase name of an enum value, e.g. "leafSpine", "sr8", "mpft".</summary>
    public static string ToName<T>(T value) where T : struct, Enum
    {
        var s = value.ToString();
        return char.ToLowerInvariant(s[0]) + s[1..];
    }

    /// <summary>Parses a camelCase (or any-case) enum name; numbers are refused so files stay readable.</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text) || char.IsAsciiDigit(text[0]) || text[0] == '-') return false;
        return Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    /// <summary>The accepted names, for error messages: "leaf, spine, core".</summary>
    public static string Expected<T>() where T : struct, Enum =>
        string.Join(", ", Enum.GetValues<T>().Select(ToName));

    /// <summary>Parses or adds an error naming the field and the accepted values.</summary>
    internal static T Parse<T>(string? text, string field, List<FieldError> errors, T fallback = default) where T : struct, Enum
    {
        if (TryParse<T>(text, out var v)) return v;
        errors.Add(new FieldError(field, $"unknown value '{text}'; expected one of {Expected<T>()}"));
        return fallback;
    }
}
