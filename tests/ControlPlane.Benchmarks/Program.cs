using System.Reflection;
using ControlPlane.Benchmarks;

// Finds every IBenchmarkSuite in this assembly; `-- <name> [args]` runs one, `-- all` runs them in turn.
var suites = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
    .OrderBy(s => s.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: ControlPlane.Benchmarks <suite|all> [args]");
    foreach (var s in suites) Console.WriteLine($"  {s.Name,-12} {s.Description}");
    return args.Length == 0 ? 2 : 0;
}

var selected = args[0] == "all" ? suites : suites.Where(s => s.Name == args[0]).ToList();
if (selected.Count == 0)
{
    Console.Error.WriteLine($"unknown suite '{args[0]}'; known: {string.Join(", ", suites.Select(s => s.Name))}");
    return 2;
}
var rc = 0;
foreach (var suite in selected)
{
    Console.WriteLine($"== {suite.Name}: {suite.Description}");
    rc |= await suite.RunAsync(args[1..], Console.Out, CancellationToken.None);
}
return rc;
