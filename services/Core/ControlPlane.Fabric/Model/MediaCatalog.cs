namespace ControlPlane.Fabric;

/// <summary>Facts about one cable or optic kind, from the reach table in DOMAIN.md.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="MaxReachM">Longest supported length in metres.</param>
/// <param name="IsModule">True for pluggable modules (two per link), false for cable assemblies (one per link).</param>
/// <param name="HasDom">True when the part reports digital diagnostics (optical parts).</param>
/// <param name="PicojoulesPerBit">Energy per bit of one end.</param>
/// <param name="Description">Short description.</param>
/// <param name="ReachTier">"rack", "row" or "hall" as used by the planner report.</param>
public sealed record MediumInfo(
    MediumKind Kind,
    double MaxReachM,
    bool IsModule,
    bool HasDom,
    double PicojoulesPerBit,
    string Description,
    string ReachTier)
{
    /// <summary>Power of one end at a given line rate, in watts.</summary>
    public double PowerW(int speedGbps) => PicojoulesPerBit * speedGbps / 1000.0;
}

/// <summary>The reach table and default DOM thresholds. Pure data.</summary>
public static class MediaCatalog
{
    private static readonly MediumInfo[] Infos =
    [
        new(MediumKind.PassiveDac, 3, false, false, 0.05, "passive DAC, copper, in rack", "rack"),
        new(MediumKind.ActiveDac, 7, false, false, 1.5, "active DAC, copper, adjacent racks", "rack"),
        new(MediumKind.Aoc, 100, false, true, 14, "active optical cable", "row"),
        new(MediumKind.Sr8, 50, true, true, 15, "800G SR8, multimode, 2x MPO-12", "row"),
        new(MediumKind.Dr8, 500, true, true, 19, "800G DR8 / 2xDR4, single-mode", "hall"),
        new(MediumKind.Fr4, 2000, true, true, 22, "800G 2xFR4 / 2FR4, single-mode", "campus"),
        new(MediumKind.Lr8, 10000, true, true, 25, "800G LR8, single-mode, duplex LC", "campus"),
    ];

    /// <summary>Every known kind, shortest reach first.</summary>
    public static IReadOnlyList<MediumInfo> All => Infos;

    /// <summary>Facts about one kind.</summary>
    public static MediumInfo Get(MediumKind kind) => Infos[(int)kind];

    /// <summary>
    /// The cheapest part that spans <paramref name="lengthM"/>: copper up to 7 m, then an AOC for host links
    /// (up to 100 m) or SR8 for switch links (up to 50 m), then single-mode optics.
    /// </summary>
    /// <exception cref="FabricInputException">When the length is not positive or beyond 10 km.</exception>
    public static MediumKind ForLength(double lengthM, bool hostLink)
    {
        if (!double.IsFinite(lengthM) || lengthM <= 0) throw new FabricInputException("lengthM", $"must be a positive number of metres, got {lengthM}");
        if (lengthM <= 3) return MediumKind.PassiveDac;
        if (lengthM <= 7) return MediumKind.ActiveDac;
        if (hostLink && lengthM <= 100) return MediumKind.Aoc;
        if (lengthM <= 50) return MediumKind.Sr8;
        if (lengthM <= 500) return MediumKind.Dr8;
        if (lengthM <= 2000) return MediumKind.Fr4;
        if (lengthM <= 10000) return MediumKind.Lr8;
        throw new FabricInputException("lengthM", $"{lengthM} m is beyond the 10 km reach of LR8 optics");
    }

    /// <summary>Typical vendor DOM thresholds for an optical part (OSFP 800G class).</summary>
    public static readonly DomThresholds DefaultThresholds = new(
        TempHighAlarmC: 75,
        TempHighWarnC: 70,
        VccLowAlarmV: 3.0,
        VccHighAlarmV: 3.6,
        BiasHighAlarmMa: 13,
        TxPowerLowAlarmDbm: -6.0,
        RxPowerLowAlarmDbm: -9.0,
        RxPowerLowWarnDbm: -7.5,
        RxPowerHighAlarmDbm: 5.0,
        PreFecBerWarn: 1e-6,
        PreFecBerAlarm: 2.4e-4);
}
