using ControlPlane.Hosting;
using ControlPlane.Telemetry.Service;

// The telemetry ingest service: embedded defaults (SQLite in ~/.local/share/fabric-controlplane, in-memory bus) unless configured otherwise,
// e.g. Store__Provider=Postgres ConnectionStrings__telemetry=... ConnectionStrings__inventory=... Bus__Transport=RabbitMq ConnectionStrings__rabbitmq=amqp://...
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTelemetryIngest();
builder.AddControlPlaneBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapTelemetryIngest();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
