using System.CommandLine;
using ControlPlane.Cli.Api;
using ControlPlane.Cli.Commands;
using ControlPlane.Fabric;

namespace ControlPlane.Cli;

/// <summary>
/// The fabricctl entry point, callable in-process: tests pass their own writers and an HTTP handler
/// (e.g. a WebApplicationFactory's) and get the exit code.
/// </summary>
public static class Cli
{
    /// <summary>Runs fabricctl with <paramref name="args"/>.</summary>
    /// <returns>The exit code (see <see cref="ExitCodes"/>).</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null,
        Func<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var ctx = new CliContext(output, error, handler, environment);
        var root = BuildRoot(ctx);
        var bare = args.Length == 0;
        var parse = root.Parse(bare ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) ctx.Error(Readable(e.Message));
            var verb = string.Join(' ', parse.CommandResult.Command == root ? [] : CommandPath(parse.CommandResult.Command, root));
            error.WriteLine($"Run 'fabricctl {(verb.Length > 0 ? verb + " " : "")}--help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            var rc = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
            return bare ? ExitCodes.Usage : rc; // no verb is a usage error, but show what there is
        }
        catch (CliUsageException ex)
        {
            ctx.Error(ex.Message);
            return ExitCodes.Usage;
        }
        catch (ServerProblemException ex)
        {
            ex.WriteTo(error);
            return ExitCodes.Problems;
        }
        catch (FabricInputException ex)
        {
            foreach (var e in ex.Errors) ctx.Error($"{e.Field}: {e.Reason}");
            return ExitCodes.Problems;
        }
        catch (HttpRequestException ex)
        {
            ctx.Error($"cannot reach the server: {ex.Message} (set --server or {CliContext.ServerVariable})");
            return ExitCodes.Unreachable;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ctx.Error("the server did not answer in time");
            return ExitCodes.Unreachable;
        }
    }

    /// <summary>
    /// The command tree. Each verb group is one line: add new groups (routes, simulate, bench, telemetry) here.
    /// </summary>
    public static RootCommand BuildRoot(CliContext ctx)
    {
        var root = new RootCommand("fabricctl: plan, generate, validate and operate AI GPU cluster fabrics (InfiniBand / RoCE multi-plane fat-trees)");
        root.Subcommands.Add(PlanCommands.Build(ctx));
        root.Subcommands.Add(TopologyCommands.Build(ctx));
        foreach (var c in InventoryCommands.Build(ctx)) root.Subcommands.Add(c);
        root.Subcommands.Add(RoutingCommands.BuildRoutes(ctx));
        root.Subcommands.Add(RoutingCommands.BuildSimulate(ctx));
        root.Subcommands.Add(BenchCommands.Build(ctx));
        root.Subcommands.Add(TelemetryCommands.Build(ctx));
        root.Subcommands.Add(LoopCommands.BuildLoop(ctx));
        root.Subcommands.Add(LoopCommands.BuildFault(ctx));
        return root;
    }

    /// <summary>"Cannot parse argument 'abc' for option '--radix' as expected type 'System.Int32'." -> "--radix: 'abc' is not a whole number".</summary>
    private static string Readable(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for (?:option|argument|command) '(.*)' as expected type '(.*)'\.?$");
        if (!m.Success) return message;
        var type = m.Groups[3].Value;
        var what = type.Contains("Int", StringComparison.Ordinal) ? "a whole number" : type.Contains("Double", StringComparison.Ordinal) ? "a number" : type;
        var name = m.Groups[2].Value.StartsWith('-') ? m.Groups[2].Value : "<id>"; // a command's own argument: only "link <id>" is numeric
        return $"{name}: '{m.Groups[1].Value}' is not {what}";
    }

    private static IEnumerable<string> CommandPath(Command c, Command root)
    {
        var names = new List<string>();
        var stack = new Stack<(Command, List<string>)>();
        stack.Push((root, []));
        while (stack.Count > 0)
        {
            var (cur, path) = stack.Pop();
            if (cur == c) return path;
            foreach (var s in cur.Subcommands) stack.Push((s, [.. path, s.Name]));
        }
        return names;
    }
}
