using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using Google.Protobuf;
using MassTransit;
using Pb = ControlPlane.Protos.Fabric.V1;

namespace ControlPlane.Distribution.Service.Tests;

/// <summary>
/// A small agent host for tests, built on the core's <see cref="AgentTableState"/> and <see cref="InMemoryDataPlane"/>:
/// one queue for every switch of the fabric, hello/ack over the bus with per-switch credentials. It records every
/// install in order and, when <see cref="CheckForwarding"/> is set, walks every leaf pair and class over the installed
/// tables after each install and records any hole or loop.
/// </summary>
public sealed class TestAgents : IAsyncDisposable
{
    private readonly object _gate = new();
    private IBus _bus;
    private readonly FabricTopology _topology;
    private readonly NeighborOf _neighbors;
    private readonly Dictionary<string, AgentTableState> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InMemoryDataPlane> _planes = new(StringComparer.Ordinal);
    private readonly List<(string Switch, TableUpdate Update)> _held = [];
    private HostReceiveEndpointHandle? _handle;

    private TestAgents(IBus bus, FabricTopology topology, string queue, IReadOnlyList<string> classes, Func<string, SwitchCapacity>? capacity)
    {
        _bus = bus;
        _topology = topology;
        _neighbors = MakeBeforeBreak.Neighbors(topology);
        Queue = queue;
        Classes = classes;
        foreach (var s in topology.Switches) Reset(s.Name, capacity?.Invoke(s.Name));
    }

    public string Queue { get; }

    public IReadOnlyList<string> Classes { get; }

    public string Fabric => _topology.Name;

    /// <summary>Every install (switch, version), in order.</summary>
    public List<(string Switch, ulong Version, bool Delta)> Installs { get; } = [];

    /// <summary>Holes and loops seen after installs.</summary>
    public List<string> Violations { get; } = [];

    /// <summary>Acks sent (switch, version, applied).</summary>
    public ConcurrentQueue<(string Switch, ulong Version, bool Applied)> Acks { get; } = new();

    public bool CheckForwarding { get; set; }

    /// <summary>When set, congestion-lane updates are kept (not applied, not acknowledged) until <see cref="ReleaseHeldAsync"/>.</summary>
    public bool HoldCongestion { get; set; }

    /// <summary>When set, updates for these switches are dropped (the agent is down).</summary>
    public ConcurrentDictionary<string, bool> Down { get; } = new(StringComparer.Ordinal);

    public int Updates;

    /// <summary>Batched update messages received (several updates for agents behind this queue in one message).</summary>
    public int Batches;

    public static async Task<TestAgents> StartAsync(IBus bus, FabricTopology topology, IReadOnlyList<string> classes, Func<string, SwitchCapacity>? capacity = null)
    {
        var agents = new TestAgents(bus, topology, $"agents-{topology.Name}-{Guid.NewGuid():N}"[..40], classes, capacity);
        await agents.ConnectAsync(bus);
        return agents;
    }

    /// <summary>Connects the agents' queue to a bus (again, after a restart of the service, keeping what they hold).</summary>
    public async Task ConnectAsync(IBus bus)
    {
        if (_handle is not null) await _handle.StopAsync();
        _bus = bus;
        _handle = bus.ConnectReceiveEndpoint(Queue, cfg =>
        {
            cfg.Handler<RouteUpdateOrdered>(ctx => OnUpdateAsync(ctx.Message));
            // Updates of one wave for agents behind this one queue come batched: each is handled as if alone.
            cfg.Handler<RouteUpdatesOrdered>(async ctx =>
            {
                Interlocked.Increment(ref Batches);
                foreach (var u in ctx.Message.Updates) await OnUpdateAsync(u);
            });
        });
        await _handle.Ready;
    }

