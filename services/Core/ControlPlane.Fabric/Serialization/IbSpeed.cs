namespace ControlPlane.Fabric.Serialization;

/// <summary>InfiniBand link speed tokens as ibnetdiscover prints them: width x lane rate, e.g. "4xNDR" = 400 Gb/s.</summary>
public static class IbSpeed
{
    // Per-lane data rates in Gb/s by IBTA generation name.
    private static readonly (string Name, double LaneGbps)[] Rates =
    [
        ("SDR", 2.5), ("DDR", 5), ("QDR", 10), ("FDR10", 10), ("FDR", 14), ("EDR", 25), ("HDR", 50), ("NDR", 100), ("XDR", 200),
    ];

    private static readonly int[] Widths = [4, 8, 12, 2, 1];

    /// <summary>Parses "4xNDR" (case-insensitive) into Gb/s.</summary>
    public static bool TryParse(string token, out int gbps)
    {
        gbps = 0;
        var x = token.IndexOfAny(['x', 'X']);
        if (x <= 0 || !int.TryParse(token.AsSpan(0, x), out var width) || width < 1 || width > 12) return false;
        var gen = token[(x + 1)..];
        foreach (var (name, lane) in Rates)
        {
            if (!string.Equals(name, gen, StringComparison.OrdinalIgnoreCase)) continue;
            gbps = (int)Math.Round(width * lane);
            return true;
        }
        return false;
    }

    /// <summary>The token for a speed: 400 -> "4xNDR", 800 -> "4xXDR", 1600 -> "8xXDR".</summary>
    /// <exception cref="FabricInputException">When no InfiniBand width and generation give this speed.</exception>
    public static string Format(int gbps)
    {
        foreach (var w in Widths)
        {
            for (var i = Rates.Length - 1; i >= 0; i--)
            {
                if (Rates[i].Name == "FDR10") continue;
                if (Math.Abs(w * Rates[i].LaneGbps - gbps) < 0.01) return $"{w}x{Rates[i].Name}";
            }
        }
        throw new FabricInputException("speedGbps", $"{gbps} Gb/s is not an InfiniBand rate (e.g. 4xHDR = 200, 4xNDR = 400, 4xXDR = 800)");
    }
}
