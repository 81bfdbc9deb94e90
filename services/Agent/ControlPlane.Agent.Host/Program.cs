using ControlPlane.Agent;
using ControlPlane.Agent.Emulated;
using ControlPlane.Hosting;

// The agent host on 127.0.0.1:5084: the whole emulated fabric when Emulation:Enabled (agents for every switch of
// Emulation:Fabric, a workload, fault injection), else one real switch's agent from section "Agent".
var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://127.0.0.1:5084");
builder.AddServiceDefaults();
var emulated = builder.Configuration.GetValue<bool>("Emulation:Enabled");
if (emulated) builder.AddEmulatedFabric();
else builder.AddSwitchAgent();
builder.AddControlPlaneBus();

var app = builder.Build();
app.MapServiceDefaults();
if (emulated) app.MapEmulatedFabric();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
