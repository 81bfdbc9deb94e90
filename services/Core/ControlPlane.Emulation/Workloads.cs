using ControlPlane.Fabric;

namespace ControlPlane.Emulation;

/// <summary>One flow of a workload: from one NIC to another, in one traffic class.</summary>
/// <param name="SrcLink">Host link id of the sending NIC.</param>
/// <param name="DstLink">Host link id of the receiving NIC.</param>
/// <param name="ClassIndex">Traffic class index in the routing policy.</param>
/// <param name="Bytes">Bytes to move.</param>
/// <param name="FlowId">Distinguishes flows of one NIC pair (RDMA queue pairs); hashed by ECMP.</param>
public readonly record struct FlowDemand(int SrcLink, int DstLink, int ClassIndex, double Bytes, int FlowId = 0);

/// <summary>A collective or traffic pattern: a set of flows that complete together.</summary>
/// <param name="Name">Name, e.g. "moe-dispatch".</param>
/// <param name="Flows">The flows.</param>
public sealed record Workload(string Name, IReadOnlyList<FlowDemand> Flows)
{
    /// <summary>Total bytes.</summary>
    public double TotalBytes => Flows.Sum(f => f.Bytes);
}

/// <summary>
/// Workload generators sized by DOMAIN.md (DeepSeek-V3: hidden 7,168, top-8 routed experts, FP8 dispatch 1 B/elem,
/// BF16 combine 2 B/elem, node-limited routing to 4 nodes). Deterministic for a seed. In a multi-plane fabric NIC i of
/// a node talks to NIC i of the peer node (same plane), as DeepEP does; traffic between planes crosses NVLink in the node.
/// </summary>
public static class WorkloadGenerator
{
    /// <summary>Hidden size of DeepSeek-V3.</summary>
    public const int Hidden = 7168;

    /// <summary>Routed experts per token.</summary>
    public const int TopK = 8;

    /// <summary>Node-limited routing: a token goes to at most this many nodes.</summary>
    public const int NodesPerToken = 4;

    /// <summary>
    /// MoE EP dispatch (FP8) or combine (BF16, reverse direction, twice the bytes): each GPU's NIC sends its tokens to the
    /// NICs of <see cref="NodesPerToken"/> other nodes. Target nodes are drawn with Zipf(<paramref name="expertSkew"/>)
    /// popularity over a random order of nodes (0 = uniform experts), and bytes follow the popularity of the target.
    /// </summary>
    public static Workload Moe(FabricTopology t, int classIndex, int seed, bool combine = false, int tokensPerGpu = 128, double expertSkew = 0.0, int flowsPerPair = 1)
    {
        var r = new Random(seed);
        var hosts = t.Hosts.Count;
        if (hosts < 2) return new Workload(combine ? "moe-combine" : "moe-dispatch", []);
        var order = Enumerable.Range(0, hosts).OrderBy(_ => r.Next()).ToArray();
        var pop = new double[hosts];
        for (var i = 0; i < hosts; i++) pop[order[i]] = expertSkew <= 0 ? 1 : 1 / Math.Pow(i + 1, expertSkew);
        var cum = new double[hosts];
        double acc = 0;
        for (var i = 0; i < hosts; i++) { acc += pop[i]; cum[i] = acc; }
        var perGpu = (double)tokensPerGpu * TopK * Hidden * (combine ? 2 : 1);
        var flows = new List<FlowDemand>();
        var peers = Math.Min(NodesPerToken, hosts - 1);
        var chosen = new int[peers];
        for (var h = 0; h < hosts; h++)
        {
            var nics = t.Hosts[h].Nics.Count;
            for (var nic = 0; nic < nics; nic++)
            {
                var src = t.LinkAtHostNic(h, nic);
                if (src < 0) continue;
                var k = 0;
                while (k < peers)
                {
                    var x = Array.BinarySearch(cum, r.NextDouble() * acc);
                    var target = x >= 0 ? x : Math.Min(hosts - 1, ~x);
                    if (target == h || Array.IndexOf(chosen, target, 0, k) >= 0) { if (r.Next(50) == 0) target = r.Next(hosts); else continue; }
                    if (target == h || Array.IndexOf(chosen, target, 0, k) >= 0) continue;
                    chosen[k++] = target;
                }
                double wsum = 0;
                for (var i = 0; i < peers; i++) wsum += pop[chosen[i]];
                for (var i = 0; i < peers; i++)
                {
                    var dst = t.LinkAtHostNic(chosen[i], nic);
                    if (dst < 0) continue;
                    var bytes = perGpu * pop[chosen[i]] / wsum / flowsPerPair;
                    for (var f = 0; f < flowsPerPair; f++)
                        flows.Add(combine ? new FlowDemand(dst, src, classIndex, bytes, f) : new FlowDemand(src, dst, classIndex, bytes, f));
                }
            }
        }
        return new Workload(combine ? "moe-combine" : "moe-dispatch", flows);
    }

