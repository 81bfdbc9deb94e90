using ControlPlane.Distribution.Service;
using ControlPlane.Hosting;

// The route distribution service: embedded defaults (SQLite in ~/.local/share/fabric-controlplane, in-memory bus) unless configured otherwise,
// e.g. Store__Provider=Postgres ConnectionStrings__distribution=... ConnectionStrings__inventory=... Bus__Transport=RabbitMq ConnectionStrings__rabbitmq=amqp://...
// Agents__CredentialKey is required (the key agent credentials derive from).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDistribution();
builder.AddControlPlaneBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapDistribution();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
