namespace ControlPlane.Fabric.Planning;

/// <summary>
/// A Slim Fly built on the McKay-Miller-Širáň (MMS) graph with parameter q = 4w + δ, δ ∈ {-1, 0, 1}:
/// 2q² switches, network radix k' = (3q - δ)/2 (links to other switches), p = ⌈k'/2⌉ endpoints per switch,
/// switch links = switches · k' / 2. From a radix k the planner picks the largest q with k' + p ≤ k.
/// For k = 64 that is q = 28: 1,568 switches, k' = 42, p = 21, 32,928 endpoints and 32,928 links, the Slim Fly
/// row of Table 3 of the DeepSeek-V3 paper. An MMS graph exists only when q is a prime power (28 is not); the
/// paper, like this planner, uses the formulas as a sizing model.
/// </summary>
/// <param name="Q">The MMS parameter.</param>
/// <param name="Delta">δ.</param>
/// <param name="NetworkRadix">k', switch-to-switch ports per switch.</param>
/// <param name="EndpointsPerSwitch">p.</param>
public sealed record SlimFlyShape(int Q, int Delta, int NetworkRadix, int EndpointsPerSwitch)
{
    /// <summary>Switches: 2q².</summary>
    public long Switches => 2L * Q * Q;

    /// <summary>Endpoints: switches · p.</summary>
    public long Endpoints => Switches * EndpointsPerSwitch;

    /// <summary>Switch-to-switch links: switches · k' / 2.</summary>
    public long Links => Switches * NetworkRadix / 2;

    /// <summary>The largest Slim Fly a radix allows, or null when the radix is too small (below 5).</summary>
    public static SlimFlyShape? ForRadix(int radix)
    {
        SlimFlyShape? best = null;
        for (var q = 2; q <= radix; q++)
        {
            var delta = (q % 4) switch { 0 => 0, 1 => 1, 3 => -1, _ => 2 };
            if (delta == 2) continue; // q = 4w + 2 has no MMS form
            var kp = (3 * q - delta) / 2;
            var p = (kp + 1) / 2;
            if (kp + p > radix) break;
            best = new SlimFlyShape(q, delta, kp, p);
        }
        return best;
    }
}

/// <summary>
/// A balanced Dragonfly: groups of a switches joined all-to-all inside the group, each switch with p endpoints and
/// h global links; a = 2p = 2h so that radix k ≥ p + h + (a - 1) = 4p - 1, hence p = ⌊(k + 1)/4⌋. Groups
/// g = a·h - 1, every global port used: intra-group links g·a(a-1)/2, global links g·a·h/2. For k = 64: a = 32,
/// p = h = 16, g = 511, 16,352 switches, 261,632 endpoints and 384,272 links: the Dragonfly row of Table 3.
/// </summary>
/// <param name="A">Switches per group.</param>
/// <param name="P">Endpoints per switch.</param>
/// <param name="H">Global links per switch.</param>
/// <param name="G">Groups.</param>
public sealed record DragonflyShape(int A, int P, int H, int G)
{
    /// <summary>Switches: g · a.</summary>
    public long Switches => (long)G * A;

    /// <summary>Endpoints: switches · p.</summary>
    public long Endpoints => Switches * P;

    /// <summary>Links inside groups: g · a(a-1)/2.</summary>
    public long IntraGroupLinks => (long)G * A * (A - 1) / 2;

    /// <summary>Links between groups: g · a · h / 2.</summary>
    public long GlobalLinks => (long)G * A * H / 2;

    /// <summary>All switch-to-switch links.</summary>
    public long Links => IntraGroupLinks + GlobalLinks;

    /// <summary>The balanced Dragonfly a radix allows, or null when the radix is below 7.</summary>
    public static DragonflyShape? ForRadix(int radix)
    {
        var p = (radix + 1) / 4;
        if (p < 2) return null;
        var a = 2 * p;
        return new DragonflyShape(a, p, p, a * p - 1);
    }
}
