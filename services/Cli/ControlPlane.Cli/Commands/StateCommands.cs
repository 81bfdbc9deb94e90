using System.CommandLine;
using ControlPlane.Cli.Api;

namespace ControlPlane.Cli.Commands;

/// <summary>`fabricctl drain|undrain link ID|switch NAME`: take an element out of routing or put it back.</summary>
public static class StateCommands
{
    public static Command Build(CliContext ctx, bool drain)
    {
        var verb = drain ? "drain" : "undrain";
        var cmd = new Command(verb, drain
            ? "Take a link or switch out of routing (traffic moves away first); the reason is recorded in the history"
            : "Put a drained link or switch back into routing");
        cmd.Subcommands.Add(Element(ctx, drain, isLink: true));
        cmd.Subcommands.Add(Element(ctx, drain, isLink: false));
        return cmd;
    }

    private static Command Element(CliContext ctx, bool drain, bool isLink)
    {
        var server = CommonOptions.Server(ctx);
        var fabric = CommonOptions.Fabric();
        var reason = new Option<string?>("--reason", "-r") { Description = drain ? "Why (required), e.g. 'flapping optic, ticket OPS-1234'" : "Why (optional)", Required = drain };
        var by = new Option<string?>("--by") { Description = "Who (default: the current user)" };
        var expected = new Option<long?>("--expected-version") { Description = "Fail with 409 unless the fabric is at this version" };
        Argument<int> linkId = new("id") { Description = "Link id (see 'fabricctl get links')" };
        Argument<string> switchName = new("name") { Description = "Switch name" };
        var cmd = new Command(isLink ? "link" : "switch", isLink ? $"{(drain ? "Drain" : "Undrain")} one link" : $"{(drain ? "Drain" : "Undrain")} a switch and so every link on it");
        if (isLink) cmd.Arguments.Add(linkId); else cmd.Arguments.Add(switchName);
        foreach (var o in new Option[] { reason, by, expected, server, fabric }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var f = CommonOptions.FabricName(ctx, r.GetValue(fabric));
            var why = r.GetValue(reason);
            if (drain && string.IsNullOrWhiteSpace(why)) throw new CliUsageException("--reason: required when draining, so the history says why");
            var body = new StateChangeRequest(drain ? "drained" : "up", why, r.GetValue(by) ?? Environment.UserName, r.GetValue(expected));
            using var client = new InventoryClient(ctx.CreateClient(CommonOptions.ServerUri(r.GetValue(server))));
            if (isLink)
            {
                var id = r.GetValue(linkId);
                if (id < 0) throw new CliUsageException($"<id>: link ids are not negative, got {id}");
                var res = await client.SetLinkStateAsync(f, id, body, ct);
                ctx.Out.WriteLine($"link {res.Link.Id} ({res.Link.A} -- {res.Link.B}) is {res.Link.Status}{(why is null ? "" : $": {why}")} (by {body.By}; fabric '{f}' now at version {res.Version})");
            }
            else
            {
                var res = await client.SetSwitchStateAsync(f, r.GetValue(switchName)!, body, ct);
                ctx.Out.WriteLine($"switch {res.Switch.Name} (plane {res.Switch.Plane}, {res.Switch.Tier}) is {res.Switch.Status}{(why is null ? "" : $": {why}")} (by {body.By}; fabric '{f}' now at version {res.Version})");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
