extern alias fabricctl;

namespace ControlPlane.EndToEnd.Tests;

/// <summary>Runs fabricctl in-process against a real server.</summary>
internal static class Fabricctl
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var rc = await fabricctl::ControlPlane.Cli.Cli.RunAsync(args, o, e, environment: _ => null);
        return (rc, o.ToString(), e.ToString());
    }
}
