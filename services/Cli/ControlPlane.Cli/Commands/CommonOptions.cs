using System.CommandLine;

namespace ControlPlane.Cli.Commands;

/// <summary>Options shared by several verbs.</summary>
internal static class CommonOptions
{
    public static Option<string> OutputFormat() =>
        new Option<string>("--output", "-o") { Description = "Output format: table or json (json fields: see README)", DefaultValueFactory = _ => "table" }
            .OneOf("table", "json");

    public static Option<string> Server(CliContext ctx) =>
        new("--server") { Description = $"Inventory server URL (${CliContext.ServerVariable})", DefaultValueFactory = _ => ctx.DefaultServerUrl };

    public static Option<string?> Fabric() =>
        new("--fabric", "-f") { Description = $"Fabric name (default: ${CliContext.FabricVariable})" };

    public static Uri ServerUri(string? text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--server: '{text}' is not an http(s) URL");
        return u.AbsoluteUri.EndsWith('/') ? u : new Uri(u.AbsoluteUri + "/");
    }

    public static string FabricName(CliContext ctx, string? given)
    {
        var name = given ?? ctx.Environment(CliContext.FabricVariable);
        if (string.IsNullOrWhiteSpace(name)) throw new CliUsageException($"--fabric: required (or set {CliContext.FabricVariable}); list fabrics with 'fabricctl get fabrics'");
        return name;
    }
}

/// <summary>Option helpers.</summary>
internal static class OptionExtensions
{
    /// <summary>Restricts an option to a set of values with an error that names the option: "--format: 'xml' is not one of json, yaml".</summary>
    public static Option<T> OneOf<T>(this Option<T> option, params string[] values)
    {
        option.HelpName = string.Join('|', values);
        option.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (!values.Contains(t.Value, StringComparer.Ordinal))
                    r.AddError($"{option.Name}: '{t.Value}' is not one of {string.Join(", ", values)}");
        });
        return option;
    }
}
