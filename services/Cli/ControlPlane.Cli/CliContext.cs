using Spectre.Console;

namespace ControlPlane.Cli;

/// <summary>What every command needs: where to write, how to reach the server, the environment.</summary>
public sealed class CliContext
{
    /// <summary>Environment variable holding the default server URL.</summary>
    public const string ServerVariable = "FABRICCTL_SERVER";

    /// <summary>Environment variable holding the default fabric name.</summary>
    public const string FabricVariable = "FABRICCTL_FABRIC";

    /// <summary>Server used when neither --server nor FABRICCTL_SERVER says otherwise.</summary>
    public const string DefaultServer = "http://127.0.0.1:5080";

    private readonly HttpMessageHandler? _handler;

    public CliContext(TextWriter output, TextWriter error, HttpMessageHandler? handler, Func<string, string?>? environment = null)
    {
        Out = output;
        Err = error;
        _handler = handler;
        Environment = environment ?? System.Environment.GetEnvironmentVariable;
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected && Environment("NO_COLOR") is null;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        // Pipes and tests get wide, unwrapped tables; a terminal keeps its own width.
        if (!terminal) Console.Profile.Width = 250;
    }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Err { get; }

    /// <summary>Spectre console over <see cref="Out"/> for tables.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Reads an environment variable.</summary>
    public Func<string, string?> Environment { get; }

    /// <summary>The default server: FABRICCTL_SERVER or <see cref="DefaultServer"/>.</summary>
    public string DefaultServerUrl => Environment(ServerVariable) is { Length: > 0 } s ? s : DefaultServer;

    /// <summary>An HTTP client for a server; the injected handler (tests) or a real one.</summary>
    public HttpClient CreateClient(Uri server) =>
        new(_handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }, disposeHandler: _handler is null)
        {
            BaseAddress = server,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>Writes an error line to standard error.</summary>
    public void Error(string message) => Err.WriteLine($"error: {message}");
}
