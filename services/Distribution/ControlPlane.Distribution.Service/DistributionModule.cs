using ControlPlane.FabricStore;
using ControlPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Distribution.Service;

/// <summary>Composes route distribution into a host: <c>builder.AddDistribution()</c> and <c>app.MapDistribution()</c>.</summary>
public static class DistributionModule
{
    /// <summary>
    /// Registers options (Distribution, Agents:CredentialKey), the store (ConnectionStrings:distribution), read access to
    /// the inventory store for topologies, the per-fabric distributors, <see cref="DistributionStatus"/> and the bus
    /// consumers (RoutesComputed, AgentHelloSent, RouteAckSent, TopologyChanged). Call before AddControlPlaneBus().
    /// Idempotent.
    /// </summary>
    public static IHostApplicationBuilder AddDistribution(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(DistributorRegistry))) return builder;
        builder.AddControlPlaneOptions<DistributionServiceOptions>(DistributionServiceOptions.Section, o => o.Problems());
        builder.AddAgentCredentials();

        builder.AddControlPlaneStore<DistributionDbContext>(DistributionServiceOptions.ConnectionName);
        builder.AddFabricReader();
        builder.Services.AddSingleton<DistributionStore>();
        builder.Services.AddSingleton<DistributionIntake>();
        builder.Services.AddSingleton<DistributorRegistry>();
        builder.Services.AddSingleton<DistributionStatus>();
        builder.Services.AddHostedService<DistributionStartup>();
        builder.Services.AddHostedService<RoutesRequester>();
        builder.AddBusConsumers(x =>
        {
            x.AddConsumer<DistributionRoutesComputedConsumer>(typeof(DistributionRoutesComputedConsumerDefinition));
            x.AddConsumer<DistributionAgentHelloConsumer>();
            x.AddConsumer<DistributionRouteAckConsumer>();
            x.AddConsumer<DistributionTopologyChangedConsumer>();
        });
        return builder;
    }

    /// <summary>Maps the status API under /api/v1/distribution.</summary>
    public static WebApplication MapDistribution(this WebApplication app)
    {
        app.MapDistributionEndpoints();
        return app;
    }
}


