namespace ControlPlane.Fabric.Planning;

/// <summary>
/// Prices and power figures the planner uses. Users override it with a JSON file (camelCase field names,
/// e.g. <c>{"switchUsd": 48000, "mediumLinkUsd": {"dr8": 1900}}</c>); absent fields keep the defaults.
/// </summary>
/// <remarks>
/// The defaults are calibrated to Table 3 of the DeepSeek-V3 ISCA 2025 paper: the three flat prices were solved
/// from its FT2, FT3 and Slim Fly rows and reproduce FT2 9 M$, MPFT 72 M$, FT3 491 M$ and SF 146 M$ exactly (to
/// the paper's rounding), and Dragonfly within 1.4% (1,543 M$ against the paper's 1,522 M$). They stand for a
/// 64-port 400G switch, a switch-to-switch link with its optics, and a host (endpoint) link with its cable.
/// </remarks>
public sealed record PriceList
{
    /// <summary>The calibrated defaults.</summary>
    public static readonly PriceList Default = new();

    /// <summary>Price of one switch, USD.</summary>
    public double SwitchUsd { get; init; } = 52_934;

    /// <summary>Price of one switch-to-switch link including both ends' optics, USD.</summary>
    public double SwitchLinkUsd { get; init; } = 1_443;

    /// <summary>Price of one host (endpoint) link including its cable or optics, USD.</summary>
    public double EndpointLinkUsd { get; init; } = 470;

    /// <summary>Typical power of one switch, watts (a 64x400G switch draws about 1,720 W with its fans).</summary>
    public double SwitchPowerW { get; init; } = 1_720;

    /// <summary>
    /// Optional price of one link of a given medium (cable plus both modules), keyed by camelCase medium name
    /// ("passiveDac", "aoc", "sr8", "dr8", ...). When present it replaces the flat link price for links of that medium.
    /// </summary>
    public IReadOnlyDictionary<string, double>? MediumLinkUsd { get; init; }

    /// <summary>Every problem with these prices, each naming its field.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        Check(e, "switchUsd", SwitchUsd);
        Check(e, "switchLinkUsd", SwitchLinkUsd);
        Check(e, "endpointLinkUsd", EndpointLinkUsd);
        Check(e, "switchPowerW", SwitchPowerW);
        if (MediumLinkUsd is not null)
        {
            foreach (var (k, v) in MediumLinkUsd)
            {
                if (!Serialization.EnumNames.TryParse<MediumKind>(k, out _))
                    e.Add(new($"mediumLinkUsd.{k}", $"unknown medium; expected one of {Serialization.EnumNames.Expected<MediumKind>()}"));
                Check(e, $"mediumLinkUsd.{k}", v);
            }
        }
        return e;
    }

    /// <summary>Price of one link of a medium and role.</summary>
    public double LinkUsd(MediumKind medium, bool hostLink)
    {
        if (MediumLinkUsd is not null)
        {
            foreach (var (k, v) in MediumLinkUsd)
                if (Serialization.EnumNames.TryParse<MediumKind>(k, out var m) && m == medium) return v;
        }
        return hostLink ? EndpointLinkUsd : SwitchLinkUsd;
    }

    private static void Check(List<FieldError> e, string field, double v)
    {
        if (!double.IsFinite(v) || v < 0) e.Add(new(field, $"must be a non-negative number, got {v}"));
    }
}
