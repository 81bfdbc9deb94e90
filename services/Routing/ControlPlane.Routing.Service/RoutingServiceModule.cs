using ControlPlane.Distribution;
using ControlPlane.FabricStore;
using ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Routing.Service;

/// <summary>Composes the routing service into a host: <c>builder.AddRoutingService()</c> and <c>app.MapRoutingService()</c>.</summary>
public static class RoutingServiceModule
{
    /// <summary>
    /// Registers options (Routing, Agents:CredentialKey), read access to the inventory store (ConnectionStrings:inventory),
    /// the routers, the status singleton and the bus consumers (PortStateReported, TopologyChanged, LinkLoadSnapshot).
    /// Call before AddControlPlaneBus(). Idempotent.
    /// </summary>
    public static IHostApplicationBuilder AddRoutingService(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(RoutingRegistry))) return builder;
        builder.AddControlPlaneOptions<RoutingServiceOptions>(RoutingServiceOptions.Section, o => o.Problems());
        builder.AddAgentCredentials();
        builder.AddFabricReader();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RoutingStatus>();
        builder.Services.TryAddSingleton<IRoutesPublisher, BusRoutesPublisher>();
        builder.Services.AddSingleton<RoutingRegistry>();
        builder.Services.AddSingleton<PortEventIntake>(sp => new PortEventIntake(
            sp.GetRequiredService<RoutingRegistry>(), sp.GetRequiredService<RoutingStatus>(),
            sp.GetRequiredService<AgentCredentials>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<PortEventIntake>>()));
        builder.Services.AddHostedService<RoutingWorker>();
        builder.AddBusConsumers(x =>
        {
            x.AddConsumer<PortStateReportedConsumer>(typeof(PortStateReportedConsumerDefinition));
            x.AddConsumer<RoutingTopologyChangedConsumer>();
            x.AddConsumer<RoutingLinkLoadConsumer>();
            x.AddConsumer<RoutesRequestedConsumer>();
        });
        return builder;
    }

    /// <summary>Maps status, tables and health under /api/v1/routing.</summary>
    public static WebApplication MapRoutingService(this WebApplication app)
    {
        app.MapRoutingEndpoints();
        return app;
    }
}


