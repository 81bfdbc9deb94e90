using ControlPlane.Fabric;

namespace ControlPlane.Telemetry;

/// <summary>
/// Dense numbering of every switch port of a topology (switch s, port p -> <c>Offset(s) + p - 1</c>, the layout of
/// <see cref="FabricTopology.SwitchPortLinks"/>) with each port's link and side, and each link's two port indices.
/// </summary>
public sealed class PortLayout
{
    private readonly int[] _offset;
    private readonly int[] _portLink;      // link id or -1
    private readonly bool[] _portIsA;      // the port is the link's A end: its tx is A->B
    private readonly int[] _portSwitch;
    private readonly int[] _linkPortA;     // port index of the link's A end, -1 for a host end
    private readonly int[] _linkPortB;
    private readonly float[] _portLineBytesPerSec;
    private readonly int[][] _planeLinks;
    private readonly int[][] _planePorts;

    /// <summary>Builds the layout of a topology.</summary>
    public PortLayout(FabricTopology topology)
    {
        Topology = topology;
        var n = topology.Switches.Count;
        _offset = new int[n + 1];
        for (var s = 0; s < n; s++) _offset[s + 1] = _offset[s] + topology.SwitchPortLinks(s).Length;
        PortCount = _offset[n];
        _portLink = new int[PortCount];
        _portIsA = new bool[PortCount];
        _portSwitch = new int[PortCount];
        _portLineBytesPerSec = new float[PortCount];
        _linkPortA = new int[topology.Links.Count];
        _linkPortB = new int[topology.Links.Count];
        Array.Fill(_linkPortA, -1);
        Array.Fill(_linkPortB, -1);
        for (var s = 0; s < n; s++)
        {
            var links = topology.SwitchPortLinks(s);
            for (var i = 0; i < links.Length; i++)
            {
                var p = _offset[s] + i;
                var l = links[i];
                _portSwitch[p] = s;
                _portLink[p] = l;
                if (l < 0) continue;
                var link = topology.Links[l];
                var isA = !link.A.IsHost && link.A.Device == s && link.A.Port == i + 1;
                _portIsA[p] = isA;
                if (isA) _linkPortA[l] = p;
                else _linkPortB[l] = p;
                _portLineBytesPerSec[p] = (float)(link.SpeedGbps * 1e9 / 8);
            }
        }
        var planes = Math.Max(topology.Planes.Count, topology.Links.Count == 0 ? 0 : topology.Links.Max(l => l.Plane) + 1);
        _planeLinks = new int[planes][];
        _planePorts = new int[planes][];
        for (var pl = 0; pl < planes; pl++)
        {
            _planeLinks[pl] = topology.Links.Where(l => l.Plane == pl).Select(l => l.Id).ToArray();
            _planePorts[pl] = _planeLinks[pl].SelectMany(l => new[] { _linkPortA[l], _linkPortB[l] }).Where(p => p >= 0).ToArray();
        }
    }

    /// <summary>The topology.</summary>
    public FabricTopology Topology { get; }

    /// <summary>Switch ports over all switches, cabled or not.</summary>
    public int PortCount { get; }

    /// <summary>Planes.</summary>
    public int PlaneCount => _planeLinks.Length;

    /// <summary>Dense index of (switch, 1-based port), or -1 when out of range.</summary>
    public int PortIndex(int switchId, uint port)
    {
        if ((uint)switchId >= (uint)(_offset.Length - 1)) return -1;
        var radix = _offset[switchId + 1] - _offset[switchId];
        if (port < 1 || port > radix) return -1;
        return _offset[switchId] + (int)port - 1;
    }

    /// <summary>Switch id of a port index.</summary>
    public int SwitchOf(int portIndex) => _portSwitch[portIndex];

    /// <summary>1-based port number of a port index.</summary>
    public int PortNumber(int portIndex) => portIndex - _offset[_portSwitch[portIndex]] + 1;

    /// <summary>Link on a port index, or -1.</summary>
    public int LinkOf(int portIndex) => _portLink[portIndex];

    /// <summary>True when the port is the link's A end (its transmit direction is A to B).</summary>
    public bool IsASide(int portIndex) => _portIsA[portIndex];

    /// <summary>Port index of the link's A end, or -1 for a host end.</summary>
    public int PortA(int linkId) => _linkPortA[linkId];

    /// <summary>Port index of the link's B end, or -1 for a host end.</summary>
    public int PortB(int linkId) => _linkPortB[linkId];

    /// <summary>Line rate of a cabled port in bytes per second (0 when not cabled).</summary>
    public float LineBytesPerSecond(int portIndex) => _portLineBytesPerSec[portIndex];

    /// <summary>Links of a plane.</summary>
    public ReadOnlySpan<int> PlaneLinks(int plane) => _planeLinks[plane];

    /// <summary>Switch ports (indices) of a plane's links.</summary>
    public ReadOnlySpan<int> PlanePorts(int plane) => _planePorts[plane];
}
