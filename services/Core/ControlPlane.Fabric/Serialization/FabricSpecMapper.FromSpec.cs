namespace ControlPlane.Fabric.Serialization;

/// <summary>Converts between <see cref="FabricSpec"/> and the model. This half: spec to model; every problem is collected, each naming its field.</summary>
public static partial class FabricSpecMapper
{
    /// <summary>Builds the topology and the snapshot a spec describes.</summary>
    /// <exception cref="FabricInputException">Every problem found, each with its field path (e.g. "links[12].b").</exception>
    public static FabricSnapshot FromSpec(FabricSpec spec)
    {
        var e = new List<FieldError>();
        if (spec.SpecVersion != 1) e.Add(new("specVersion", $"only version 1 is known, got {spec.SpecVersion}"));
        if (string.IsNullOrWhiteSpace(spec.Name)) e.Add(new("name", "must not be empty"));
        var kind = EnumNames.Parse(spec.Kind, "kind", e, TopologyKind.Imported);

        var planes = new Plane[spec.Planes.Count];
        var planeNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < planes.Length; i++)
        {
            var name = spec.Planes[i]?.Name;
            if (string.IsNullOrWhiteSpace(name)) { e.Add(new($"planes[{i}].name", "must not be empty")); name = $"plane-{i}"; }
            else if (!planeNames.Add(name)) e.Add(new($"planes[{i}].name", $"duplicate plane name '{name}'"));
            planes[i] = new Plane(i, name);
        }

