using ControlPlane.Fabric;
using ControlPlane.Routing;

namespace ControlPlane.Distribution;

/// <summary>
/// Turns the routing engine's result into per-switch <see cref="SwitchTable"/>s for distribution. Destinations are leaf
/// names and classes the policy's class names. Group ids are kept stable against the previous tables (through
/// <see cref="SwitchTableBuilder"/>), because the engine's own group indices may be renumbered between computations and a
/// renumbered group would change every route that uses it. A destination the engine finds unreachable gets no route.
/// </summary>
public static class RoutingExport
{
    /// <summary>The table of one switch.</summary>
    /// <param name="result">The engine's result.</param>
    /// <param name="switchId">Switch id in the result's topology.</param>
    /// <param name="previous">The table the switch holds now, to keep group ids stable; null for a first table.</param>
    /// <param name="version">Table version; default the engine's version for that switch.</param>
    public static SwitchTable ForSwitch(RoutingResult result, int switchId, SwitchTable? previous = null, ulong? version = null)
    {
        var topology = result.Snapshot.Topology;
        var sw = topology.Switches[switchId];
        var builder = new SwitchTableBuilder(sw.Name, version ?? (ulong)Math.Max(1, result.SwitchVersion(switchId)), result.GroupSize, previous);
        var classes = result.Policy.Classes;
        foreach (var dest in result.Destinations(sw.Plane))
        {
            var destName = topology.Switches[dest].Name;
            for (var c = 0; c < classes.Count; c++)
            {
                var mode = result.Mode(c) == ForwardingMode.Sprayed ? SpreadMode.Spray : SpreadMode.Hash;
                switch (result.TryGetGroup(switchId, dest, c, out var ports, out var weights))
                {
                    case RouteKind.Forward:
                        builder.Route(destName, classes[c].Name, ports, weights, mode);
                        break;
                    case RouteKind.Local:
                        builder.Local(destName, classes[c].Name, mode);
                        break;
                }
            }
        }
        return builder.Build();
    }

    /// <summary>Tables of every switch, keyed by switch name.</summary>
    /// <param name="result">The engine's result.</param>
    /// <param name="previous">The tables switches hold now, by name (missing names get first tables).</param>
    public static IReadOnlyDictionary<string, SwitchTable> All(RoutingResult result, IReadOnlyDictionary<string, SwitchTable>? previous = null)
    {
        var switches = result.Snapshot.Topology.Switches;
        var tables = new Dictionary<string, SwitchTable>(switches.Count, StringComparer.Ordinal);
        foreach (var sw in switches)
            tables[sw.Name] = ForSwitch(result, sw.Id, previous?.GetValueOrDefault(sw.Name));
        return tables;
    }

    /// <summary>Switch capacities from the fabric (the default table limits of each switch's model).</summary>
    public static IReadOnlyDictionary<string, SwitchCapacity> Capacities(FabricTopology topology) =>
        topology.Switches.ToDictionary(s => s.Name, SwitchCapacity.For, StringComparer.Ordinal);
}
