using System.Collections.Concurrent;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Agent;

/// <summary>The agents one host serves, by switch name (one host may serve one real switch or a whole emulated fabric).</summary>
public sealed class AgentDirectory
{
    private readonly ConcurrentDictionary<string, SwitchAgent> _agents = new(StringComparer.Ordinal);
    private long _dropped;

    /// <summary>Adds (or replaces) the agent of a switch.</summary>
    public void Register(SwitchAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        _agents[agent.SwitchName] = agent;
    }

    /// <summary>The agent of a switch, or null.</summary>
    public SwitchAgent? Find(string switchName) => _agents.GetValueOrDefault(switchName);

    /// <summary>Every agent served here.</summary>
    public IReadOnlyCollection<SwitchAgent> All => (IReadOnlyCollection<SwitchAgent>)_agents.Values;

    /// <summary>Agents served.</summary>
    public int Count => _agents.Count;

    /// <summary>Updates dropped because their switch (or fabric) is not served here, or its agent was down.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    internal void CountDrop() => Interlocked.Increment(ref _dropped);

    /// <summary>Says hello for every running agent (after a reconnect); failures are logged, the keepalive retries.</summary>
    public async Task HelloAllAsync(ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var a in _agents.Values)
        {
            try
            {
                await a.SayHelloAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "{Switch}: hello failed; the keepalive will retry", a.SwitchName);
            }
        }
    }
}

/// <summary>
/// Receives <see cref="RouteUpdateOrdered"/> and <see cref="RouteUpdatesOrdered"/> (several for this host at once) on the
/// agents' queue and hands each update to its switch's agent loop.
/// </summary>
public sealed class RouteUpdateConsumer(AgentDirectory directory, ILogger<RouteUpdateConsumer> logger) : IConsumer<RouteUpdateOrdered>, IConsumer<RouteUpdatesOrdered>
{
    /// <inheritdoc/>
    public Task Consume(ConsumeContext<RouteUpdateOrdered> context)
    {
        Dispatch(context.Message);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task Consume(ConsumeContext<RouteUpdatesOrdered> context)
    {
        var m = context.Message;
        if (m.Updates is null)
        {
            directory.CountDrop();
            logger.LogWarning("route update batch for fabric '{Fabric}' dropped: updates is missing", m.Fabric);
            return Task.CompletedTask;
        }
        foreach (var u in m.Updates)
        {
            if (u is null)
            {
                directory.CountDrop();
                logger.LogWarning("route update batch for fabric '{Fabric}': a null update dropped", m.Fabric);
                continue;
            }
            Dispatch(u);
        }
        return Task.CompletedTask;
    }

    private void Dispatch(RouteUpdateOrdered m)
    {
        var agent = string.IsNullOrEmpty(m.SwitchName) ? null : directory.Find(m.SwitchName);
        if (agent is null || agent.Identity.Fabric != m.Fabric)
        {
            directory.CountDrop();
            // Another fabric's update is another host's business; a switch of ours that we do not serve is a misroute.
            var level = agent is null && directory.All.Any(a => a.Identity.Fabric == m.Fabric) ? LogLevel.Warning : LogLevel.Debug;
            logger.Log(level, "route update for switch '{Switch}' of fabric '{Fabric}' dropped: not served by this host", m.SwitchName, m.Fabric);
            return;
        }
        if (m.Payload is null || !agent.Enqueue(m.Payload))
        {
            directory.CountDrop();
            logger.LogInformation("route update for switch '{Switch}' dropped: {Why}", m.SwitchName, m.Payload is null ? "no payload" : "the agent is down");
        }
    }
}

/// <summary>Says hello for every agent when the agents' queue becomes ready (start, and again after every reconnect).</summary>
internal sealed class AgentEndpointObserver(AgentDirectory directory, AgentQueue queue, ILogger<AgentEndpointObserver> logger) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready)
    {
        if (!ready.InputAddress.AbsolutePath.TrimEnd('/').EndsWith("/" + queue.Name, StringComparison.Ordinal)) return Task.CompletedTask;
        _ = Task.Run(() => directory.HelloAllAsync(logger, CancellationToken.None));
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
}

/// <summary>The queue this host's agents receive updates on.</summary>
/// <param name="Name">Queue name, named in every hello.</param>
public sealed record AgentQueue(string Name);
