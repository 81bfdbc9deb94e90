using ControlPlane.Hosting;
using ControlPlane.Routing.Service;

// The routing service: embedded defaults (the inventory's SQLite store in ~/.local/share/fabric-controlplane, in-memory bus)
// unless configured otherwise, e.g. Store__Provider=Postgres ConnectionStrings__inventory=... Bus__Transport=RabbitMq
// ConnectionStrings__rabbitmq=amqp://... Agents__CredentialKey is required (the secret agent credentials derive from).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRoutingService();
builder.AddControlPlaneBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapRoutingService();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
