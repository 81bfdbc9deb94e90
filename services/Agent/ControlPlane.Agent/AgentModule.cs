using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Fabric;
using ControlPlane.Hosting;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agent;

/// <summary>One real switch's agent (section "Agent").</summary>
public sealed class AgentOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Agent";

    /// <summary>Fabric the switch belongs to.</summary>
    public string Fabric { get; set; } = "";

    /// <summary>Switch name as in the inventory.</summary>
    public string Switch { get; set; } = "";

    /// <summary>Agent id; default "agent-{Switch}".</summary>
    public string? AgentId { get; set; }

    /// <summary>The switch's own credential (provisioned from the deployment key).</summary>
    public string Credential { get; set; } = "";

    /// <summary>Queue updates come back on; default "agent-{Switch}".</summary>
    public string? Queue { get; set; }

    /// <summary>Ports of the switch.</summary>
    public int Radix { get; set; }

    /// <summary>Buckets per group.</summary>
    public int GroupSize { get; set; } = 64;

    /// <summary>Groups the data plane holds.</summary>
    public int MaxGroups { get; set; } = ControlPlane.Fabric.Switch.DefaultMaxGroups;

    /// <summary>Seconds of silence after which the agent says hello again.</summary>
    public double KeepAliveSeconds { get; set; } = 10;

    /// <summary>Each bad option, naming it.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Fabric)) yield return "Agent:Fabric is required";
        if (string.IsNullOrWhiteSpace(Switch)) yield return "Agent:Switch is required";
        if (string.IsNullOrWhiteSpace(Credential)) yield return "Agent:Credential is required (the switch's own credential)";
        if (Radix < 1 || Radix > 4096) yield return $"Agent:Radix must be between 1 and 4096, got {Radix}";
        if (GroupSize < 1 || GroupSize > SwitchCapacity.DefaultMaxGroupSize) yield return $"Agent:GroupSize must be between 1 and {SwitchCapacity.DefaultMaxGroupSize}, got {GroupSize}";
        if (MaxGroups < 1) yield return $"Agent:MaxGroups must be at least 1, got {MaxGroups}";
        if (!(KeepAliveSeconds > 0)) yield return $"Agent:KeepAliveSeconds must be positive, got {KeepAliveSeconds}";
    }

    internal string QueueName => string.IsNullOrWhiteSpace(Queue) ? $"agent-{Switch}" : Queue;
}

/// <summary>Composes switch agents into a host.</summary>
public static class AgentModule
{
    /// <summary>
    /// The agent plumbing shared by a single agent and the emulated fabric: the directory, the consumer of
    /// RouteUpdateOrdered on <paramref name="queue"/>, re-hello when that queue (re)connects, and the keepalive loop.
    /// Idempotent for one queue; a host serves one agents' queue. Call before AddControlPlaneBus().
    /// </summary>
    public static IHostApplicationBuilder AddAgentPlumbing(this IHostApplicationBuilder builder, string queue)
    {
        if (string.IsNullOrWhiteSpace(queue)) throw new InvalidOperationException("the agents' queue name is required");
        var existing = builder.Services.FirstOrDefault(d => d.ServiceType == typeof(AgentQueue))?.ImplementationInstance as AgentQueue;
        if (existing is not null)
        {
            if (existing.Name != queue) throw new InvalidOperationException($"this host already serves agents on queue '{existing.Name}', cannot add '{queue}'");
            return builder;
        }
        builder.Services.AddSingleton(new AgentQueue(queue));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AgentDirectory>();
        builder.Services.AddReceiveEndpointObserver<AgentEndpointObserver>();
        builder.Services.AddHostedService<AgentKeepAliveService>();
        builder.AddBusConsumers(x => x.AddConsumer<RouteUpdateConsumer>().Endpoint(e => e.Name = queue));
        return builder;
    }

    /// <summary>
    /// One real switch's agent from section "Agent" (Fabric, Switch, Credential, Queue, Radix, GroupSize, MaxGroups,
    /// KeepAliveSeconds). The data plane is an <see cref="IDataPlane"/> from DI: a vendor registers theirs before this call;
    /// otherwise the in-memory reference is used. Refuses to start with the list of missing or bad options.
    /// </summary>
    public static IHostApplicationBuilder AddSwitchAgent(this IHostApplicationBuilder builder)
    {
        var o = new AgentOptions();
        builder.Configuration.GetSection(AgentOptions.Section).Bind(o);
        var problems = o.Problems().ToList();
        if (problems.Count > 0) throw new InvalidOperationException("the switch agent cannot start: " + string.Join("; ", problems) + " (or set Emulation:Enabled=true to run the emulated fabric)");
        builder.AddControlPlaneOptions<AgentOptions>(AgentOptions.Section);
        builder.AddAgentPlumbing(o.QueueName);
        builder.Services.TryAddSingleton<IDataPlane>(_ => new InMemoryDataPlane(o.Radix, new SwitchCapacity(o.MaxGroups, o.Radix, SwitchCapacity.DefaultMaxGroupSize)));
        builder.Services.AddHostedService<SingleAgentService>();
        return builder;
    }
}

/// <summary>Creates the single agent and says hello once the host has started.</summary>
internal sealed class SingleAgentService(IOptions<AgentOptions> options, IDataPlane dataPlane, AgentDirectory directory, AgentQueue queue, IBus bus,
    TimeProvider time, IHostApplicationLifetime lifetime, ILoggerFactory logs) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var log = logs.CreateLogger<SwitchAgent>();
        var agent = new SwitchAgent(new AgentIdentity(o.Fabric, o.Switch, o.AgentId ?? $"agent-{o.Switch}", o.Credential), dataPlane, o.GroupSize,
            new BusAgentTransport(bus, queue.Name, time), time, log, TimeSpan.FromSeconds(o.KeepAliveSeconds));
        directory.Register(agent);
        await AgentKeepAliveService.WaitStartedAsync(lifetime, stoppingToken);
        try
        {
            await agent.StartAsync(stoppingToken);
            log.LogInformation("agent {Agent} for {Fabric}/{Switch} said hello, receiving updates on queue '{Queue}'", agent.Identity.AgentId, o.Fabric, o.Switch, queue.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "first hello failed; the keepalive will retry");
        }
        try { await Task.Delay(Timeout.Infinite, stoppingToken); } catch (OperationCanceledException) { }
        await agent.DisposeAsync();
    }
}

/// <summary>Says hello again for agents that heard nothing for their keepalive interval (every second, over the directory).</summary>
public sealed class AgentKeepAliveService(AgentDirectory directory, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<AgentKeepAliveService> logger) : BackgroundService
{
    /// <summary>Waits until every hosted service (the bus included) has started.</summary>
    public static async Task WaitStartedAsync(IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        if (lifetime.ApplicationStarted.IsCancellationRequested) return;
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = lifetime.ApplicationStarted.Register(() => tcs.TrySetResult());
        using var b = ct.Register(() => tcs.TrySetCanceled(ct));
        await tcs.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WaitStartedAsync(lifetime, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                foreach (var a in directory.All)
                {
                    try
                    {
                        await a.KeepAliveAsync(stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogWarning(ex, "{Switch}: keepalive hello failed", a.SwitchName);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
