using ControlPlane.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.FabricStore;

/// <summary>Composes read access to the fabric store into a host: <c>builder.AddFabricReader()</c>.</summary>
public static class FabricStoreModule
{
    /// <summary>
    /// Registers the store (<c>ConnectionStrings:{connectionName}</c>, with its health check) and <see cref="IFabricReader"/>.
    /// Idempotent: every module that reads fabrics calls it, and an all-in-one host registers the store and its health check once.
    /// </summary>
    public static IHostApplicationBuilder AddFabricReader(this IHostApplicationBuilder builder, string connectionName = "inventory")
    {
        if (!builder.Services.Any(d => d.IsKeyedService && Equals(d.ServiceKey, typeof(InventoryDbContext)) && d.ServiceType == typeof(StoreDescriptor)))
            builder.AddControlPlaneStore<InventoryDbContext>(connectionName);
        builder.Services.TryAddScoped<FabricReader>();
        builder.Services.TryAddScoped<IFabricReader>(sp => sp.GetRequiredService<FabricReader>());
        return builder;
    }
}
