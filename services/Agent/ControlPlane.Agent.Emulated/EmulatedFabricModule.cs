using ControlPlane.Contracts;
using ControlPlane.Distribution;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agent.Emulated;

/// <summary>Composes the emulated fabric into a host: <c>builder.AddEmulatedFabric()</c> and <c>app.MapEmulatedFabric()</c>.</summary>
public static class EmulatedFabricModule
{
    /// <summary>Configuration key of the deployment's agent credential key.</summary>
    public const string CredentialKey = "Agents:CredentialKey";

    /// <summary>
    /// Registers options (section "Emulation"), read access to the fabric store, the agents' plumbing on Emulation:Queue,
    /// the emulated fabric, its status singleton, the worker and the FaultInjectionOrdered consumer. The emulated fabric
    /// provisions its own agents' credentials from Agents:CredentialKey and refuses to start without it. Idempotent.
    /// Call before AddControlPlaneBus().
    /// </summary>
    public static IHostApplicationBuilder AddEmulatedFabric(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(EmulatedFabric))) return builder;
        var o = new EmulationOptions();
        builder.Configuration.GetSection(EmulationOptions.Section).Bind(o);
        var problems = o.Problems().ToList();
        // The emulated fabric issues its agents' credentials from the same key the services check them with.
        problems.AddRange(new AgentKeyOptions { CredentialKey = builder.Configuration[CredentialKey] }.Problems());
        if (problems.Count > 0) throw new InvalidOperationException("the emulated fabric cannot start: " + string.Join("; ", problems));

        builder.AddControlPlaneOptions<EmulationOptions>(EmulationOptions.Section);
        builder.AddFabricReader();
        builder.AddAgentPlumbing(o.Queue);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddAgentCredentials();
        builder.Services.AddSingleton<EmulatedFabricStatus>();
        builder.Services.AddSingleton<EmulatedFabric>();
        builder.Services.AddHostedService<EmulatedFabricService>();
        // Its own queue per emulated fabric host, so every host sharing a broker sees every (published) fault command.
        builder.AddBusConsumers(x => x.AddConsumer<FaultInjectionConsumer>().Endpoint(e => e.Name = o.Queue + "-faults"));
        return builder;
    }

    /// <summary>Maps GET /api/v1/emulation/status, GET and POST /api/v1/emulation/faults.</summary>
    public static WebApplication MapEmulatedFabric(this WebApplication app)
    {
        var g = app.MapGroup("/api/v1/emulation");
        g.MapGet("/status", (EmulatedFabric fabric, EmulatedFabricStatus status) =>
        {
            fabric.RefreshStatus();
            return Results.Ok(status.Snapshot);
        });
        g.MapGet("/faults", (EmulatedFabric fabric) => Results.Ok(new { fabric = fabric.Fabric, faults = fabric.Loaded ? fabric.Faults() : [] }));
        g.MapPost("/faults", async (HttpRequest request, EmulatedFabric fabric, CancellationToken ct) =>
        {
            var body = await RequestBody.ReadJsonAsync<FaultRequest>(request, 64 * 1024, ct);
            if (!fabric.Loaded) throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Emulated fabric not loaded", $"fabric '{fabric.Fabric}' is not in the store yet");
            var trigger = "fault-" + Guid.NewGuid().ToString("N")[..12];
            FaultRecord rec;
            try
            {
                rec = await fabric.InjectAsync(body, trigger, ct);
            }
            catch (FabricInputException e)
            {
                throw RequestValidationException.From(e.Errors.Select(x => (x.Field, x.Reason)));
            }
            return Results.Accepted($"/api/v1/emulation/faults", new { triggerId = rec.TriggerId, fault = rec });
        });
        return app;
    }
}

/// <summary>Waits for the fabric in the store, creates the agents, then runs a period every Emulation:PeriodMs.</summary>
internal sealed class EmulatedFabricService(EmulatedFabric fabric, IServiceScopeFactory scopes, IOptions<EmulationOptions> options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<EmulatedFabricService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        try
        {
            await AgentKeepAliveService.WaitStartedAsync(lifetime, stoppingToken);
            FabricSnapshot? snap = null;
            var logged = false;
            while (snap is null)
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    snap = await scope.ServiceProvider.GetRequiredService<IFabricReader>().LoadSnapshotAsync(o.Fabric, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "reading fabric {Fabric} failed; retrying", o.Fabric);
                }
                if (snap is not null) break;
                fabric.SetState($"waiting for fabric '{o.Fabric}' in the store");
                if (!logged) logger.LogInformation("waiting for fabric {Fabric} to exist in the store", o.Fabric);
                logged = true;
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
            await fabric.InitializeAsync(snap, stoppingToken);
            var period = TimeSpan.FromMilliseconds(o.PeriodMs);
            // Periods start on a fixed cadence: a period's own work (emulation, spreading telemetry) does not stretch it.
            var next = time.GetUtcNow() + period;
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(next > time.GetUtcNow() ? next - time.GetUtcNow() : TimeSpan.Zero, time, stoppingToken);
                next += period;
                if (next < time.GetUtcNow()) next = time.GetUtcNow() + period; // fell behind: no catch-up burst
                try
                {
                    await fabric.RunPeriodAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "emulation period failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Applies <see cref="FaultInjectionOrdered"/> to the emulated fabric; bad commands are logged, counted and dropped.</summary>
public sealed class FaultInjectionConsumer(EmulatedFabric fabric, ILogger<FaultInjectionConsumer> logger) : IConsumer<FaultInjectionOrdered>
{
    /// <inheritdoc/>
    public async Task Consume(ConsumeContext<FaultInjectionOrdered> context)
    {
        var m = context.Message;
        if (m.Fabric != fabric.Fabric)
        {
            logger.LogInformation("fault {Trigger} for fabric '{Fabric}' ignored: this host emulates '{Mine}'", m.TriggerId, m.Fabric, fabric.Fabric);
            return;
        }
        if (!fabric.Loaded)
        {
            fabric.CountRejected();
            logger.LogWarning("fault {Trigger} dropped: fabric '{Fabric}' is not loaded yet", m.TriggerId, m.Fabric);
            return;
        }
        if (string.IsNullOrWhiteSpace(m.TriggerId))
        {
            fabric.CountRejected();
            logger.LogWarning("fault dropped: triggerId is required");
            return;
        }
        try
        {
            await fabric.InjectAsync(new FaultRequest { Kind = m.Kind, LinkId = m.LinkId, Switch = m.SwitchName, DurationMs = m.DurationMs }, m.TriggerId, context.CancellationToken);
        }
        catch (FabricInputException e)
        {
            logger.LogWarning("fault {Trigger} refused: {Errors}", m.TriggerId, string.Join("; ", e.Errors.Select(x => $"{x.Field}: {x.Reason}")));
        }
    }
}
