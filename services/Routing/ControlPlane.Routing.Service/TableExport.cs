using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ControlPlane.Distribution;
using DistGroup = ControlPlane.Distribution.NextHopGroup;

namespace ControlPlane.Routing.Service;

/// <summary>
/// The same tables as <see cref="RoutingExport.ForSwitch"/> (same routes, same group ids kept stable against the
/// previous table, same ids for new groups), built faster for the port-event path: the engine's groups are shared by
/// many routes of a switch, so each distinct engine group is turned into a distribution group once instead of once per
/// route, and member sets are compared as arrays instead of formatted strings.
/// </summary>
public static class TableExport
{
    /// <summary>The table of one switch; equal to <c>RoutingExport.ForSwitch(result, switchId, previous, version)</c>.</summary>
    public static SwitchTable ForSwitch(RoutingResult result, int switchId, SwitchTable? previous = null, ulong? version = null)
    {
        var topology = result.Snapshot.Topology;
        var sw = topology.Switches[switchId];
        var previousIds = new Dictionary<GroupMember[], int>(MembersComparer.Instance);
        var reserved = new HashSet<int>();
        if (previous is not null)
            foreach (var g in previous.Groups.Values)
            {
                previousIds[ImmutableCollectionsMarshal.AsArray(g.Members)!] = g.Id;
                reserved.Add(g.Id);
            }
        var groups = new Dictionary<GroupMember[], DistGroup>(MembersComparer.Instance);
        var byEngineKey = new Dictionary<int, DistGroup>();
        var routeCap = Math.Max(16, previous?.Routes.Count ?? 0);
        var routeKeys = System.Buffers.ArrayPool<RouteKey>.Shared.Rent(routeCap);
        var routeValues = System.Buffers.ArrayPool<RouteEntry>.Shared.Rent(routeCap);
        var n = 0;
        void Add(RouteKey k, RouteEntry e)
        {
            if (n == routeKeys.Length)
            {
                Grow(ref routeKeys, n);
                Grow(ref routeValues, n);
            }
            routeKeys[n] = k;
            routeValues[n++] = e;
        }
        var nextId = 1;
        var classes = result.Policy.Classes;
        var modes = new SpreadMode[classes.Count];
        for (var c = 0; c < modes.Length; c++) modes[c] = result.Mode(c) == ForwardingMode.Sprayed ? SpreadMode.Spray : SpreadMode.Hash;
        foreach (var dest in result.Destinations(sw.Plane))
        {
            var destName = topology.Switches[dest].Name;
            for (var c = 0; c < classes.Count; c++)
            {
                var key = result.GroupKey(switchId, dest, c);
                if (key == (int)RouteKind.Local)
                {
                    Add(new RouteKey(destName, classes[c].Name), new RouteEntry(SwitchTable.LocalGroup, modes[c]));
                    continue;
                }
                if (key < 0) continue;
                if (!byEngineKey.TryGetValue(key, out var group))
                {
                    result.TryGetGroup(switchId, dest, c, out var ports, out var weights);
                    var members = new GroupMember[ports.Length];
                    for (var i = 0; i < ports.Length; i++) members[i] = new GroupMember(ports[i], weights[i]);
                    Array.Sort(members, (a, b) => a.Port != b.Port ? a.Port.CompareTo(b.Port) : a.Weight.CompareTo(b.Weight));
                    if (!groups.TryGetValue(members, out group))
                    {
                        if (!previousIds.TryGetValue(members, out var id))
                        {
                            while (reserved.Contains(nextId)) nextId++;
                            id = nextId++;
                        }
                        groups[members] = group = new DistGroup(id, members);
                    }
                    byEngineKey[key] = group;
                }
                Add(new RouteKey(destName, classes[c].Name), new RouteEntry(group.Id, modes[c]));
            }
        }
        try
        {
            var keys = routeKeys.AsSpan(0, n);
            var values = routeValues.AsSpan(0, n);
            keys.Sort(values);
            // Most changes move weights, not destinations: the route keys are then the previous table's, shared.
            var routes = previous is not null && previous.Routes.SameKeys(keys)
                ? previous.Routes.WithValues(values)
                : SortedMap<RouteKey, RouteEntry>.Create(keys, values, k => new InvalidOperationException($"route {k} exported twice"));
            var groupIds = groups.Values.Select(g => g.Id).ToArray();
            var groupArray = groups.Values.ToArray();
            var groupMap = SortedMap<int, DistGroup>.Create(groupIds, groupArray, id => new InvalidOperationException($"group {id} exported twice"));
            return SwitchTable.FromParts(sw.Name, version ?? (ulong)Math.Max(1, result.SwitchVersion(switchId)), result.GroupSize, groupMap, routes);
        }
        finally
        {
            System.Buffers.ArrayPool<RouteKey>.Shared.Return(routeKeys, clearArray: true);
            System.Buffers.ArrayPool<RouteEntry>.Shared.Return(routeValues);
        }
    }

    private static void Grow<T>(ref T[] array, int count)
    {
        var bigger = System.Buffers.ArrayPool<T>.Shared.Rent(count * 2);
        array.AsSpan(0, count).CopyTo(bigger);
        System.Buffers.ArrayPool<T>.Shared.Return(array, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        array = bigger;
    }

    private sealed class MembersComparer : IEqualityComparer<GroupMember[]>
    {
        public static readonly MembersComparer Instance = new();

        public bool Equals(GroupMember[]? x, GroupMember[]? y) => x.AsSpan().SequenceEqual(y.AsSpan());

        public int GetHashCode(GroupMember[] obj)
        {
            var h = new HashCode();
            foreach (var m in obj) { h.Add(m.Port); h.Add(m.Weight); }
            return h.ToHashCode();
        }
    }
}
