using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.Hosting;

/// <summary>Which database engine backs a service's store.</summary>
public enum StoreProvider
{
    /// <summary>Embedded SQLite file: the default, no server needed.</summary>
    Sqlite = 0,
    /// <summary>PostgreSQL through Npgsql.</summary>
    Postgres = 1,
}

/// <summary>Store options (section "Store"). The connection string comes from ConnectionStrings:&lt;logical name&gt;.</summary>
public sealed class StoreOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Store";

    /// <summary>Engine: Sqlite (default) or Postgres.</summary>
    public StoreProvider Provider { get; set; } = StoreProvider.Sqlite;

    /// <summary>
    /// Folder for SQLite files when no connection string is given. Defaults to the user's local data folder
    /// (~/.local/share/fabric-controlplane on Linux), so a run from any working directory finds the same store
    /// and never writes into the source tree.
    /// </summary>
    public string DataDirectory { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "fabric-controlplane");
}

/// <summary>What a module needs to know about its store at run time (bulk paths differ per engine).</summary>
/// <param name="Provider">The engine.</param>
/// <param name="ConnectionString">The resolved connection string.</param>
/// <param name="ContextType">The DbContext it belongs to.</param>
public sealed record StoreDescriptor(StoreProvider Provider, string ConnectionString, Type ContextType)
{
    /// <summary>The store registered for <typeparamref name="TContext"/>.</summary>
    public static StoreDescriptor For<TContext>(IServiceProvider services) where TContext : DbContext =>
        services.GetRequiredKeyedService<StoreDescriptor>(typeof(TContext));
}

/// <summary>Registers a module's DbContext on PostgreSQL or SQLite, chosen by configuration.</summary>
public static class StoreExtensions
{
    /// <summary>
    /// Adds <typeparamref name="TContext"/> using Store:Provider (Sqlite|Postgres) and ConnectionStrings:<paramref name="connectionName"/>.
    /// SQLite without a connection string uses a file under Store:DataDirectory. Adds a "ready" health check that opens a connection.
    /// </summary>
    public static TBuilder AddControlPlaneStore<TContext, TBuilder>(this TBuilder builder, string connectionName)
        where TContext : DbContext
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddControlPlaneOptions<StoreOptions>(StoreOptions.Section)
            .Validate(o => Enum.IsDefined(o.Provider), "Store:Provider must be Sqlite or Postgres");
        var descriptor = Describe<TContext>(builder.Configuration, connectionName);
        // Keyed by context type: an all-in-one host has several modules, each with its own store.
        builder.Services.AddKeyedSingleton<StoreDescriptor>(typeof(TContext), descriptor);
        builder.Services.AddDbContext<TContext>(o => Configure(o, descriptor));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"store-{connectionName}",
            sp => new DbContextHealthCheck<TContext>(sp),
            HealthStatus.Unhealthy,
            [ServiceDefaults.ReadyTag],
            TimeSpan.FromSeconds(5)));
        return builder;
    }

    /// <summary>Same as the generic overload with the host builder type inferred.</summary>
    public static IHostApplicationBuilder AddControlPlaneStore<TContext>(this IHostApplicationBuilder builder, string connectionName)
        where TContext : DbContext => builder.AddControlPlaneStore<TContext, IHostApplicationBuilder>(connectionName);

    /// <summary>Resolves provider and connection string from configuration, failing with the key to set.</summary>
    public static StoreDescriptor Describe<TContext>(IConfiguration configuration, string connectionName)
    {
        var options = new StoreOptions();
        configuration.GetSection(StoreOptions.Section).Bind(options);
        var cs = configuration.GetConnectionString(connectionName);
        if (options.Provider == StoreProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(cs))
                throw new InvalidOperationException($"Store:Provider is Postgres but ConnectionStrings:{connectionName} is not set");
            return new StoreDescriptor(StoreProvider.Postgres, cs, typeof(TContext));
        }
        if (string.IsNullOrWhiteSpace(cs))
        {
            Directory.CreateDirectory(options.DataDirectory);
            cs = new SqliteConnectionStringBuilder { DataSource = Path.Combine(options.DataDirectory, $"{connectionName}.db"), Pooling = true }.ConnectionString;
        }
        else
        {
            var dir = Path.GetDirectoryName(new SqliteConnectionStringBuilder(cs).DataSource);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        return new StoreDescriptor(StoreProvider.Sqlite, cs, typeof(TContext));
    }

    /// <summary>Points EF Core at the store.</summary>
    public static void Configure(DbContextOptionsBuilder o, StoreDescriptor d)
    {
        if (d.Provider == StoreProvider.Postgres) o.UseNpgsql(d.ConnectionString);
        else o.UseSqlite(d.ConnectionString);
    }
}

/// <summary>Ready when the store answers a connection.</summary>
internal sealed class DbContextHealthCheck<TContext>(IServiceProvider services) : IHealthCheck where TContext : DbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TContext>();
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy($"{db.Database.ProviderName} reachable")
                : HealthCheckResult.Unhealthy($"{db.Database.ProviderName} not reachable");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("store not reachable", e);
        }
    }
}
