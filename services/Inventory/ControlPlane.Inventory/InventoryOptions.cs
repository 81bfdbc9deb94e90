using ControlPlane.Fabric;

namespace ControlPlane.Inventory;

/// <summary>Inventory limits and startup seed (section "Inventory").</summary>
public sealed class InventoryOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Inventory";

    /// <summary>Logical name of the connection string (ConnectionStrings:inventory).</summary>
    public const string ConnectionName = "inventory";

    /// <summary>Largest accepted request body; imports of big fabrics need more than the default.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest fabric accepted, in endpoints (NICs).</summary>
    public int MaxFabricEndpoints { get; set; } = GeneratorParameters.MaxEndpoints;

    /// <summary>Page size when the client gives no limit.</summary>
    public int DefaultPageSize { get; set; } = 100;

    /// <summary>Largest page size a client may ask for.</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>How long to wait for the bus when publishing a change after commit.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A fabric to generate at startup when the store has none.</summary>
    public SeedOptions Seed { get; set; } = new();

    /// <summary>Startup seed.</summary>
    public sealed class SeedOptions
    {
        /// <summary>Generate a fabric at startup when the store holds none.</summary>
        public bool Enabled { get; set; }

        /// <summary>Name of the seeded fabric.</summary>
        public string Name { get; set; } = "default";

        /// <summary>Generator kind (ft2, mpft, ft3, railOptimized).</summary>
        public TopologyKind Kind { get; set; } = TopologyKind.Mpft;

        /// <summary>Switch radix.</summary>
        public int Radix { get; set; } = 64;

        /// <summary>Planes (MPFT); null for the kind's default.</summary>
        public int? Planes { get; set; }

        /// <summary>Port speed.</summary>
        public int PortSpeedGbps { get; set; } = 400;
    }

    /// <summary>Problems with the options, for ValidateOnStart.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxRequestBodyBytes < 1024) yield return $"Inventory:MaxRequestBodyBytes must be at least 1024, got {MaxRequestBodyBytes}";
        if (MaxFabricEndpoints < 1 || MaxFabricEndpoints > GeneratorParameters.MaxEndpoints) yield return $"Inventory:MaxFabricEndpoints must be between 1 and {GeneratorParameters.MaxEndpoints}, got {MaxFabricEndpoints}";
        if (MaxPageSize < 1) yield return $"Inventory:MaxPageSize must be positive, got {MaxPageSize}";
        if (DefaultPageSize < 1 || DefaultPageSize > MaxPageSize) yield return $"Inventory:DefaultPageSize must be between 1 and MaxPageSize ({MaxPageSize}), got {DefaultPageSize}";
        if (PublishTimeout <= TimeSpan.Zero) yield return "Inventory:PublishTimeout must be positive";
    }
}
