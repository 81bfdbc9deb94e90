using ControlPlane.Agent.Emulated;
using ControlPlane.Distribution.Service;
using ControlPlane.Hosting;
using ControlPlane.Inventory;
using ControlPlane.Routing.Service;
using ControlPlane.Telemetry.Service;

namespace ControlPlane.AllInOne;

/// <summary>Every module in one host: the main job's Program and the convergence benchmark compose the same way.</summary>
public static class AllInOneHost
{
    /// <summary>Adds every module; <paramref name="beforeBus"/> may register more consumers before the bus is added.</summary>
    public static WebApplicationBuilder AddAllModules(this WebApplicationBuilder builder, Action<WebApplicationBuilder>? beforeBus = null)
    {
        builder.AddAllInOneDefaults();
        builder.AddServiceDefaults();
        builder.AddInventory();
        builder.AddTelemetryIngest();
        builder.AddRoutingService();
        builder.AddDistribution();
        builder.AddEmulatedFabric();
        builder.AddLiveSummary();
        beforeBus?.Invoke(builder);
        builder.AddControlPlaneBus();
        return builder;
    }

    /// <summary>Maps every module's endpoints.</summary>
    public static WebApplication MapAllModules(this WebApplication app)
    {
        app.MapServiceDefaults();
        app.MapInventory();
        app.MapTelemetryIngest();
        app.MapRoutingService();
        app.MapDistribution();
        app.MapEmulatedFabric();
        return app;
    }
}
