using System.Globalization;
using System.Text.RegularExpressions;

namespace ControlPlane.Fabric.Serialization;

/// <summary>The ibnetdiscover reader behind <see cref="IbNetDiscover.Parse"/>: lines to nodes and port claims, then cables (this file), then a topology (Build).</summary>
internal static partial class IbNetDiscoverParser
{
    private sealed class Node(string guid, bool isSwitch, int ports, string desc, int line)
    {
        public string Guid { get; } = guid;
        public bool IsSwitch { get; } = isSwitch;
        public int Ports { get; } = ports;
        public string Desc { get; } = desc;
        public int Line { get; } = line;
        public Dictionary<int, PortLine> PortMap { get; } = [];
        public int Index { get; set; } = -1;          // switch id, or CA order

        /// <summary>"p0-leaf-3 (0002c9030001000a)": the name an operator knows, and the GUID to find it by.</summary>
        public string Display
        {
            get
            {
                var d = Desc.StartsWith("MF0;", StringComparison.Ordinal) ? Desc[4..].Split(':')[0] : Desc;
                return d.Length == 0 ? Guid : $"{d} ({Guid})";
            }
        }
    }

    private sealed record PortLine(int Port, string? PortGuid, string RemoteGuid, int RemotePort, int? SpeedGbps, int Line);

    private readonly record struct End(string Guid, int Port);

    private sealed record RawLink(End Local, End Remote, int? SpeedGbps, int Line);

    [GeneratedRegex(@"^(Switch|Ca|Rt)\s+(\d+)\s+""([SHR])-([0-9a-fA-F]+)""\s*(?:#\s*""(.*?)""(.*))?$")]
    private static partial Regex NodeRegex();

    [GeneratedRegex(@"^\[(\d+)\](?:\[ext\s+\d+\])?(?:\(([0-9a-fA-F]+)\))?\s*""([SHR])-([0-9a-fA-F]+)""\[(\d+)\](?:\[ext\s+\d+\])?(?:\(([0-9a-fA-F]+)\))?\s*(?:#(.*))?$")]
    private static partial Regex PortRegex();

    [GeneratedRegex(@"^\d+x[A-Za-z]+\d*$")]
    private static partial Regex SpeedRegex();


