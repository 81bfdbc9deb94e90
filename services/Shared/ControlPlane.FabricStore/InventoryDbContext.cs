using System.Text;
using Microsoft.EntityFrameworkCore;

namespace ControlPlane.FabricStore;

/// <summary>
/// The inventory tables. EF Core creates the schema (EnsureCreated) and serves the paged reads; the bulk
/// paths (COPY, batched inserts, snapshot load) use the same column names through raw ADO.NET.
/// </summary>
public sealed class InventoryDbContext(DbContextOptions<InventoryDbContext> options) : DbContext(options)
{
    public DbSet<FabricRow> Fabrics => Set<FabricRow>();
    public DbSet<SwitchRow> Switches => Set<SwitchRow>();
    public DbSet<HostRow> Hosts => Set<HostRow>();
    public DbSet<NicRow> Nics => Set<NicRow>();
    public DbSet<LinkRow> Links => Set<LinkRow>();
    public DbSet<TransceiverRow> Transceivers => Set<TransceiverRow>();
    public DbSet<VersionRow> Versions => Set<VersionRow>();
    public DbSet<DomThresholdsRow> DomThresholds => Set<DomThresholdsRow>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<FabricRow>(e =>
        {
            e.ToTable("fabrics");
            e.HasKey(x => x.Name);
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        b.Entity<SwitchRow>(e =>
        {
            e.ToTable("switches");
            e.HasKey(x => new { x.Fabric, x.Id });
            e.HasIndex(x => new { x.Fabric, x.Name }).IsUnique();
        });
        b.Entity<HostRow>(e =>
        {
            e.ToTable("hosts");
            e.HasKey(x => new { x.Fabric, x.Id });
            e.HasIndex(x => new { x.Fabric, x.Name });
        });
        b.Entity<NicRow>(e =>
        {
            e.ToTable("nics");
            e.HasKey(x => new { x.Fabric, x.HostId, x.NicIndex });
        });
        b.Entity<LinkRow>(e =>
        {
            e.ToTable("links");
            // No secondary indexes: they would slow every bulk store, and a filter by switch scans one fabric's links in milliseconds.
            e.HasKey(x => new { x.Fabric, x.Id });
        });
        b.Entity<TransceiverRow>(e =>
        {
            e.ToTable("transceivers");
            e.HasKey(x => new { x.Fabric, x.Id });
        });
        b.Entity<DomThresholdsRow>(e =>
        {
            e.ToTable("dom_thresholds");
            e.HasKey(x => new { x.Fabric, x.Id });
        });
        b.Entity<VersionRow>(e =>
        {
            e.ToTable("versions");
            e.HasKey(x => new { x.Fabric, x.Version });
        });

        foreach (var entity in b.Model.GetEntityTypes())
            foreach (var p in entity.GetProperties())
                p.SetColumnName(Column(p.Name));
    }

    /// <summary>Column name of a property: snake_case, avoiding SQL keywords (group, by).</summary>
    public static string Column(string property) => property switch
    {
        "Group" => "grp",
        "By" => "changed_by",
        _ => Snake(property),
    };

    private static string Snake(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsUpper(c))
            {
                var prevLower = i > 0 && char.IsLower(s[i - 1]);
                var nextLower = i > 0 && i + 1 < s.Length && char.IsUpper(s[i - 1]) && char.IsLower(s[i + 1]);
                if (prevLower || nextLower) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
