using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.Hosting;

/// <summary>Transport of the message bus.</summary>
public enum BusTransport
{
    /// <summary>In-process (all-in-one, tests): the default.</summary>
    InMemory = 0,
    /// <summary>RabbitMQ at ConnectionStrings:rabbitmq (amqp://user:pass@host:port/vhost).</summary>
    RabbitMq = 1,
}

/// <summary>Bus options (section "Bus").</summary>
public sealed class BusOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Bus";

    /// <summary>Logical name of the RabbitMQ connection string.</summary>
    public const string ConnectionName = "rabbitmq";

    /// <summary>Transport: InMemory (default) or RabbitMq.</summary>
    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    /// <summary>Prefix of queue names, so several deployments can share a broker.</summary>
    public string? EndpointPrefix { get; set; }
}

/// <summary>Consumer registrations collected from modules until the host calls <see cref="BusExtensions.AddControlPlaneBus"/>.</summary>
internal sealed class BusModuleRegistry
{
    public List<Action<IBusRegistrationConfigurator>> Registrations { get; } = [];

    public bool Added { get; set; }
}

/// <summary>Adds MassTransit once for the whole host, with every module's consumers and the configured transport.</summary>
public static class BusExtensions
{
    /// <summary>A module registers its consumers here; they are added when the host calls <see cref="AddControlPlaneBus"/>.</summary>
    public static IHostApplicationBuilder AddBusConsumers(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> register)
    {
        var registry = Registry(builder.Services);
        if (registry.Added)
            throw new InvalidOperationException("consumers must be registered before AddControlPlaneBus() is called (it calls AddMassTransit once)");
        registry.Registrations.Add(register);
        return builder;
    }

    /// <summary>
    /// Calls AddMassTransit once with every module's consumers and the transport from Bus:Transport
    /// (InMemory or RabbitMq with ConnectionStrings:rabbitmq). A second call does nothing.
    /// </summary>
    public static IHostApplicationBuilder AddControlPlaneBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        var registry = Registry(builder.Services);
        if (registry.Added) return builder;
        registry.Added = true;
        builder.AddControlPlaneOptions<BusOptions>(BusOptions.Section)
            .Validate(o => Enum.IsDefined(o.Transport), "Bus:Transport must be InMemory or RabbitMq");

        var options = new BusOptions();
        builder.Configuration.GetSection(BusOptions.Section).Bind(options);
        var amqp = builder.Configuration.GetConnectionString(BusOptions.ConnectionName);
        Uri? amqpUri = null;
        if (options.Transport == BusTransport.RabbitMq)
        {
            if (string.IsNullOrWhiteSpace(amqp))
                throw new InvalidOperationException($"Bus:Transport is RabbitMq but ConnectionStrings:{BusOptions.ConnectionName} is not set");
            if (!Uri.TryCreate(amqp, UriKind.Absolute, out amqpUri) || amqpUri.Scheme is not ("amqp" or "amqps" or "rabbitmq"))
                throw new InvalidOperationException($"ConnectionStrings:{BusOptions.ConnectionName} must be amqp://user:pass@host:port/vhost");
        }

        builder.Services.AddMassTransit(x =>
        {
            x.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(options.EndpointPrefix, false));
            foreach (var register in registry.Registrations) register(x);
            configure?.Invoke(x);
            if (amqpUri is not null)
            {
                x.UsingRabbitMq((ctx, cfg) =>
                {
                    var user = Uri.UnescapeDataString(amqpUri.UserInfo.Split(':', 2)[0]);
                    var pass = amqpUri.UserInfo.Contains(':') ? Uri.UnescapeDataString(amqpUri.UserInfo.Split(':', 2)[1]) : "";
                    var vhost = amqpUri.AbsolutePath.Trim('/');
                    cfg.Host(amqpUri.Host, (ushort)(amqpUri.IsDefaultPort || amqpUri.Port < 0 ? 5672 : amqpUri.Port), string.IsNullOrEmpty(vhost) ? "/" : Uri.UnescapeDataString(vhost), h =>
                    {
                        if (!string.IsNullOrEmpty(user)) h.Username(user);
                        if (!string.IsNullOrEmpty(user)) h.Password(pass);
                    });
                    cfg.ConfigureEndpoints(ctx);
                });
            }
            else
            {
                x.UsingInMemory((ctx, cfg) => cfg.ConfigureEndpoints(ctx));
            }
        });
        return builder;
    }

    private static BusModuleRegistry Registry(IServiceCollection services)
    {
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(BusModuleRegistry))?.ImplementationInstance as BusModuleRegistry;
        if (existing is not null) return existing;
        var registry = new BusModuleRegistry();
        services.AddSingleton(registry);
        return registry;
    }
}
