using System.Diagnostics;
using System.Globalization;
using ControlPlane.Fabric;
using ControlPlane.FabricStore;
using ControlPlane.Inventory.Store;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ControlPlane.Benchmarks;

/// <summary>
/// Stores a 65,536-endpoint FT3 in a real PostgreSQL (binary COPY, one transaction) and loads it back,
/// against a row-by-row INSERT baseline measured in the same process.
/// Args: [--radix K] (default 64) [--baseline-rows N] (default 5000).
/// </summary>
public sealed class InventoryBenchmark : IBenchmarkSuite
{
    public string Name => "inventory";

    public string Description => "FT3 65,536 endpoints: generate, validate, store with COPY into PostgreSQL, load back; row-by-row baseline";

    public async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var radix = Arg(args, "--radix", 64);
        var baselineRows = Arg(args, "--baseline-rows", 5000);
        var ct = cancellationToken;

        var sw = Stopwatch.StartNew();
        await using var pg = await PostgresServer.StartAsync(ct);
        output.WriteLine($"postgres 15 started in {sw.Elapsed.TotalSeconds:F2} s on 127.0.0.1:{pg.Port} (fsync off, throwaway cluster)");
        var cs = await pg.CreateDatabaseAsync("bench", ct);
        var options = new DbContextOptionsBuilder<InventoryDbContext>().UseNpgsql(cs).Options;

        sw.Restart();
        var p = new GeneratorParameters { Name = "ft3", Kind = TopologyKind.Ft3, Radix = radix };
        var topology = FabricGenerator.Generate(p);
        var generateS = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var problems = ControlPlane.Fabric.Validation.TopologyValidator.Validate(topology);
        var validateS = sw.Elapsed.TotalSeconds;
        if (problems.Count > 0)
        {
            output.WriteLine($"generated fabric has {problems.Count} problems, first: {problems[0]}");
            return 1;
        }
        var nics = topology.Hosts.Sum(h => h.Nics.Count);
        long rows = topology.Switches.Count + topology.Hosts.Count + nics + topology.Links.Count + topology.Transceivers.Count + 2;
        output.WriteLine($"generate FT3 radix {radix}: {topology.EndpointCount:N0} endpoints, {topology.Switches.Count:N0} switches, {topology.SwitchLinkCount:N0} switch links, " +
                         $"{topology.Links.Count:N0} links, {topology.Transceivers.Count:N0} transceivers in {generateS:F2} s; validate {validateS:F2} s (no problems)");

        await using (var db = new InventoryDbContext(options))
            await new FabricRepository(db, TimeProvider.System).EnsureSchemaAsync(ct);

        sw.Restart();
        List<(string Step, TimeSpan Elapsed)> storeSteps;
        await using (var db = new InventoryDbContext(options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            await repo.CreateAsync(topology, Contracts.TopologyChangeKind.Created, "bench", "benchmark", ct);
            storeSteps = [.. repo.LastTimings];
        }
        var storeS = sw.Elapsed.TotalSeconds;
        var copyRate = rows / storeS;
        output.WriteLine($"store (COPY, one transaction): {rows:N0} rows in {storeS:F2} s = {copyRate:N0} rows/s   target < 10 s: {(storeS < 10 ? "met" : "MISSED")}");
        output.WriteLine("  steps: " + string.Join(", ", storeSteps.Select(s => $"{s.Step} {s.Elapsed.TotalSeconds:F2} s")));

        sw.Restart();
        FabricSnapshot? snap;
        List<(string Step, TimeSpan Elapsed)> loadSteps;
        await using (var db = new InventoryDbContext(options))
        {
            var repo = new FabricRepository(db, TimeProvider.System);
            snap = await repo.LoadSnapshotAsync("ft3", ct);
            loadSteps = [.. repo.LastTimings];
        }
        var loadS = sw.Elapsed.TotalSeconds;
        // The first load includes JIT and a cold pool; a service loads many times, so report a warm one too.
        sw.Restart();
        await using (var db = new InventoryDbContext(options))
            await new FabricRepository(db, TimeProvider.System).LoadSnapshotAsync("ft3", ct);
        var warmLoadS = sw.Elapsed.TotalSeconds;
        if (snap is null || snap.Topology.Links.Count != topology.Links.Count || snap.Topology.Transceivers.Count != topology.Transceivers.Count
            || snap.Topology.EndpointCount != topology.EndpointCount || !snap.Topology.Links[^1].Equals(topology.Links[^1]))
        {
            output.WriteLine("load returned a different fabric");
            return 1;
        }
        output.WriteLine($"load snapshot (raw readers): {rows:N0} rows in {loadS:F2} s = {rows / loadS:N0} rows/s   target < 3 s: {(loadS < 3 ? "met" : "MISSED")}");
        output.WriteLine("  steps: " + string.Join(", ", loadSteps.Select(s => $"{s.Step} {s.Elapsed.TotalSeconds:F2} s")));
        output.WriteLine($"load snapshot again (warm): {warmLoadS:F2} s = {rows / warmLoadS:N0} rows/s");

        // Baseline: the same link rows, one prepared INSERT per row (one round trip each), in one transaction.
        var slice = topology.Links.Take(baselineRows).ToList();
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync(ct);
        sw.Restart();
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await using var sink = await CommandSink.StartAsync(conn, tx, "links", FabricRepository.LinkColumns, ct);
            await FabricRepository.WriteLinkRowsAsync(sink, "baseline", slice, ct);
            await tx.CommitAsync(ct);
        }
        var rowByRowS = sw.Elapsed.TotalSeconds;
        var rowRate = slice.Count / rowByRowS;
        output.WriteLine($"baseline row-by-row INSERT: {slice.Count:N0} links in {rowByRowS:F2} s = {rowRate:N0} rows/s");
        output.WriteLine($"COPY vs row-by-row: {copyRate / rowRate:F1}x rows/s; the whole FT3 row by row would take about {rows / rowRate:F0} s");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary: generate {generateS:F2} s, validate {validateS:F2} s, store {storeS:F2} s, load {loadS:F2} s (warm {warmLoadS:F2} s), copy {copyRate:F0} rows/s, row-by-row {rowRate:F0} rows/s, ratio {copyRate / rowRate:F1}"));
        return storeS < 10 && loadS < 3 ? 0 : 1;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }
}
