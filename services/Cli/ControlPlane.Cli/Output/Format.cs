using System.Globalization;
using Spectre.Console;

namespace ControlPlane.Cli.Output;

/// <summary>Number and text formatting shared by the table views.</summary>
internal static class Format
{
    public static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static string N(double v, int decimals = 1) => v.ToString("N" + decimals, CultureInfo.InvariantCulture);

    public static string Money(double usd) => usd >= 1e6
        ? $"{(usd / 1e6).ToString("N1", CultureInfo.InvariantCulture)} M$"
        : $"${usd.ToString("N0", CultureInfo.InvariantCulture)}";

    public static string Size(long chars) => chars >= 1_000_000 ? $"{N(chars / 1e6)} MB" : $"{N(chars / 1e3)} kB";

    public static string Esc(string? s) => Markup.Escape(s ?? "");

    public static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";

    public static string Status(string status) => status switch
    {
        "up" => "[green]up[/]",
        "down" => "[red]down[/]",
        "drained" => "[yellow]drained[/]",
        "maintenance" => "[blue]maintenance[/]",
        _ => Esc(status),
    };

    public static Table Table(params string[] columns)
    {
        var t = new Table().Border(TableBorder.Simple);
        foreach (var c in columns)
        {
            var col = new TableColumn(c);
            if (c is "ID" or "PLANE" or "RADIX" or "SPEED" or "LEN M" or "GPUS" or "LINKS" or "TRANSCEIVERS" or "CABLES" or "POWER KW" or "COST" or "COUNT" or "VERSION" or "SWITCHES" or "HOSTS" or "ENDPOINTS" or "PLANES" or "POWER W" or "LINK" or "COST / ENDPOINT" or "BISECTION TB/S")
                col.RightAligned();
            t.AddColumn(col);
        }
        return t;
    }
}