    /// <summary>A fresh agent with an empty data plane (a restarted switch).</summary>
    public void Reset(string sw, SwitchCapacity? capacity = null)
    {
        var s = _topology.Switches[_topology.FindSwitch(sw)];
        lock (_gate)
        {
            _planes[sw] = new InMemoryDataPlane(s.Radix, capacity ?? SwitchCapacity.For(s));
            _agents[sw] = new AgentTableState(sw, 1, _planes[sw]);
        }
    }

    public SwitchTable Current(string sw)
    {
        lock (_gate) return _agents[sw].Current;
    }

    public Dictionary<string, SwitchTable> Installed()
    {
        lock (_gate) return _agents.ToDictionary(a => a.Key, a => a.Value.Current, StringComparer.Ordinal);
    }

    public Task HelloAllAsync() => Task.WhenAll(_topology.Switches.Select(s => HelloAsync(s.Name)));

    public Task HelloAsync(string sw, string? credential = null, string? queue = null)
    {
        AgentHelloInfo info;
        lock (_gate) info = _agents[sw].Hello();
        var hello = TableWire.ToProto(info, "agent-" + sw, credential ?? DistributionApp.Credentials.Issue(Fabric, sw), "test");
        return _bus.Publish(new AgentHelloSent { Fabric = Fabric, Payload = hello.ToByteArray(), ReplyQueue = queue ?? Queue, SentAt = DateTimeOffset.UtcNow });
    }

    public Task AckAsync(AgentAck ack, string? credential = null)
    {
        var m = TableWire.ToProto(ack, "agent-" + ack.SwitchName);
        m.Credential = credential ?? DistributionApp.Credentials.Issue(Fabric, ack.SwitchName);
        Acks.Enqueue((ack.SwitchName, ack.Version, ack.Applied));
        return _bus.Publish(new RouteAckSent { Fabric = Fabric, Payload = m.ToByteArray(), SentAt = DateTimeOffset.UtcNow });
    }

    public async Task ReleaseHeldAsync()
    {
        List<(string, TableUpdate)> held;
        lock (_gate)
        {
            HoldCongestion = false;
            held = [.. _held];
            _held.Clear();
        }
        foreach (var (sw, u) in held) await ApplyAsync(sw, u);
    }

    private async Task OnUpdateAsync(RouteUpdateOrdered m)
    {
        Interlocked.Increment(ref Updates);
        if (Down.ContainsKey(m.SwitchName)) return;
        var update = TableWire.FromProto(Pb.RouteUpdate.Parser.ParseFrom(m.Payload))!;
        Assert.Equal(m.SwitchName, update.SwitchName);
        lock (_gate)
        {
            if (HoldCongestion && !update.Priority)
            {
                _held.Add((m.SwitchName, update));
                return;
            }
        }
        await ApplyAsync(m.SwitchName, update);
    }

    private Task ApplyAsync(string sw, TableUpdate update)
    {
        AgentAck ack;
        lock (_gate)
        {
            var agent = _agents[sw];
            var before = agent.Current.Version;
            ack = agent.Apply(update);
            if (ack.Applied && agent.Current.Version != before)
            {
                Installs.Add((sw, agent.Current.Version, update.Delta is not null));
                if (CheckForwarding) Check(sw);
            }
        }
        return AckAsync(ack);
    }

    // Under the lock: the state every packet would see right after this install.
    private void Check(string installedAt)
    {
        var installed = _agents.ToDictionary(a => a.Key, a => a.Value.Current, StringComparer.Ordinal);
        var leaves = _topology.Switches.Where(s => s.Tier == SwitchTier.Leaf).ToList();
        foreach (var src in leaves)
            foreach (var dst in leaves)
                foreach (var c in Classes)
                    if (ForwardingCheck.Walk(installed, _neighbors, src.Name, new RouteKey(dst.Name, c)) is { } p)
                        Violations.Add($"after {installedAt} v{installed[installedAt].Version}: {p}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_handle is not null) await _handle.StopAsync();
        _handle = null;
    }
}
