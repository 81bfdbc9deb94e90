using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ControlPlane.Telemetry.Tests;

public class CounterMathTests
{
    [Fact]
    public void Increase_is_the_plain_difference()
    {
        Assert.Equal(CounterStep.Normal, CounterMath.Delta(1_000, 1_500, 10, out var d));
        Assert.Equal(500UL, d);
    }

    [Fact]
    public void Decrease_near_the_top_of_64_bits_is_a_wrap()
    {
        Assert.Equal(CounterStep.Wrapped, CounterMath.Delta(ulong.MaxValue - 99, 100, 1_000, out var d));
        Assert.Equal(200UL, d); // 100 to reach 2^64, then 100 more
    }

    [Fact]
    public void Wrap_at_exactly_two_to_the_64_gives_one()
    {
        Assert.Equal(CounterStep.Wrapped, CounterMath.Delta(ulong.MaxValue, 0, 10, out var d));
        Assert.Equal(1UL, d);
    }

    [Fact]
    public void Decrease_that_a_wrap_cannot_explain_is_a_reset()
    {
        Assert.Equal(CounterStep.Reset, CounterMath.Delta(5_000_000_000, 1_000, 1e9, out var d));
        Assert.Equal(0UL, d);
    }

    [Fact]
    public void Ewma_weight_after_one_time_constant_is_one_minus_one_over_e()
    {
        Assert.Equal(1 - Math.Exp(-1), CounterMath.EwmaWeight(0.5, 0.5), 12);
        Assert.Equal(1 - Math.Exp(-0.2), CounterMath.EwmaWeight(0.1, 0.5), 12);
    }

    [Property(MaxTest = 300)]
    public Property Any_plausible_increase_is_recovered_across_the_wrap(ulong previous, uint increase)
    {
        var current = unchecked(previous + increase);
        var step = CounterMath.Delta(previous, current, uint.MaxValue, out var d);
        return (d == increase && step != CounterStep.Reset).Label($"step {step}, delta {d}");
    }
}