    public static FabricTopology Parse(string text, string fabricName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var e = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(fabricName)) e.Add(new("name", "the fabric needs a name"));
        var nodes = new Dictionary<string, Node>(StringComparer.OrdinalIgnoreCase);
        var order = new List<Node>();
        ReadLines(text, nodes, order, e);
        if (order.Count == 0 && e.Count == 0) e.Add(new("line 1", "no Switch or Ca node found; is this ibnetdiscover output?"));
        var links = ResolveLinks(order, nodes, e);
        if (e.Count > 0) throw new FabricInputException(ByLine(e));
        return Build(fabricName, order, nodes, links, e);
    }

    private static void ReadLines(string text, Dictionary<string, Node> nodes, List<Node> order, List<FieldError> e)
    {
        Node? current = null;
        var headerLine = 0; // line of a header (vendid=...) still waiting for its node line
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var ln = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                if (headerLine > 0) { e.Add(new($"line {headerLine}", "truncated block: header lines without a Switch or Ca line")); headerLine = 0; }
                current = null;
                continue;
            }
            if (line[0] == '#' || line.StartsWith("Non-Chassis", StringComparison.Ordinal) || line.StartsWith("Chassis", StringComparison.Ordinal)) continue;
            if (line.Contains('=') && !line.Contains('"') && line[0] != '[')
            {
                if (headerLine == 0) headerLine = ln;
                current = null;
                continue;
            }
            if (line[0] != '[' && NodeRegex().Match(line) is { Success: true } nm)
            {
                headerLine = 0;
                var guid = NormalizeGuid(nm.Groups[4].Value);
                if (!int.TryParse(nm.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ports) || ports < 1 || ports > 4096)
                {
                    e.Add(new($"line {ln}", $"bad port count '{nm.Groups[2].Value}'"));
                    current = null;
                    continue;
                }
                var isSwitch = nm.Groups[1].Value != "Ca";
                var node = new Node(guid, isSwitch, ports, nm.Groups[5].Value.Trim(), ln);
                if (!nodes.TryAdd(guid, node)) { e.Add(new($"line {ln}", $"node {guid} already listed at line {nodes[guid].Line}")); current = null; continue; }
                order.Add(node);
                current = node;
                continue;
            }
            if (line[0] == '[')
            {
                if (PortRegex().Match(line) is not { Success: true } pm) { e.Add(new($"line {ln}", $"malformed port line '{Clip(line)}'")); continue; }
                if (current is null) { e.Add(new($"line {ln}", "port line outside a Switch or Ca block (truncated block?)")); continue; }
                if (!int.TryParse(pm.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port < 1 || port > current.Ports)
                {
                    e.Add(new($"line {ln}", $"port {pm.Groups[1].Value} is out of range: {current.Display} has ports 1..{current.Ports}"));
                    continue;
                }
                if (!int.TryParse(pm.Groups[5].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var rport) || rport < 1)
                {
                    e.Add(new($"line {ln}", $"bad remote port number '{pm.Groups[5].Value}'"));
                    continue;
                }
                int? speed = null;
                if (pm.Groups[7].Success && LastToken(pm.Groups[7].ValueSpan) is { Length: > 0 } token && SpeedRegex().IsMatch(token))
                {
                    if (IbSpeed.TryParse(token, out var g)) speed = g;
                    else e.Add(new($"line {ln}", $"unknown link speed '{token}'"));
                }
                var localPortGuid = pm.Groups[2].Success ? NormalizeGuid(pm.Groups[2].Value) : null;
                var pl = new PortLine(port, localPortGuid, NormalizeGuid(pm.Groups[4].Value), rport, speed, ln);
                if (!current.PortMap.TryAdd(port, pl)) e.Add(new($"line {ln}", $"port {port} of {current.Display} is used twice (also line {current.PortMap[port].Line})"));
                continue;
            }
            e.Add(new($"line {ln}", $"unrecognised line '{Clip(line)}'"));
        }
        if (headerLine > 0) e.Add(new($"line {headerLine}", "truncated block: header lines without a Switch or Ca line at end of input"));
    }

    /// <summary>Pairs the two listings of each cable and checks that no port is claimed by two cables.</summary>
    private static List<RawLink> ResolveLinks(List<Node> order, Dictionary<string, Node> nodes, List<FieldError> e)
    {
        var links = new List<RawLink>();
        var claimedBy = new Dictionary<End, (End By, int Line)>();
        foreach (var node in order)
        {
            foreach (var pl in node.PortMap.Values.OrderBy(p => p.Port))
            {
                var local = new End(node.Guid, pl.Port);
                var remote = new End(pl.RemoteGuid, pl.RemotePort);
                if (!nodes.TryGetValue(pl.RemoteGuid, out var rn)) { e.Add(new($"line {pl.Line}", $"link to unknown node {pl.RemoteGuid}: no Switch or Ca block has this GUID")); continue; }
                if (pl.RemotePort > rn.Ports) { e.Add(new($"line {pl.Line}", $"remote port {pl.RemotePort} is out of range: {rn.Display} (line {rn.Line}) has ports 1..{rn.Ports}")); continue; }
                if (!node.IsSwitch && !rn.IsSwitch) { e.Add(new($"line {pl.Line}", "CA-to-CA cable: back-to-back hosts are not part of a fabric")); continue; }
                if (rn.PortMap.TryGetValue(pl.RemotePort, out var back))
                {
                    if (!string.Equals(back.RemoteGuid, node.Guid, StringComparison.OrdinalIgnoreCase) || back.RemotePort != pl.Port)
                    {
                        e.Add(new($"line {pl.Line}", $"port {pl.RemotePort} of {rn.Display} is used twice: this line and line {back.Line} (which says it goes to {back.RemoteGuid}[{back.RemotePort}])"));
                        continue;
                    }
                    if (string.CompareOrdinal(node.Guid, rn.Guid) > 0 || (node.Guid == rn.Guid && pl.Port > pl.RemotePort)) continue; // listed from the other side too
                    links.Add(new RawLink(local, remote, pl.SpeedGbps ?? back.SpeedGbps, pl.Line));
                }
                else
                {
                    if (claimedBy.TryGetValue(remote, out var other) && other.By != local)
                    {
                        e.Add(new($"line {pl.Line}", $"port {pl.RemotePort} of {rn.Display} is used twice: this line and line {other.Line}"));
                        continue;
                    }
                    claimedBy[remote] = (local, pl.Line);
                    links.Add(new RawLink(local, remote, pl.SpeedGbps, pl.Line));
                }
            }
        }
        return links;
    }

    private static List<FieldError> ByLine(List<FieldError> e) =>
        e.OrderBy(x => x.Field.StartsWith("line ", StringComparison.Ordinal) && int.TryParse(x.Field.AsSpan(5), out var n) ? n : 0).ToList();

    private static string LastToken(ReadOnlySpan<char> comment)
    {
        comment = comment.TrimEnd();
        var sp = comment.LastIndexOfAny(' ', '\t');
        return comment[(sp + 1)..].ToString();
    }

    private static string NormalizeGuid(string hex) =>
        hex.Length == 16 && !hex.AsSpan().ContainsAnyInRange('A', 'F') ? hex : hex.ToLowerInvariant().PadLeft(16, '0');

    private static string Clip(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
