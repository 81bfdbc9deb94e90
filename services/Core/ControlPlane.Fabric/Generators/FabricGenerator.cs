namespace ControlPlane.Fabric;

/// <summary>
/// Builds fabrics from <see cref="GeneratorParameters"/>. Deterministic: the same parameters give the
/// same fabric, element for element. Names: "p{plane}-leaf-{i}", "p{plane}-spine-{i}", "core-{i}",
/// "node-{i:D5}".
/// </summary>
public static class FabricGenerator
{
    /// <summary>Generates the fabric.</summary>
    /// <exception cref="FabricInputException">When the parameters are invalid; every problem is listed.</exception>
    public static FabricTopology Generate(GeneratorParameters p)
    {
        var errors = p.Validate();
        if (errors.Count > 0) throw new FabricInputException(errors);
        var b = new Builder(p);
        switch (p.Kind)
        {
            case TopologyKind.Ft2:
                b.AddPlaneTree(plane: 0, railed: false);
                break;
            case TopologyKind.RailOptimized:
                b.AddPlaneTree(plane: 0, railed: true);
                break;
            case TopologyKind.Mpft:
                for (var plane = 0; plane < p.PlaneCount; plane++) b.AddPlaneTree(plane, railed: false);
                break;
            case TopologyKind.Ft3:
                b.AddFt3();
                break;
            default:
                throw new FabricInputException("kind", $"{p.Kind} cannot be generated");
        }
        return b.Build();
    }

    private sealed class Builder(GeneratorParameters p)
    {
        private readonly List<Plane> _planes = [];
        private readonly List<Switch> _switches = [];
        private readonly List<Host> _hosts = [];
        private readonly List<Link> _links = [];
        private readonly List<Transceiver> _xcvrs = [];
        private readonly Dictionary<int, int> _nextPort = [];

        private int PlaneCount => p.PlaneCount;

        public FabricTopology Build() =>
            new(p.Name, p.Kind, _planes, _switches, _hosts, _links, _xcvrs, p);

        /// <summary>One FT2 plane (FT2, rail-optimized, or one plane of an MPFT).</summary>
        public void AddPlaneTree(int plane, bool railed)
        {
            _planes.Add(new Plane(plane, $"plane-{plane}"));
            var leaves = p.LeavesPerPlane ?? p.Radix;
            var down = p.LeafDownPorts;
            var up = p.LeafUpPorts;
            var prefix = PlaneCount > 1 ? $"p{plane}-" : "";
            var railCount = railed ? p.NicsPerNode : 1;
            var leafIds = new int[leaves];
            for (var i = 0; i < leaves; i++)
                leafIds[i] = AddSwitch($"{prefix}leaf-{i}", plane, SwitchTier.Leaf, group: railed ? i / railCount : -1);
            var spineIds = new int[up];
            for (var j = 0; j < up; j++) spineIds[j] = AddSwitch($"{prefix}spine-{j}", plane, SwitchTier.Spine, group: -1);

            // Leaf uplinks: leaf port down+1+j goes to spine j, spine port i+1 comes from leaf i.
            for (var i = 0; i < leaves; i++)
                for (var j = 0; j < up; j++)
                    AddLink(LinkEnd.OnSwitch(leafIds[i], down + 1 + j), LinkEnd.OnSwitch(spineIds[j], i + 1), LinkRole.LeafSpine, p.LeafSpineLinkM, plane);

            AttachHosts(plane, leafIds, down, railed);
        }

        /// <summary>A three-tier tree: pods of leaves and spines, joined by core switches.</summary>
        public void AddFt3()
        {
            _planes.Add(new Plane(0, "plane-0"));
            var k = p.Radix;
            var pods = p.Pods ?? k;
            var down = p.LeafDownPorts;
            var up = p.LeafUpPorts;     // spines per pod
            var leavesPerPod = k / 2;  // spine down ports
            var spineUp = k - leavesPerPod;
            var leafIds = new int[pods * leavesPerPod];
            var spineIds = new int[pods * up];
            for (var pod = 0; pod < pods; pod++)
            {
                for (var i = 0; i < leavesPerPod; i++) leafIds[pod * leavesPerPod + i] = AddSwitch($"pod{pod}-leaf-{i}", 0, SwitchTier.Leaf, pod);
                for (var j = 0; j < up; j++) spineIds[pod * up + j] = AddSwitch($"pod{pod}-spine-{j}", 0, SwitchTier.Spine, pod);
            }
            // Core c = j * spineUp + m serves spine j of every pod; its port pod+1 faces that pod.
            var coreIds = new int[up * spineUp];
            for (var c = 0; c < coreIds.Length; c++) coreIds[c] = AddSwitch($"core-{c}", 0, SwitchTier.Core, -1);

            for (var pod = 0; pod < pods; pod++)
            {
                for (var i = 0; i < leavesPerPod; i++)
                    for (var j = 0; j < up; j++)
                        AddLink(LinkEnd.OnSwitch(leafIds[pod * leavesPerPod + i], down + 1 + j), LinkEnd.OnSwitch(spineIds[pod * up + j], i + 1), LinkRole.LeafSpine, p.LeafSpineLinkM, 0);
                for (var j = 0; j < up; j++)
                    for (var m = 0; m < spineUp; m++)
                        AddLink(LinkEnd.OnSwitch(spineIds[pod * up + j], leavesPerPod + 1 + m), LinkEnd.OnSwitch(coreIds[j * spineUp + m], pod + 1), LinkRole.SpineCore, p.SpineCoreLinkM, 0);
            }
            AttachHosts(0, leafIds, down, railed: false);
        }