        var switches = new Switch[spec.Switches.Count];
        var switchIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < switches.Length; i++)
        {
            var f = $"switches[{i}]";
            var s = spec.Switches[i];
            if (s is null) { e.Add(new(f, "must not be null")); switches[i] = new Switch(i, $"#{i}", 0, SwitchTier.Leaf, 0, 0, ""); continue; }
            CheckName(s.Name, f + ".name", e);
            if (!switchIds.TryAdd(s.Name ?? "", i)) e.Add(new(f + ".name", $"duplicate switch name '{s.Name}' (first at switches[{switchIds[s.Name!]}])"));
            CheckPlane(s.Plane, f + ".plane", planes.Length, e);
            var tier = EnumNames.Parse(s.Tier, f + ".tier", e, SwitchTier.Leaf);
            if (s.Radix < 1 || s.Radix > GeneratorParameters.MaxRadix) e.Add(new(f + ".radix", $"must be between 1 and {GeneratorParameters.MaxRadix}, got {s.Radix}"));
            if (s.SpeedGbps < 1) e.Add(new(f + ".speedGbps", $"must be positive, got {s.SpeedGbps}"));
            switches[i] = new Switch(i, s.Name ?? "", s.Plane, tier, s.Radix, s.SpeedGbps, s.Model ?? "", s.Group ?? -1, s.Guid);
        }

        var hosts = new Host[spec.Hosts.Count];
        var hostIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < hosts.Length; i++)
        {
            var f = $"hosts[{i}]";
            var h = spec.Hosts[i];
            if (h is null) { e.Add(new(f, "must not be null")); hosts[i] = new Host(i, $"#{i}", 0, []); continue; }
            CheckName(h.Name, f + ".name", e);
            if (!hostIds.TryAdd(h.Name ?? "", i)) e.Add(new(f + ".name", $"duplicate host name '{h.Name}' (first at hosts[{hostIds[h.Name!]}])"));
            if (switchIds.ContainsKey(h.Name ?? "")) e.Add(new(f + ".name", $"'{h.Name}' is also a switch name"));
            if (h.Gpus < 0) e.Add(new(f + ".gpus", $"must not be negative, got {h.Gpus}"));
            var nics = new Nic[h.Nics.Count];
            for (var n = 0; n < nics.Length; n++)
            {
                var nf = $"{f}.nics[{n}]";
                var nic = h.Nics[n];
                if (nic is null) { e.Add(new(nf, "must not be null")); nics[n] = new Nic(n, 0, 0); continue; }
                CheckPlane(nic.Plane, nf + ".plane", planes.Length, e);
                if (nic.SpeedGbps < 1) e.Add(new(nf + ".speedGbps", $"must be positive, got {nic.SpeedGbps}"));
                nics[n] = new Nic(n, nic.Plane, nic.SpeedGbps, nic.Guid);
            }
            hosts[i] = new Host(i, h.Name ?? "", h.Gpus, nics);
        }

        var links = new Link[spec.Links.Count];
        var xcvrs = new List<Transceiver>();
        var serials = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < links.Length; i++)
        {
            var f = $"links[{i}]";
            var l = spec.Links[i];
            if (l is null) { e.Add(new(f, "must not be null")); links[i] = new Link(i, default, default, 0, LinkRole.Host, MediumKind.PassiveDac, 1, 0); continue; }
            var a = ParseEnd(l.A, f + ".a", switchIds, hostIds, e);
            var b = ParseEnd(l.B, f + ".b", switchIds, hostIds, e);
            var role = EnumNames.Parse(l.Role, f + ".role", e, LinkRole.Host);
            var medium = EnumNames.Parse(l.Medium, f + ".medium", e, MediumKind.PassiveDac);
            if (l.SpeedGbps < 1) e.Add(new(f + ".speedGbps", $"must be positive, got {l.SpeedGbps}"));
            if (!double.IsFinite(l.LengthM) || l.LengthM <= 0 || l.LengthM > 10000) e.Add(new(f + ".lengthM", $"must be between 0 and 10000 metres, got {l.LengthM}"));
            var link = new Link(i, a, b, l.SpeedGbps, role, medium, l.LengthM, 0);
            var plane = l.Plane ?? DefaultPlane(switches, hosts, link);
            if (l.Plane is { } lp) CheckPlane(lp, f + ".plane", planes.Length, e);
            links[i] = link with { Plane = plane };
            if (l.Transceivers is null) continue;
            for (var x = 0; x < l.Transceivers.Count; x++)
            {
                var xf = $"{f}.transceivers[{x}]";
                var ts = l.Transceivers[x];
                if (ts is null) { e.Add(new(xf, "must not be null")); continue; }
                var side = EnumNames.Parse(ts.Side, xf + ".side", e, LinkSide.A);
                var xkind = ts.Kind is null ? medium : EnumNames.Parse(ts.Kind, xf + ".kind", e, medium);
                if (string.IsNullOrWhiteSpace(ts.Serial)) e.Add(new(xf + ".serial", "must not be empty"));
                else if (!serials.TryAdd(ts.Serial, xf)) e.Add(new(xf + ".serial", $"duplicate serial '{ts.Serial}' (first at {serials[ts.Serial]})"));
                xcvrs.Add(new Transceiver(xcvrs.Count, ts.Serial ?? "", xkind, i, side, ts.Vendor ?? "", ts.PartNumber ?? "", ts.Firmware ?? "",
                    ts.PowerW, ts.PicojoulesPerBit, ts.Thresholds ?? MediaCatalog.DefaultThresholds));
            }
        }

        GeneratorParameters? parameters = null;
        if (spec.Parameters is { } ps)
        {
            parameters = FromSpec(ps, spec.Name ?? "fabric", kind);
            if (kind is not TopologyKind.Imported)
                foreach (var pe in parameters.Validate()) e.Add(new("parameters." + pe.Field, pe.Reason));
        }

        var linkStates = Enumerable.Repeat(ElementState.InitialUp, links.Length).ToArray();
        var switchStates = Enumerable.Repeat(ElementState.InitialUp, switches.Length).ToArray();
        long version = 1;
        if (spec.States is { } st)
        {
            if (st.Version < 1) e.Add(new("states.version", $"must be at least 1, got {st.Version}"));
            version = st.Version;
            for (var i = 0; i < st.Links.Count; i++)
            {
                var f = $"states.links[{i}]";
                var ls = st.Links[i];
                if (ls is null) { e.Add(new(f, "must not be null")); continue; }
                var status = EnumNames.Parse(ls.Status, f + ".status", e, ElementStatus.Up);
                if ((uint)ls.Link >= (uint)links.Length) e.Add(new(f + ".link", $"no link {ls.Link}; there are {links.Length}"));
                else linkStates[ls.Link] = new ElementState(status, ls.Reason, ls.By, ls.Since);
            }
            for (var i = 0; i < st.Switches.Count; i++)
            {
                var f = $"states.switches[{i}]";
                var ss = st.Switches[i];
                if (ss is null) { e.Add(new(f, "must not be null")); continue; }
                var status = EnumNames.Parse(ss.Status, f + ".status", e, ElementStatus.Up);
                if (!switchIds.TryGetValue(ss.Name ?? "", out var sid)) e.Add(new(f + ".name", $"no switch named '{ss.Name}'"));
                else switchStates[sid] = new ElementState(status, ss.Reason, ss.By, ss.Since);
            }
        }

        if (e.Count > 0) throw new FabricInputException(e);
        var topology = new FabricTopology(spec.Name!, kind, planes, switches, hosts, links, xcvrs, parameters);
        return FabricSnapshot.Create(topology, version, linkStates, switchStates);
    }

    private static GeneratorParameters FromSpec(ParametersSpec s, string name, TopologyKind kind)
    {
        var d = new GeneratorParameters();
        return new GeneratorParameters
        {
            Name = name, Kind = kind,
            Radix = s.Radix ?? d.Radix, PortSpeedGbps = s.PortSpeedGbps ?? d.PortSpeedGbps, Planes = s.Planes,
            GpusPerNode = s.GpusPerNode ?? d.GpusPerNode, NicsPerNode = s.NicsPerNode ?? d.NicsPerNode,
            Oversubscription = s.Oversubscription ?? d.Oversubscription, LeavesPerPlane = s.LeavesPerPlane, Pods = s.Pods,
            SwitchModel = s.SwitchModel ?? d.SwitchModel, NodesPerRack = s.NodesPerRack ?? d.NodesPerRack,
            HostLinkInRackM = s.HostLinkInRackM ?? d.HostLinkInRackM, HostLinkInRowM = s.HostLinkInRowM ?? d.HostLinkInRowM,
            LeafSpineLinkM = s.LeafSpineLinkM ?? d.LeafSpineLinkM, SpineCoreLinkM = s.SpineCoreLinkM ?? d.SpineCoreLinkM,
            Seed = s.Seed ?? d.Seed,
        };
    }

    /// <summary>Parses "switch/port" or "host/mlx5_N"; the device part may itself hold '/', so the last one splits.</summary>
    internal static LinkEnd ParseEnd(string? text, string field, IReadOnlyDictionary<string, int> switchIds, IReadOnlyDictionary<string, int> hostIds, List<FieldError> e)
    {
        var slash = text?.LastIndexOf('/') ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1)
        {
            e.Add(new(field, $"'{text}' is not \"switch/port\" or \"host/mlx5_N\""));
            return LinkEnd.OnSwitch(-1, 0);
        }
        var device = text[..slash];
        var port = text[(slash + 1)..];
        if (hostIds.TryGetValue(device, out var hid))
        {
            if (port.StartsWith("mlx5_", StringComparison.Ordinal) && int.TryParse(port.AsSpan(5), System.Globalization.NumberStyles.None, null, out var nic))
                return LinkEnd.OnHost(hid, nic);
            e.Add(new(field, $"'{port}' is not a NIC of host '{device}'; expected mlx5_N"));
            return LinkEnd.OnHost(hid, -1);
        }
        if (switchIds.TryGetValue(device, out var sid))
        {
            if (int.TryParse(port, System.Globalization.NumberStyles.None, null, out var p)) return LinkEnd.OnSwitch(sid, p);
            e.Add(new(field, $"'{port}' is not a port number of switch '{device}'"));
            return LinkEnd.OnSwitch(sid, 0);
        }
        e.Add(new(field, $"no switch or host named '{device}'"));
        return LinkEnd.OnSwitch(-1, 0);
    }

    private static void CheckName(string? name, string field, List<FieldError> e)
    {
        if (string.IsNullOrWhiteSpace(name)) e.Add(new(field, "must not be empty"));
        else if (name.Length > 128) e.Add(new(field, $"must be at most 128 characters, got {name.Length}"));
    }

    private static void CheckPlane(int plane, string field, int planes, List<FieldError> e)
    {
        if ((uint)plane >= (uint)planes) e.Add(new(field, $"no plane {plane}; the fabric has {planes} plane(s), 0..{planes - 1}"));
    }

    private static int DefaultPlane(IReadOnlyList<Switch> switches, IReadOnlyList<Host> hosts, Link l)
    {
        if (!l.A.IsHost && (uint)l.A.Device < (uint)switches.Count) return switches[l.A.Device].Plane;
        if (!l.B.IsHost && (uint)l.B.Device < (uint)switches.Count) return switches[l.B.Device].Plane;
        if (l.A.IsHost && (uint)l.A.Device < (uint)hosts.Count && (uint)l.A.Port < (uint)hosts[l.A.Device].Nics.Count) return hosts[l.A.Device].Nics[l.A.Port].Plane;
        return 0;
    }
}
