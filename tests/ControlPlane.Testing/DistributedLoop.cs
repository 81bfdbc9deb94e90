using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Hosting;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.Testing;

/// <summary>
/// Every service as its own process (`dotnet Host.dll`), configured only through the environment as the chart does:
/// inventory, telemetry, routing, distribution and the emulated fabric of agents, on one PostgreSQL database and one
/// RabbitMQ. The test process joins the bus to inject faults and follow convergence.
/// </summary>
public sealed class DistributedLoop : IAsyncDisposable
{
    private readonly Dictionary<string, string> _env;
    private IHost? _probe;

    private DistributedLoop(Dictionary<string, string> env) => _env = env;

    public HostProcess Inventory { get; private set; } = null!;
    public HostProcess Telemetry { get; private set; } = null!;
    public HostProcess Routing { get; private set; } = null!;
    public HostProcess Distribution { get; private set; } = null!;
    public HostProcess Agents { get; private set; } = null!;
    public ConvergenceWatch Watch => _probe!.Services.GetRequiredService<ConvergenceWatch>();
    public IBus Bus => _probe!.Services.GetRequiredService<IBus>();
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<DistributedLoop> StartAsync(string postgres, string amqp, int radix = 8, bool checkForwarding = true)
    {
        var env = new Dictionary<string, string>
        {
            ["Store__Provider"] = "Postgres",
            ["ConnectionStrings__inventory"] = postgres,
            ["ConnectionStrings__telemetry"] = postgres,
            ["ConnectionStrings__distribution"] = postgres,
            ["ConnectionStrings__routing"] = postgres,
            ["Bus__Transport"] = "RabbitMq",
            ["ConnectionStrings__rabbitmq"] = amqp,
            ["Agents__CredentialKey"] = "end-to-end-test-key-" + Guid.NewGuid().ToString("N"),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Inventory__Seed__Enabled"] = "true",
            ["Inventory__Seed__Name"] = "mpft",
            ["Inventory__Seed__Kind"] = "mpft",
            ["Inventory__Seed__Radix"] = radix.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Routing__Adaptive"] = "false",
            ["Emulation__Enabled"] = "true",
            ["Emulation__Fabric"] = "mpft",
            ["Emulation__PeriodMs"] = "500",
            ["Emulation__CheckForwarding"] = checkForwarding ? "true" : "false",
        };
        var loop = new DistributedLoop(env);
        try
        {
            loop.Inventory = await HostProcess.StartAsync("inventory", HostProcess.HostAssembly("Inventory", "ControlPlane.Inventory.Host"), env);
            var hosts = await Task.WhenAll(
                HostProcess.StartAsync("telemetry", HostProcess.HostAssembly("Telemetry", "ControlPlane.Telemetry.Host"), env),
                HostProcess.StartAsync("routing", HostProcess.HostAssembly("Routing", "ControlPlane.Routing.Host"), env),
                HostProcess.StartAsync("distribution", HostProcess.HostAssembly("Distribution", "ControlPlane.Distribution.Host"), env));
            (loop.Telemetry, loop.Routing, loop.Distribution) = (hosts[0], hosts[1], hosts[2]);
            loop.Agents = await loop.StartAgentsAsync();

            var b = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "RabbitMq", ["ConnectionStrings:rabbitmq"] = amqp, ["Logging:LogLevel:Default"] = "Warning" });
            b.Services.AddSingleton<ConvergenceWatch>();
            b.AddBusConsumers(x => x.AddConsumer<ConvergenceProbe>());
            b.AddControlPlaneBus();
            loop._probe = b.Build();
            await loop._probe.StartAsync();
            return loop;
        }
        catch
        {
            await loop.DisposeAsync();
            throw;
        }
    }

    public Task<HostProcess> StartAgentsAsync() => HostProcess.StartAsync("agents", HostProcess.HostAssembly("Agent", "ControlPlane.Agent.Host"), _env);

    /// <summary>Kills the agents' process (a crash: nothing flushed) and starts a new one: every agent comes back with empty data planes.</summary>
    public async Task RestartAgentsAsync()
    {
        await Agents.KillAsync();
        await Agents.DisposeAsync();
        Agents = await StartAgentsAsync();
    }

    public async Task<JsonElement> GetAsync(HostProcess host, string path)
    {
        using var r = await Http.GetAsync(host.BaseUrl + path);
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"{host.Name} {path}: {(int)r.StatusCode} {text}\n{host.LogTail()}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>Waits until every host says it is ready (/readyz: its store and its bus connection) and the probe's bus is healthy.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        foreach (var h in new[] { Inventory, Telemetry, Routing, Distribution, Agents })
        {
            while (true)
            {
                try
                {
                    using var r = await Http.GetAsync(h.BaseUrl + "/readyz");
                    if (r.IsSuccessStatusCode) break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{h.Name} not ready\n{h.LogTail(30)}");
                await Task.Delay(250);
            }
        }
        var bus = _probe!.Services.GetRequiredService<IBusControl>();
        while (bus.CheckHealth().Status != BusHealthStatus.Healthy)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the test's own bus connection did not come back");
            await Task.Delay(250);
        }
    }

    /// <summary>Waits until every switch has acknowledged its desired table and every emulated agent holds one.</summary>
    public async Task WaitInSyncAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var d = (await GetAsync(Distribution, "/api/v1/distribution/fabrics/mpft/status")).GetProperty("summary");
                var e = await GetAsync(Agents, "/api/v1/emulation/status");
                last = $"distribution {d}; emulation {e}";
                var switches = d.GetProperty("switches").GetInt32();
                if (switches > 0 && d.GetProperty("inSync").GetInt32() == switches && d.GetProperty("rollout").ValueKind == JsonValueKind.Null
                    && e.GetProperty("agents").GetInt32() == switches && e.GetProperty("minVersion").GetInt64() > 0)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or KeyNotFoundException)
            {
                last = ex.Message;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"not in sync: {last}\n--- distribution ---\n{Distribution.LogTail(30)}\n--- routing ---\n{Routing.LogTail(30)}\n--- agents ---\n{Agents.LogTail(30)}");
    }

    /// <summary>Orders a fault over the bus (as a chaos tool would) and waits for its convergence.</summary>
    public async Task<RoutesConverged> InjectAndConvergeAsync(FaultKind kind, int? link = null, string? sw = null, TimeSpan? timeout = null)
    {
        var trigger = "xp-" + Guid.NewGuid().ToString("N")[..12];
        var wait = Watch.WaitFor(trigger);
        await Bus.Publish(new FaultInjectionOrdered { Fabric = "mpft", Kind = kind, LinkId = link, SwitchName = sw, TriggerId = trigger });
        var done = await Task.WhenAny(wait, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (done != wait)
            throw new TimeoutException($"no convergence for {kind} {link}{sw}\n--- routing ---\n{Routing.LogTail(30)}\n--- distribution ---\n{Distribution.LogTail(30)}\n--- agents ---\n{Agents.LogTail(30)}");
        return (await wait).Event;
    }

    public async ValueTask DisposeAsync()
    {
        if (_probe is not null)
        {
            try { await _probe.StopAsync(); } catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
            _probe.Dispose();
        }
        foreach (var h in new[] { Agents, Distribution, Routing, Telemetry, Inventory })
            if (h is not null) await h.DisposeAsync();
        Http.Dispose();
    }
}
