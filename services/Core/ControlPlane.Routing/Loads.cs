using ControlPlane.Fabric;

namespace ControlPlane.Routing;

/// <summary>
/// Measured utilization of every link per direction (load / capacity, 0 = idle, 1 = full; above 1 means
/// offered load beyond capacity). Index = link id. A to B is upward for tree links (leaf to spine).
/// </summary>
public sealed class LinkLoads
{
    /// <summary>Creates loads from two arrays of utilization indexed by link id.</summary>
    /// <exception cref="FabricInputException">When the arrays differ in length or hold a negative or non-finite value.</exception>
    public LinkLoads(double[] aToB, double[] bToA)
    {
        if (aToB.Length != bToA.Length) throw new FabricInputException("loads", $"aToB has {aToB.Length} entries but bToA {bToA.Length}");
        for (var i = 0; i < aToB.Length; i++)
        {
            if (!double.IsFinite(aToB[i]) || aToB[i] < 0) throw new FabricInputException($"loads.aToB[{i}]", $"must be a finite utilization >= 0, got {aToB[i]}");
            if (!double.IsFinite(bToA[i]) || bToA[i] < 0) throw new FabricInputException($"loads.bToA[{i}]", $"must be a finite utilization >= 0, got {bToA[i]}");
        }
        AToB = aToB;
        BToA = bToA;
    }

    /// <summary>All links idle.</summary>
    public static LinkLoads Idle(int linkCount) => new(new double[linkCount], new double[linkCount]);

    /// <summary>Utilization from end A to end B.</summary>
    public double[] AToB { get; }

    /// <summary>Utilization from end B to end A.</summary>
    public double[] BToA { get; }

    /// <summary>Links covered.</summary>
    public int Count => AToB.Length;

    /// <summary>Utilization of a link in one direction.</summary>
    public double Get(int linkId, bool aToB) => (uint)linkId < (uint)AToB.Length ? (aToB ? AToB[linkId] : BToA[linkId]) : 0;
}

/// <summary>
/// Scales the capacity a link direction offers to weighted routing, as ONOS's LinkWeigher does for paths:
/// 1 leaves WCMP unchanged, less steers weight away. Must be deterministic and return a value in (0, 1].
/// </summary>
public interface ILinkWeigher
{
    /// <summary>Factor for the direction A to B (<paramref name="aToB"/>) or B to A of a link.</summary>
    double Factor(int linkId, bool aToB);
}

/// <summary>Weighs each link direction by its residual capacity 1 - utilization, never below a floor.</summary>
public sealed class ResidualWeigher(LinkLoads loads, double floor) : ILinkWeigher
{
    /// <inheritdoc/>
    public double Factor(int linkId, bool aToB) => Math.Max(floor, 1 - loads.Get(linkId, aToB));
}

/// <summary>Per-direction multipliers held in arrays (the state of an <see cref="AdaptiveController"/>).</summary>
public sealed class MultiplierWeigher : ILinkWeigher
{
    /// <summary>Creates a weigher over copies of the arrays.</summary>
    public MultiplierWeigher(double[] aToB, double[] bToA)
    {
        AToB = (double[])aToB.Clone();
        BToA = (double[])bToA.Clone();
    }

    /// <summary>Multiplier of each link A to B.</summary>
    public double[] AToB { get; }

    /// <summary>Multiplier of each link B to A.</summary>
    public double[] BToA { get; }

    /// <inheritdoc/>
    public double Factor(int linkId, bool aToB) => (uint)linkId < (uint)AToB.Length ? (aToB ? AToB[linkId] : BToA[linkId]) : 1;
}
