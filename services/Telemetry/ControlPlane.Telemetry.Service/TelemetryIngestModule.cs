using ControlPlane.Hosting;
using ControlPlane.FabricStore;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Telemetry.Service;

/// <summary>Composes telemetry ingest into a host: <c>builder.AddTelemetryIngest()</c> and <c>app.MapTelemetryIngest()</c>.</summary>
public static class TelemetryIngestModule
{
    /// <summary>
    /// Registers options (Telemetry, Telemetry:Pipeline), the series store (ConnectionStrings:telemetry), read access to the
    /// inventory store (ConnectionStrings:inventory) for the topology, the workers, and the bus consumers
    /// (TelemetryBatchReceived, TopologyChanged). Call before AddControlPlaneBus().
    /// </summary>
    public static IHostApplicationBuilder AddTelemetryIngest(this IHostApplicationBuilder builder)
    {
        builder.AddControlPlaneOptions<TelemetryServiceOptions>(TelemetryServiceOptions.Section, o => o.Problems());
        builder.AddControlPlaneOptions<TelemetryOptions>(TelemetryServiceOptions.PipelineSection,
            o => o.Validate().Select(e => $"{TelemetryServiceOptions.PipelineSection}:{e.Field}: {e.Reason}"));

        builder.AddControlPlaneStore<TelemetryDbContext>(TelemetryServiceOptions.ConnectionName);
        // The topology is read through the shared fabric reader; idempotent, so an all-in-one host that also composes
        // the inventory module (in either order) registers the store and its health check once.
        builder.AddFabricReader();

        builder.Services.AddSingleton(sp => new TelemetryMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton<ISeriesStore>(sp =>
        {
            var d = StoreDescriptor.For<TelemetryDbContext>(sp);
            var o = sp.GetRequiredService<IOptions<TelemetryServiceOptions>>().Value;
            return d.Provider == StoreProvider.Postgres ? new PostgresSeriesStore(d.ConnectionString, o) : new SqliteSeriesStore(d.ConnectionString, o);
        });
        builder.Services.AddSingleton<SeriesWriter>();
        builder.Services.AddSingleton<ShardRegistry>();
        builder.Services.AddHostedService<TopologyLoader>();
        builder.AddBusConsumers(x =>
        {
            x.AddConsumer<TelemetryBatchConsumer>(typeof(TelemetryBatchConsumerDefinition));
            x.AddConsumer<TopologyChangedConsumer>();
        });
        return builder;
    }

    /// <summary>Maps ingest, stats and the series queries under /api/v1/telemetry.</summary>
    public static WebApplication MapTelemetryIngest(this WebApplication app)
    {
        app.MapTelemetryEndpoints();
        return app;
    }
}


