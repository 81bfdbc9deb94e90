using System.Globalization;

namespace ControlPlane.Fabric.Validation;

/// <summary>
/// A plain neighbour list, as exported from LLDP (RoCE fabrics) or any inventory: one cable per line,
/// <c>local_device,local_port,remote_device,remote_port</c> (commas, tabs or runs of spaces). Ports may be
/// numbers or names ending in one ("swp12", "Ethernet12", "eth1/12", "mlx5_3"): the trailing number is the
/// port, or for a host the NIC index. Blank lines, lines starting with '#', and a header line are skipped.
/// </summary>
public static class NeighborList
{
    /// <summary>Parses the list.</summary>
    /// <exception cref="FabricInputException">Every bad line, each named "line N".</exception>
    public static IReadOnlyList<DiscoveredLink> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var links = new List<DiscoveredLink>();
        var errors = new List<FieldError>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split([',', '\t', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var first = links.Count == 0 && errors.Count == 0;
            if (first && f.Length == 4 && TrailingNumber(f[1]) < 0 && TrailingNumber(f[3]) < 0) continue; // a header line
            if (f.Length != 4) { errors.Add(new($"line {i + 1}", $"expected 4 fields (local_device, local_port, remote_device, remote_port), got {f.Length}")); continue; }
            var lp = TrailingNumber(f[1]);
            var rp = TrailingNumber(f[3]);
            if (lp < 0) errors.Add(new($"line {i + 1}", $"local port '{f[1]}' has no port number"));
            if (rp < 0) errors.Add(new($"line {i + 1}", $"remote port '{f[3]}' has no port number"));
            if (lp >= 0 && rp >= 0) links.Add(new DiscoveredLink(f[0], lp, f[2], rp));
        }
        if (errors.Count > 0) throw new FabricInputException(errors);
        return links;
    }

    /// <summary>The number at the end of a port name, or -1.</summary>
    private static int TrailingNumber(string port)
    {
        var end = port.Length;
        var start = end;
        while (start > 0 && char.IsAsciiDigit(port[start - 1])) start--;
        if (start == end || end - start > 6) return -1;
        return int.Parse(port.AsSpan(start, end - start), CultureInfo.InvariantCulture);
    }
}
