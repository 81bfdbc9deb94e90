using System.Globalization;
using System.Text;

namespace ControlPlane.Fabric.Serialization;

/// <summary>
/// Reads and writes the topology file of InfiniBand's <c>ibnetdiscover</c>: blocks of header lines
/// (vendid=, devid=, sysimgguid=, switchguid= / caguid=), a node line such as
/// <c>Switch 64 "S-0002c903007b7e10" # "MF0;leaf-1:MQM9700/U1" enhanced port 0 lid 1 lmc 0</c>
/// or <c>Ca 1 "H-0002c903000a1b2c" # "node01 mlx5_0"</c>, then one line per connected port, e.g.
/// <c>[1] "H-0002c903000a1b2c"[1](2c903000a1b2d) # "node01 mlx5_0" lid 3 4xNDR</c>.
/// </summary>
/// <remarks>
/// Mapping on import: a CA named "&lt;host&gt; mlx5_&lt;n&gt;" becomes NIC n of host &lt;host&gt; (CAs named otherwise
/// become a host of their own, named by the description or "H-&lt;guid&gt;"); switches are named by the part of an
/// "MF0;&lt;name&gt;:&lt;model&gt;/U1" description between ';' and ':', else by the whole description, or "S-&lt;guid&gt;" when
/// descriptions collide. Planes are the connected components of the switch graph. Tiers: switches with a CA
/// neighbour are leaves, their other switch neighbours spines, the next ones cores. The speed comes from the
/// "4xNDR" suffix. ibnetdiscover does not report cables, so lengths are nominal per role (host 3 m, leaf-spine
/// 40 m, spine-core 150 m) with the medium <see cref="MediaCatalog.ForLength"/> picks, and no transceivers.
/// Errors name the line: "line 12".
/// </remarks>
public static class IbNetDiscover
{
    /// <summary>Nominal lengths for imported links, per role.</summary>
    public const double HostLinkM = 3, LeafSpineLinkM = 40, SpineCoreLinkM = 150;

    /// <summary>Parses ibnetdiscover output.</summary>
    /// <exception cref="FabricInputException">Every problem found, each naming its line.</exception>
    public static FabricTopology Parse(string text, string fabricName) => IbNetDiscoverParser.Parse(text, fabricName);

    /// <summary>Writes a topology as ibnetdiscover would print it. GUIDs are the recorded ones or derived from ids.</summary>
    public static string Write(FabricTopology t)
    {
        var sb = new StringBuilder(t.Links.Count * 160);
        var swGuid = t.Switches.Select(s => s.Guid ?? (0x0002c90300000000UL + 0x10000UL + (ulong)s.Id).ToString("x16", CultureInfo.InvariantCulture)).ToArray();
        var swDesc = t.Switches.Select(s => string.IsNullOrEmpty(s.Model) ? s.Name : $"MF0;{s.Name}:{s.Model}/U1").ToArray();
        var caBase = new int[t.Hosts.Count + 1];
        for (var h = 0; h < t.Hosts.Count; h++) caBase[h + 1] = caBase[h] + t.Hosts[h].Nics.Count;
        string CaGuid(int h, int n) => t.Hosts[h].Nics[n].Guid ?? (0x0002c90400000000UL + 2UL * (ulong)(caBase[h] + n)).ToString("x16", CultureInfo.InvariantCulture);
        string CaDesc(int h, int n) => $"{t.Hosts[h].Name} mlx5_{n}";
        int SwLid(int s) => s + 1;
        int CaLid(int h, int n) => t.Switches.Count + 1 + caBase[h] + n;

        sb.Append("#\n# Topology file: written by fabricctl from fabric '").Append(t.Name).Append("'\n#\n\n");
        for (var s = 0; s < t.Switches.Count; s++)
        {
            var sw = t.Switches[s];
            sb.Append("vendid=0x2c9\ndevid=0xd2f0\nsysimgguid=0x").Append(swGuid[s]).Append('\n')
              .Append("switchguid=0x").Append(swGuid[s]).Append('(').Append(swGuid[s].TrimStart('0')).Append(")\n")
              .Append("Switch\t").Append(sw.Radix).Append(" \"S-").Append(swGuid[s]).Append("\"\t\t# \"").Append(swDesc[s])
              .Append("\" enhanced port 0 lid ").Append(SwLid(s)).Append(" lmc 0\n");
            var ports = t.SwitchPortLinks(s);
            for (var i = 0; i < ports.Length; i++)
            {
                if (ports[i] < 0) continue;
                var l = t.Links[ports[i]];
                var far = t.Opposite(ports[i], s);
                sb.Append('[').Append(i + 1).Append("]\t");
                if (far.IsHost)
                {
                    var g = CaGuid(far.Device, far.Port);
                    sb.Append("\"H-").Append(g).Append("\"[1](").Append(g.TrimStart('0')).Append(")\t\t# \"").Append(CaDesc(far.Device, far.Port))
                      .Append("\" lid ").Append(CaLid(far.Device, far.Port));
                }
                else
                {
                    sb.Append("\"S-").Append(swGuid[far.Device]).Append("\"[").Append(far.Port).Append("]\t\t# \"").Append(swDesc[far.Device])
                      .Append("\" lid ").Append(SwLid(far.Device));
                }
                sb.Append(' ').Append(IbSpeed.Format(l.SpeedGbps)).Append('\n');
            }
            sb.Append('\n');
        }
        for (var h = 0; h < t.Hosts.Count; h++)
        {
            for (var n = 0; n < t.Hosts[h].Nics.Count; n++)
            {
                var id = t.LinkAtHostNic(h, n);
                if (id < 0) continue; // ibnetdiscover only sees cabled ports
                var l = t.Links[id];
                var far = l.A.IsHost && l.A.Device == h && l.A.Port == n ? l.B : l.A;
                if (far.IsHost) continue;
                var g = CaGuid(h, n);
                sb.Append("vendid=0x2c9\ndevid=0x1021\nsysimgguid=0x").Append(g).Append("\ncaguid=0x").Append(g).Append('\n')
                  .Append("Ca\t1 \"H-").Append(g).Append("\"\t\t# \"").Append(CaDesc(h, n)).Append("\"\n")
                  .Append("[1](").Append(g.TrimStart('0')).Append(")\t\"S-").Append(swGuid[far.Device]).Append("\"[").Append(far.Port)
                  .Append("]\t\t# lid ").Append(CaLid(h, n)).Append(" lmc 0 \"").Append(swDesc[far.Device]).Append("\" lid ").Append(SwLid(far.Device))
                  .Append(' ').Append(IbSpeed.Format(l.SpeedGbps)).Append("\n\n");
            }
        }
        return sb.ToString();
    }
}
