namespace ControlPlane.Fabric.Serialization;

/// <summary>Converts between <see cref="FabricSpec"/> and the model. This half: model to spec.</summary>
public static partial class FabricSpecMapper
{
    /// <summary>The spec of a topology and, optionally, of the states of a snapshot of it.</summary>
    public static FabricSpec ToSpec(FabricTopology t, FabricSnapshot? state = null)
    {
        if (state is not null && !ReferenceEquals(state.Topology, t))
            throw new ArgumentException("the snapshot belongs to another topology", nameof(state));
        var xcvrsByLink = new List<Transceiver>?[t.Links.Count];
        foreach (var x in t.Transceivers)
        {
            if ((uint)x.Link < (uint)t.Links.Count) (xcvrsByLink[x.Link] ??= []).Add(x);
        }
        var links = new LinkSpec[t.Links.Count];
        for (var i = 0; i < links.Length; i++)
        {
            var l = t.Links[i];
            links[i] = new LinkSpec
            {
                A = t.Describe(l.A),
                B = t.Describe(l.B),
                SpeedGbps = l.SpeedGbps,
                Role = EnumNames.ToName(l.Role),
                Medium = EnumNames.ToName(l.Medium),
                LengthM = l.LengthM,
                Plane = DefaultPlane(t, l) == l.Plane ? null : l.Plane,
                Transceivers = xcvrsByLink[i]?.Select(x => ToSpec(x, l)).ToArray(),
            };
        }
        return new FabricSpec
        {
            Name = t.Name,
            Kind = EnumNames.ToName(t.Kind),
            Parameters = t.Parameters is { } p ? ToSpec(p) : null,
            Planes = t.Planes.Select(p => new PlaneSpec { Name = p.Name }).ToArray(),
            Switches = t.Switches.Select(s => new SwitchSpec
            {
                Name = s.Name, Plane = s.Plane, Tier = EnumNames.ToName(s.Tier), Radix = s.Radix, SpeedGbps = s.PortSpeedGbps,
                Model = s.Model, Group = s.Group < 0 ? null : s.Group, Guid = s.Guid,
            }).ToArray(),
            Hosts = t.Hosts.Select(h => new HostSpec
            {
                Name = h.Name, Gpus = h.Gpus,
                Nics = h.Nics.Select(n => new NicSpec { Plane = n.Plane, SpeedGbps = n.SpeedGbps, Guid = n.Guid }).ToArray(),
            }).ToArray(),
            Links = links,
            States = state is null ? null : ToSpec(state),
        };
    }

    private static TransceiverSpec ToSpec(Transceiver x, Link l) => new()
    {
        Side = EnumNames.ToName(x.Side),
        Serial = x.Serial,
        Kind = x.Kind == l.Medium ? null : EnumNames.ToName(x.Kind),
        Vendor = x.Vendor,
        PartNumber = x.PartNumber,
        Firmware = x.Firmware,
        PowerW = x.PowerW,
        PicojoulesPerBit = x.PicojoulesPerBit,
        Thresholds = x.Thresholds == MediaCatalog.DefaultThresholds ? null : x.Thresholds,
    };

    private static ParametersSpec ToSpec(GeneratorParameters p) => new()
    {
        Radix = p.Radix, PortSpeedGbps = p.PortSpeedGbps, Planes = p.Planes, GpusPerNode = p.GpusPerNode, NicsPerNode = p.NicsPerNode,
        Oversubscription = p.Oversubscription, LeavesPerPlane = p.LeavesPerPlane, Pods = p.Pods, SwitchModel = p.SwitchModel,
        NodesPerRack = p.NodesPerRack, HostLinkInRackM = p.HostLinkInRackM, HostLinkInRowM = p.HostLinkInRowM,
        LeafSpineLinkM = p.LeafSpineLinkM, SpineCoreLinkM = p.SpineCoreLinkM, Seed = p.Seed,
    };

    private static StatesSpec ToSpec(FabricSnapshot s)
    {
        var links = new List<LinkStateSpec>();
        for (var i = 0; i < s.LinkStates.Count; i++)
        {
            var st = s.LinkStates[i];
            if (st != ElementState.InitialUp)
                links.Add(new LinkStateSpec { Link = i, Status = EnumNames.ToName(st.Status), Reason = st.Reason, By = st.By, Since = st.Since });
        }
        var switches = new List<SwitchStateSpec>();
        for (var i = 0; i < s.SwitchStates.Count; i++)
        {
            var st = s.SwitchStates[i];
            if (st != ElementState.InitialUp)
                switches.Add(new SwitchStateSpec { Name = s.Topology.Switches[i].Name, Status = EnumNames.ToName(st.Status), Reason = st.Reason, By = st.By, Since = st.Since });
        }
        return new StatesSpec { Version = s.Version, Links = links, Switches = switches };
    }

    private static int DefaultPlane(FabricTopology t, Link l) => DefaultPlane(t.Switches, t.Hosts, l);
}
