namespace ControlPlane.Telemetry;

/// <summary>How the step between two readings of a monotonic counter was read.</summary>
public enum CounterStep
{
    /// <summary>The counter went up (or stayed): delta = current - previous.</summary>
    Normal = 0,
    /// <summary>The counter went down by a step consistent with one 64-bit wrap at a plausible rate.</summary>
    Wrapped,
    /// <summary>The counter went down in a way a wrap cannot explain: it restarted (reboot, clear). No delta.</summary>
    Reset,
}

/// <summary>Differences of monotonic unsigned 64-bit counters.</summary>
public static class CounterMath
{
    /// <summary>
    /// The increase from <paramref name="previous"/> to <paramref name="current"/>. A decrease is a wrap when
    /// <c>(current - previous) mod 2^64</c> is at most <paramref name="maxPlausibleDelta"/> (what the counter can
    /// gain at line rate over the interval), else a reset, for which <paramref name="delta"/> is 0.
    /// </summary>
    public static CounterStep Delta(ulong previous, ulong current, double maxPlausibleDelta, out ulong delta)
    {
        if (current >= previous)
        {
            delta = current - previous;
            return CounterStep.Normal;
        }
        var wrapped = unchecked(current - previous); // mod 2^64
        if (wrapped <= maxPlausibleDelta)
        {
            delta = wrapped;
            return CounterStep.Wrapped;
        }
        delta = 0;
        return CounterStep.Reset;
    }

    /// <summary>EWMA weight of a new rate measured over <paramref name="dtSeconds"/> with time constant <paramref name="tauSeconds"/>: 1 - exp(-dt/tau).</summary>
    public static double EwmaWeight(double dtSeconds, double tauSeconds) => -double.ExpM1(-dtSeconds / tauSeconds);
}