        /// <summary>
        /// Creates the nodes of a plane (or finds them when an earlier plane made them) and cables their NICs.
        /// Packed: consecutive endpoints fill a leaf. Railed: NIC r of the nodes of scalable unit s goes to leaf s*R + r.
        /// MPFT: each plane takes NICs i with i mod P == plane.
        /// </summary>
        private void AttachHosts(int plane, int[] leafIds, int down, bool railed)
        {
            var planes = PlaneCount;
            var nicsInPlane = p.NicsPerNode / planes;
            var endpoints = leafIds.Length * down;
            var nodes = railed ? (leafIds.Length / p.NicsPerNode) * down : endpoints / nicsInPlane;
            if (plane == 0)
            {
                for (var n = 0; n < nodes; n++)
                {
                    var nics = new Nic[p.NicsPerNode];
                    for (var i = 0; i < nics.Length; i++) nics[i] = new Nic(i, i % planes, p.PortSpeedGbps);
                    _hosts.Add(new Host(n, $"node-{n:D5}", p.GpusPerNode, nics));
                }
            }
            for (var n = 0; n < nodes; n++)
            {
                for (var slot = 0; slot < nicsInPlane; slot++)
                {
                    var nic = slot * planes + plane;
                    int leaf, port;
                    if (railed)
                    {
                        leaf = (n / down) * p.NicsPerNode + nic;
                        port = n % down + 1;
                    }
                    else
                    {
                        var e = n * nicsInPlane + slot;
                        leaf = e / down;
                        port = e % down + 1;
                    }
                    // Hosts of one leaf sit in one rack when the leaf serves no more nodes than a rack holds.
                    var nodesPerLeaf = railed ? down : (down + nicsInPlane - 1) / nicsInPlane;
                    var len = nodesPerLeaf <= p.NodesPerRack ? p.HostLinkInRackM : p.HostLinkInRowM;
                    AddLink(LinkEnd.OnHost(n, nic), LinkEnd.OnSwitch(leafIds[leaf], port), LinkRole.Host, len, plane);
                }
            }
        }

        private int AddSwitch(string name, int plane, SwitchTier tier, int group)
        {
            var id = _switches.Count;
            _switches.Add(new Switch(id, name, plane, tier, p.Radix, p.PortSpeedGbps, p.SwitchModel, group));
            return id;
        }

        private void AddLink(LinkEnd a, LinkEnd b, LinkRole role, double lengthM, int plane)
        {
            var id = _links.Count;
            var medium = MediaCatalog.ForLength(lengthM, role == LinkRole.Host);
            _links.Add(new Link(id, a, b, p.PortSpeedGbps, role, medium, lengthM, plane));
            var info = MediaCatalog.Get(medium);
            if (!info.HasDom) return;
            AddTransceiver(id, LinkSide.A, info);
            AddTransceiver(id, LinkSide.B, info);
        }

        private void AddTransceiver(int link, LinkSide side, MediumInfo info)
        {
            var id = _xcvrs.Count;
            // Deterministic serials: seed, then a running number, in the style of vendor serials.
            var serial = $"MT{p.Seed % 100:D2}{id:D8}";
            _xcvrs.Add(new Transceiver(
                id, serial, info.Kind, link, side,
                Vendor: "Mellanox",
                PartNumber: PartNumber(info.Kind, p.PortSpeedGbps),
                Firmware: "48.200.3020",
                PowerW: info.PowerW(p.PortSpeedGbps),
                PicojoulesPerBit: info.PicojoulesPerBit,
                Thresholds: MediaCatalog.DefaultThresholds));
        }

        private static string PartNumber(MediumKind kind, int speed) => kind switch
        {
            MediumKind.Aoc => $"MFA7U10-{speed}G-AOC",
            MediumKind.Sr8 => $"MMA4Z00-{speed}G-SR8",
            MediumKind.Dr8 => $"MMS4X00-{speed}G-DR8",
            MediumKind.Fr4 => $"MMS4X50-{speed}G-2FR4",
            MediumKind.Lr8 => $"MMS4X90-{speed}G-LR8",
            _ => $"MCP4Y10-{speed}G-DAC",
        };
    }
}