    /// <summary>Uniform all-to-all: every NIC sends <paramref name="bytesPerPair"/> to the same-index NIC of every other node.</summary>
    public static Workload AllToAll(FabricTopology t, int classIndex, double bytesPerPair = 1 << 20, int flowsPerPair = 1)
    {
        var flows = new List<FlowDemand>();
        for (var a = 0; a < t.Hosts.Count; a++)
            for (var b = 0; b < t.Hosts.Count; b++)
            {
                if (a == b) continue;
                var nics = Math.Min(t.Hosts[a].Nics.Count, t.Hosts[b].Nics.Count);
                for (var nic = 0; nic < nics; nic++)
                {
                    var s = t.LinkAtHostNic(a, nic);
                    var d = t.LinkAtHostNic(b, nic);
                    if (s < 0 || d < 0) continue;
                    for (var f = 0; f < flowsPerPair; f++) flows.Add(new FlowDemand(s, d, classIndex, bytesPerPair / flowsPerPair, f));
                }
            }
        return new Workload("alltoall", flows);
    }

    /// <summary>Random permutation of nodes (a derangement): NIC i of node n sends to NIC i of node perm(n).</summary>
    public static Workload Permutation(FabricTopology t, int classIndex, int seed, double bytes = 64 << 20)
    {
        var r = new Random(seed);
        var n = t.Hosts.Count;
        var perm = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var flows = new List<FlowDemand>();
        for (var i = 0; i < n; i++)
        {
            var a = perm[i];
            var b = perm[(i + 1) % n];
            if (a == b) continue;
            Pairs(t, a, b, classIndex, bytes, flows);
        }
        return new Workload("permutation", flows);
    }

    /// <summary>Ring all-reduce over all nodes in a random order: each NIC sends 2(N-1)/N of <paramref name="bytesPerGpu"/> to its ring successor.</summary>
    public static Workload RingAllReduce(FabricTopology t, int classIndex, int seed, double bytesPerGpu = 256 << 20)
    {
        var r = new Random(seed);
        var n = t.Hosts.Count;
        var order = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var flows = new List<FlowDemand>();
        var bytes = n > 1 ? 2.0 * (n - 1) / n * bytesPerGpu : 0;
        for (var i = 0; i < n && n > 1; i++) Pairs(t, order[i], order[(i + 1) % n], classIndex, bytes, flows);
        return new Workload("allreduce", flows);
    }

    /// <summary>TP small flows: each node exchanges <paramref name="bytes"/> (default 64 KiB) with one random partner, both ways.</summary>
    public static Workload TensorParallel(FabricTopology t, int classIndex, int seed, double bytes = 64 << 10)
    {
        var r = new Random(seed);
        var n = t.Hosts.Count;
        var order = Enumerable.Range(0, n).OrderBy(_ => r.Next()).ToArray();
        var flows = new List<FlowDemand>();
        for (var i = 0; i + 1 < n; i += 2)
        {
            Pairs(t, order[i], order[i + 1], classIndex, bytes, flows);
            Pairs(t, order[i + 1], order[i], classIndex, bytes, flows);
        }
        return new Workload("tp", flows);
    }

    /// <summary>KV-cache transfers: the first quarter of nodes (prefill) each send <paramref name="bytes"/> per NIC to a random decode node.</summary>
    public static Workload KvCache(FabricTopology t, int classIndex, int seed, double bytes = 512 << 20)
    {
        var r = new Random(seed);
        var n = t.Hosts.Count;
        var prefill = Math.Max(1, n / 4);
        var flows = new List<FlowDemand>();
        if (n < 2) return new Workload("kv", flows);
        for (var a = 0; a < prefill; a++)
        {
            var b = prefill < n ? prefill + r.Next(n - prefill) : (a + 1) % n;
            Pairs(t, a, b, classIndex, bytes, flows);
        }
        return new Workload("kv", flows);
    }

    /// <summary>Incast: <paramref name="senders"/> random nodes send to one node.</summary>
    public static Workload Incast(FabricTopology t, int classIndex, int seed, int senders = 32, double bytes = 16 << 20)
    {
        var r = new Random(seed);
        var n = t.Hosts.Count;
        var flows = new List<FlowDemand>();
        if (n < 2) return new Workload("incast", flows);
        var target = r.Next(n);
        foreach (var a in Enumerable.Range(0, n).Where(h => h != target).OrderBy(_ => r.Next()).Take(senders))
            Pairs(t, a, target, classIndex, bytes, flows);
        return new Workload("incast", flows);
    }

    /// <summary>Several workloads at once (e.g. EP dispatch contending with KV transfers).</summary>
    public static Workload Mix(string name, params Workload[] parts) => new(name, parts.SelectMany(p => p.Flows).ToList());

    private static void Pairs(FabricTopology t, int a, int b, int cls, double bytes, List<FlowDemand> flows)
    {
        var nics = Math.Min(t.Hosts[a].Nics.Count, t.Hosts[b].Nics.Count);
        for (var nic = 0; nic < nics; nic++)
        {
            var s = t.LinkAtHostNic(a, nic);
            var d = t.LinkAtHostNic(b, nic);
            if (s >= 0 && d >= 0) flows.Add(new FlowDemand(s, d, cls, bytes));
        }
    }
}
