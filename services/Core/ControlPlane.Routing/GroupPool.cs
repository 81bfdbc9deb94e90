namespace ControlPlane.Routing;

/// <summary>
/// Next-hop groups of one plane, deduplicated per switch as ASICs share identical groups: a group is
/// (owner switch, ports, integer weights). Struct-of-arrays, no per-group objects.
/// </summary>
internal sealed class GroupPool
{
    private int[] _owner;
    private int[] _start;
    private int[] _count;
    private ulong[] _hash;
    private int[] _ports;
    private int[] _weights;
    private ulong[] _table; // open addressing: high half of the hash, then group id + 1 in the low half; 0 = empty
    private int _groups;
    private int _members;

    /// <summary>An empty pool sized for about this many groups and members (a recompute of a plane knows its previous size), so it does not grow by copying.</summary>
    public GroupPool(int groups = 256, int members = 1024)
    {
        groups = Math.Max(256, groups);
        members = Math.Max(1024, members);
        // Written before read: no need to clear them (a plane's pool is about a megabyte on MPFT).
        _owner = GC.AllocateUninitializedArray<int>(groups);
        _start = GC.AllocateUninitializedArray<int>(groups);
        _count = GC.AllocateUninitializedArray<int>(groups);
        _hash = GC.AllocateUninitializedArray<ulong>(groups);
        _ports = GC.AllocateUninitializedArray<int>(members);
        _weights = GC.AllocateUninitializedArray<int>(members);
        var table = 1024;
        while (table < groups * 2) table *= 2;
        _table = new ulong[table];
    }

    public int Count => _groups;
    public int MemberCount => _members;
    public int Owner(int g) => _owner[g];
    public ulong Hash(int g) => _hash[g];
    public ReadOnlySpan<int> Ports(int g) => _ports.AsSpan(_start[g], _count[g]);
    public ReadOnlySpan<int> Weights(int g) => _weights.AsSpan(_start[g], _count[g]);
    public ReadOnlyMemory<int> PortsMemory(int g) => _ports.AsMemory(_start[g], _count[g]);
    public ReadOnlyMemory<int> WeightsMemory(int g) => _weights.AsMemory(_start[g], _count[g]);

    public long ApproximateBytes => (long)_owner.Length * 20 + (long)_ports.Length * 8 + (long)_table.Length * 8;

    /// <summary>The id of the group with these members at this switch, adding it when new. Zero-weight members are left out.</summary>
    public int Intern(int owner, ReadOnlySpan<int> ports, ReadOnlySpan<int> weights)
    {
        // Two independent chains of one multiply per member (port and weight packed), alternating over the kept members
        // so the hash depends only on the group, and is not bound by the multiply latency.
        var h = 1469598103934665603UL ^ (ulong)owner * 0x9E3779B97F4A7C15UL;
        var h2 = 0x2545F4914F6CDD1DUL;
        var m = 0;
        for (var i = 0; i < ports.Length; i++)
        {
            var wi = weights[i];
            if (wi <= 0) continue;
            var v = (ulong)(uint)ports[i] << 32 | (uint)wi;
            if ((m & 1) == 0) h = (h ^ v) * 0x9E3779B97F4A7C15UL;
            else h2 = (h2 ^ v) * 0xC2B2AE3D27D4EB4FUL;
            m++;
        }
        h ^= h2 * 0x165667B19E3779F9UL;
        h ^= h >> 32;
        var mask = _table.Length - 1;
        var slot = (int)(h & (ulong)mask);
        var tag = h & 0xFFFFFFFF00000000UL;
        while (true)
        {
            var e = _table[slot];
            if (e == 0) break;
            // The tag spares a look at the group's arrays (a cache miss on large pools) for most other groups.
            if ((e & 0xFFFFFFFF00000000UL) == tag)
            {
                var g = (int)(uint)e - 1;
                if (_hash[g] == h && _owner[g] == owner && _count[g] == m && Same(g, ports, weights)) return g;
            }
            slot = (slot + 1) & mask;
        }
        if (_groups == _owner.Length)
        {
            Array.Resize(ref _owner, _groups * 2);
            Array.Resize(ref _start, _groups * 2);
            Array.Resize(ref _count, _groups * 2);
            Array.Resize(ref _hash, _groups * 2);
        }
        if (_members + m > _ports.Length)
        {
            var size = Math.Max(_ports.Length * 2, _members + m);
            Array.Resize(ref _ports, size);
            Array.Resize(ref _weights, size);
        }
        var id = _groups++;
        _owner[id] = owner;
        _start[id] = _members;
        _count[id] = m;
        _hash[id] = h;
        for (var i = 0; i < ports.Length; i++)
        {
            if (weights[i] <= 0) continue;
            _ports[_members] = ports[i];
            _weights[_members] = weights[i];
            _members++;
        }
        _table[slot] = tag | (uint)(id + 1);
        if (_groups * 2 > _table.Length) Rehash();
        return id;
    }

