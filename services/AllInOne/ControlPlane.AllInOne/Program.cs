using ControlPlane.AllInOne;

// The main job: every service in one process on the embedded defaults (SQLite in ~/.local/share/fabric-controlplane,
// in-memory bus), the DeepSeek-V3 MPFT with one emulated agent per switch, MoE all-to-all with KV-cache background,
// and a live one-line summary. Configuration as for the separate hosts (appsettings.json, environment, arguments).
var builder = WebApplication.CreateBuilder(args);
builder.AddAllModules();

var app = builder.Build();
app.MapAllModules();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
