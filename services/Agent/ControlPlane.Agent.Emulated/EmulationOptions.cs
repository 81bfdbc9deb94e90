namespace ControlPlane.Agent.Emulated;

/// <summary>The emulated fabric (section "Emulation").</summary>
public sealed class EmulationOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Emulation";

    /// <summary>Workloads the emulated fabric can run.</summary>
    public static readonly IReadOnlyList<string> Workloads = ["moe-kv", "moe", "alltoall", "permutation", "kv", "moe-kv-hashed"];

    /// <summary>Run the emulated fabric (else a host runs a single agent).</summary>
    public bool Enabled { get; set; }

    /// <summary>Fabric to emulate; the emulation waits until it exists in the store.</summary>
    public string Fabric { get; set; } = "mpft";

    /// <summary>
    /// Workload: "moe-kv" (MoE EP all-to-all dispatch in class "ep" with a KV-cache background in class "kv", the
    /// default), "moe", "alltoall", "permutation", "kv", or "moe-kv-hashed" ("moe-kv" plus a permutation in the hashed
    /// class "other" of <see cref="HashedShare"/> of the EP bytes: hash collisions make some links hot that sprayed WCMP
    /// cannot see, the skewed load the congestion loop is for).
    /// </summary>
    public string Workload { get; set; } = "moe-kv";

    /// <summary>Seed of the workload generator.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>KV-cache background bytes as a fraction of the EP bytes in "moe-kv".</summary>
    public double KvShare { get; set; } = 0.5;

    /// <summary>Hashed background bytes as a fraction of the EP bytes in "moe-kv-hashed".</summary>
    public double HashedShare { get; set; } = 0.2;

    /// <summary>Emulation period: one telemetry batch per switch per period.</summary>
    public int PeriodMs { get; set; } = 1000;

    /// <summary>Queue the emulated agents receive route updates on (named in their hellos).</summary>
    public string Queue { get; set; } = "agents-emulated";

    /// <summary>Seconds of silence after which an agent says hello again.</summary>
    public double KeepAliveSeconds { get; set; } = 10;

    /// <summary>
    /// After every install, walk the installed tables (every path of every member) for the destinations the install
    /// changed and count loops and blackholes. Costly on large fabrics; meant for reliability tests.
    /// </summary>
    public bool CheckForwarding { get; set; }

    /// <summary>Each bad option, naming it.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Fabric)) yield return "Emulation:Fabric is required";
        if (!Workloads.Contains(Workload)) yield return $"Emulation:Workload must be one of {string.Join(", ", Workloads)}, got '{Workload}'";
        if (PeriodMs < 10 || PeriodMs > 3_600_000) yield return $"Emulation:PeriodMs must be between 10 and 3600000, got {PeriodMs}";
        if (string.IsNullOrWhiteSpace(Queue)) yield return "Emulation:Queue is required";
        if (!(KeepAliveSeconds > 0)) yield return $"Emulation:KeepAliveSeconds must be positive, got {KeepAliveSeconds}";
        if (!(HashedShare >= 0) || HashedShare > 100) yield return $"Emulation:HashedShare must be between 0 and 100, got {HashedShare}";
        if (!(KvShare >= 0) || KvShare > 100) yield return $"Emulation:KvShare must be between 0 and 100, got {KvShare}";
    }
}
