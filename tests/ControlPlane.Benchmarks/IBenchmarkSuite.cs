namespace ControlPlane.Benchmarks;

/// <summary>A benchmark suite that prints figures: ratios against a baseline run in the same process, plus absolute numbers.</summary>
public interface IBenchmarkSuite
{
    /// <summary>Name used on the command line, e.g. "routing".</summary>
    string Name { get; }

    /// <summary>One line saying what it measures.</summary>
    string Description { get; }

    /// <summary>Runs the suite, writes its figures to <paramref name="output"/>, returns a process exit code.</summary>
    Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken);
}
