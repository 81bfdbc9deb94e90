using ControlPlane.Hosting;
using ControlPlane.Inventory;

// The inventory service: embedded defaults (SQLite in ~/.local/share/fabric-controlplane, in-memory bus) unless configured otherwise,
// e.g. Store__Provider=Postgres ConnectionStrings__inventory=... Bus__Transport=RabbitMq ConnectionStrings__rabbitmq=amqp://...
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddInventory();
builder.AddControlPlaneBus();

var app = builder.Build();
app.MapServiceDefaults();
app.MapInventory();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