    private bool Same(int g, ReadOnlySpan<int> ports, ReadOnlySpan<int> weights)
    {
        var j = _start[g];
        for (var i = 0; i < ports.Length; i++)
        {
            if (weights[i] <= 0) continue;
            if (_ports[j] != ports[i] || _weights[j] != weights[i]) return false;
            j++;
        }
        return true;
    }

    private void Rehash()
    {
        _table = new ulong[_table.Length * 2];
        var mask = _table.Length - 1;
        for (var g = 0; g < _groups; g++)
        {
            var slot = (int)(_hash[g] & (ulong)mask);
            while (_table[slot] != 0) slot = (slot + 1) & mask;
            _table[slot] = (_hash[g] & 0xFFFFFFFF00000000UL) | (uint)(g + 1);
        }
    }
}

/// <summary>Integer weights from real ones.</summary>
public static class BucketWeights
{
    /// <summary>
    /// Rounds positive real weights to integers summing exactly to <paramref name="groupSize"/>: each member gets the
    /// floor of its share, and the leftover buckets go by systematic sampling over the fractional parts starting at
    /// <paramref name="offset"/> in [0, 1). With offset 0 this is close to largest remainder; varying the offset across
    /// destinations (as the engine does) hands the leftover buckets to every member in proportion to its fraction, so
    /// a link's load summed over many groups is not biased by rounding (64 buckets over 31 members would otherwise give
    /// the same two members 3 buckets and the rest 2, a 50 % overload on them). When there are no more members than
    /// buckets every member keeps at least one bucket (taken from the largest), so a live path is never rounded away.
    /// </summary>
    public static void Normalize(ReadOnlySpan<double> raw, Span<int> result, int groupSize, double offset = 0)
    {
        var m = raw.Length;
        if (m == 0) return;
        Span<double> frac = m <= 256 ? stackalloc double[m] : new double[m];
        var given = Floors(raw, result, frac, groupSize);
        Finish(result, frac, given, result, groupSize, offset);
    }

    /// <summary>First step of <see cref="Normalize"/>: each member's floor and fractional part; returns the buckets given.</summary>
    internal static int Floors(ReadOnlySpan<double> raw, Span<int> result, Span<double> frac, int groupSize)
    {
        var m = raw.Length;
        double sum = 0;
        for (var i = 0; i < m; i++) sum += raw[i];
        var given = 0;
        for (var i = 0; i < m; i++)
        {
            var q = sum > 0 ? raw[i] * groupSize / sum : (double)groupSize / m;
            var w = (int)Math.Floor(q);
            result[i] = w;
            frac[i] = q - w;
            given += w;
        }
        return given;
    }

    /// <summary>
    /// Second step of <see cref="Normalize"/>: the leftover buckets, from the floors and fractions of the first step
    /// (<paramref name="floors"/> may be <paramref name="result"/> itself; neither input is changed otherwise).
    /// </summary>
    internal static void Finish(ReadOnlySpan<int> floors, ReadOnlySpan<double> frac, int given, Span<int> result, int groupSize, double offset)
    {
        var m = result.Length;
        Span<bool> taken = m <= 256 ? stackalloc bool[m] : new bool[m];
        var acc = offset - Math.Floor(offset);
        // Systematic sampling; once every bucket is given no member takes one, so the loop need not stop early.
        for (var i = 0; i < m; i++)
        {
            acc += frac[i];
            var take = !(acc < 1 - 1e-9) & given < groupSize;
            var t = take ? 1 : 0;
            acc -= t;
            result[i] = floors[i] + t;
            given += t;
            taken[i] = take;
        }
        // Rounding left some over: the largest fractions not yet taken (a taken member counts as -1, below them all).
        for (; given < groupSize; given++)
        {
            var best = 0;
            var bestFrac = taken[0] ? -1 : frac[0];
            for (var i = 1; i < m; i++)
            {
                var f = taken[i] ? -1 : frac[i];
                if (f > bestFrac) { best = i; bestFrac = f; }
            }
            result[best]++;
            taken[best] = true;
        }
        if (m > groupSize) return;
        for (var i = 0; i < m; i++)
        {
            if (result[i] > 0) continue;
            var big = 0;
            for (var j = 1; j < m; j++) if (result[j] > result[big]) big = j;
            result[big]--;
            result[i] = 1;
        }
    }
}
