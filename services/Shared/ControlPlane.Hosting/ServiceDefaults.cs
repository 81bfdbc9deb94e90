using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ControlPlane.Hosting;

/// <summary>Options every service shares (section "Service").</summary>
public sealed class ServiceOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Service";

    /// <summary>Service name in logs and traces; defaults to the application name.</summary>
    public string? Name { get; set; }

    /// <summary>OTLP endpoint; OTEL_EXPORTER_OTLP_ENDPOINT wins when set. Null means no exporter.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>The service defaults every host calls: options, JSON logs, problem details, health, OpenTelemetry.</summary>
public static class ServiceDefaults
{
    /// <summary>Tag of health checks that must pass for /readyz (database, bus).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Tag of health checks that must pass for /healthz (the process itself).</summary>
    public const string LiveTag = "live";

    /// <summary>Activity source and meter name prefix of control-plane code.</summary>
    public const string TelemetryPrefix = "ControlPlane";

    /// <summary>Binds <typeparamref name="T"/> to a configuration section and validates it when the host starts.</summary>
    public static OptionsBuilder<T> AddControlPlaneOptions<T>(this IHostApplicationBuilder builder, string section) where T : class =>
        builder.Services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();

    /// <summary>
    /// Binds <typeparamref name="T"/> from a section, validated at start by <paramref name="problems"/>: the host refuses to
    /// start and lists every problem (each message names its key).
    /// </summary>
    public static OptionsBuilder<T> AddControlPlaneOptions<T>(this IHostApplicationBuilder builder, string section, Func<T, IEnumerable<string>> problems) where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new ProblemsValidator<T>(problems));
        return builder.AddControlPlaneOptions<T>(section);
    }

    private sealed class ProblemsValidator<T>(Func<T, IEnumerable<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var p = problems(options).ToList();
            return p.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(p);
        }
    }

    /// <summary>The JSON conventions of the API: camelCase, enums as camelCase strings, unknown members rejected.</summary>
    public static void ConfigureApiJson(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        o.DictionaryKeyPolicy = JsonNamingPolicy.CamelCase;
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        o.NumberHandling = JsonNumberHandling.Strict;
        o.AllowTrailingCommas = false;
        if (!o.Converters.OfType<JsonStringEnumConverter>().Any())
            o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    /// <summary>Adds the defaults to a host.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddControlPlaneOptions<ServiceOptions>(ServiceOptions.Section);
        var serviceName = builder.Configuration[$"{ServiceOptions.Section}:Name"] ?? builder.Environment.ApplicationName;

        // Structured JSON console logs, one object per line.
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            o.UseUtcTimestamp = true;
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureApiJson(o.SerializerOptions));
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Instance ??= ctx.HttpContext.Request.Path;
            ctx.ProblemDetails.Extensions.TryAdd("traceId", ctx.HttpContext.TraceIdentifier);
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        var otlp = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? builder.Configuration[$"{ServiceOptions.Section}:OtlpEndpoint"];
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddMeter($"{TelemetryPrefix}.*", "MassTransit"))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/healthz") && !ctx.Request.Path.StartsWithSegments("/readyz"))
                .AddSource($"{TelemetryPrefix}.*", "MassTransit"));
        if (!string.IsNullOrWhiteSpace(otlp))
        {
            if (!Uri.TryCreate(otlp, UriKind.Absolute, out var endpoint))
                throw new InvalidOperationException($"OTLP endpoint '{otlp}' is not an absolute URI (OTEL_EXPORTER_OTLP_ENDPOINT or {ServiceOptions.Section}:OtlpEndpoint)");
            otel.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, endpoint);
        }
        return builder;
    }

    /// <summary>Maps /healthz (live) and /readyz (ready: checks tagged "ready") and the exception handler.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(LiveTag), ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteHealthAsync });
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // A plain line next to the JSON logs so a person running the host sees where to point a browser or the CLI.
            var addresses = app.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
            if (addresses is { Count: > 0 }) Console.WriteLine($"{app.Environment.ApplicationName} listening on {string.Join(", ", addresses)}");
        });
        return app;
    }

    private static Task WriteHealthAsync(HttpContext ctx, HealthReport report)
    {
        ctx.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return ctx.Response.WriteAsJsonAsync(body);
    }
}
