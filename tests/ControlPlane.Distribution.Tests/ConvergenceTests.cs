using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using FsCheck.Xunit;

namespace ControlPlane.Distribution.Tests;

public sealed class ConvergenceTests
{
    /// <summary>
    /// Lossy, duplicating, reordering channel in both directions, reconnects and new versions in both lanes: the
    /// acknowledged version only drops on a hello, and once the network behaves the agent ends on the desired table.
    /// </summary>
    [Property(MaxTest = 60)]
    public bool Planner_and_agent_converge_over_a_bad_network(int seed)
    {
        var rng = new Random(seed);
        var dp = new InMemoryDataPlane(16, new SwitchCapacity(100, 16, 256));
        var agent = new AgentTableState("leaf-0", 32, dp);
        var planner = new DistributionPlanner(new DistributionOptions { CongestionUpdatesPerSecond = 3 }, new Random(seed));
        var now = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        var desired = Tables.Random(rng, version: 1);
        planner.SetDesired(desired, Lane.Priority);
        var toAgent = new List<TableUpdate>();
        var toPlanner = new List<AgentAck>();
        ulong lastAcked = 0;

        bool Step(bool chaos)
        {
            foreach (var s in planner.Plan(now).Sends)
            {
                if (!chaos || rng.NextDouble() < 0.7) toAgent.Add(s.Update);
                if (chaos && rng.NextDouble() < 0.2) toAgent.Add(s.Update);
            }
            if (chaos) Shuffle(toAgent);
            foreach (var u in toAgent)
            {
                var ack = agent.Apply(u);
                if (!chaos || rng.NextDouble() < 0.7) toPlanner.Add(ack);
                if (chaos && rng.NextDouble() < 0.2) toPlanner.Add(ack);
            }
            toAgent.Clear();
            if (chaos) Shuffle(toPlanner);
            foreach (var a in toPlanner)
            {
                planner.OnAck(a);
                var acked = planner.Status("leaf-0").AckedVersion;
                if (acked < lastAcked) throw new InvalidOperationException($"an ack lowered the acknowledged version {lastAcked} -> {acked}");
                lastAcked = acked;
            }
            toPlanner.Clear();
            if (chaos && rng.NextDouble() < 0.1)
            {
                planner.OnHello(agent.Hello());
                lastAcked = planner.Status("leaf-0").AckedVersion;
            }
            now += TimeSpan.FromMilliseconds(rng.Next(50, 400));
            return true;
        }

        for (var i = 0; i < 40; i++)
        {
            if (rng.NextDouble() < 0.3)
            {
                desired = Tables.Mutate(desired, rng, desired.Version + 1);
                planner.SetDesired(desired, rng.Next(2) == 0 ? Lane.Priority : Lane.Congestion);
            }
            if (!Step(chaos: true)) return false;
        }
        for (var i = 0; i < 20 && !planner.Status("leaf-0").InSync; i++)
        {
            now += TimeSpan.FromSeconds(10);
            if (!Step(chaos: false)) return false;
        }
        var st = planner.Status("leaf-0");
        if (!st.InSync || !agent.Current.Equals(desired))
            throw new InvalidOperationException($"not converged: {st}, agent v{agent.Current.Version}, desired v{desired.Version}");
        return dp.ReadBack().AsSpan().SequenceEqual(desired.Digest);

        void Shuffle<T>(List<T> list)
        {
            for (var i = list.Count - 1; i > 0; i--)
            {
                var j = rng.Next(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }
        }
    }
}
