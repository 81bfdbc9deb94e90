using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace ControlPlane.Distribution;

/// <summary>
/// An immutable map kept as two sorted arrays: lookups by binary search, enumeration in key order, no per-entry node.
/// Switch tables are built, hashed, encoded and diffed far more often than they are searched, and a table's few hundred
/// entries fit in a few cache lines this way (a balanced tree costs an allocation and a rebalance per entry).
/// </summary>
/// <typeparam name="TKey">Key type, ordered by its default comparer.</typeparam>
/// <typeparam name="TValue">Value type.</typeparam>
public sealed class SortedMap<TKey, TValue> : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
    private readonly TKey[] _keys;
    private readonly TValue[] _values;

    private SortedMap(TKey[] keys, TValue[] values)
    {
        _keys = keys;
        _values = values;
    }

    /// <summary>The empty map.</summary>
    public static SortedMap<TKey, TValue> Empty { get; } = new([], []);

    /// <summary>
    /// A map of the given entries (any order). <paramref name="duplicate"/> is called with the first key found twice, and
    /// its exception thrown; duplicates are never resolved silently.
    /// </summary>
    public static SortedMap<TKey, TValue> Create(IEnumerable<KeyValuePair<TKey, TValue>> entries, Func<TKey, Exception> duplicate)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries is SortedMap<TKey, TValue> m) return m;
        var count = entries.TryGetNonEnumeratedCount(out var n) ? n : 16;
        var keys = new TKey[count];
        var values = new TValue[count];
        var i = 0;
        foreach (var (k, v) in entries)
        {
            if (i == keys.Length)
            {
                Array.Resize(ref keys, i * 2);
                Array.Resize(ref values, i * 2);
            }
            keys[i] = k;
            values[i] = v;
            i++;
        }
        return FromArrays(keys, values, i, duplicate);
    }

    /// <summary>A map over the first <paramref name="count"/> entries of the arrays, which it takes over (sorted in place when they are not sorted).</summary>
    internal static SortedMap<TKey, TValue> FromArrays(TKey[] keys, TValue[] values, int count, Func<TKey, Exception> duplicate)
    {
        if (count == 0) return Empty;
        if (count != keys.Length)
        {
            Array.Resize(ref keys, count);
            Array.Resize(ref values, count);
        }
        var comparer = Comparer<TKey>.Default;
        var sorted = true;
        for (var j = 1; j < count && sorted; j++) sorted = comparer.Compare(keys[j - 1], keys[j]) < 0;
        if (!sorted) Array.Sort(keys, values, comparer);
        for (var j = 1; j < count; j++)
        {
            if (comparer.Compare(keys[j - 1], keys[j]) == 0) throw duplicate(keys[j]);
        }
        return new SortedMap<TKey, TValue>(keys, values);
    }

    /// <summary>
    /// A map of the given entries (any order; the spans are copied). <paramref name="duplicate"/> is called with the first key
    /// found twice, and its exception thrown.
    /// </summary>
    public static SortedMap<TKey, TValue> Create(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, Func<TKey, Exception> duplicate)
    {
        if (keys.Length != values.Length) throw new ArgumentException($"{keys.Length} keys but {values.Length} values", nameof(values));
        return FromArrays(keys.ToArray(), values.ToArray(), keys.Length, duplicate);
    }

    /// <summary>
    /// The same keys with other values (<paramref name="values"/> in key order, copied). The keys are shared, not copied:
    /// a table whose weights changed but whose destinations did not costs only its values.
    /// </summary>
    public SortedMap<TKey, TValue> WithValues(ReadOnlySpan<TValue> values)
    {
        if (values.Length != _keys.Length) throw new ArgumentException($"{values.Length} values for {_keys.Length} keys", nameof(values));
        return _keys.Length == 0 ? this : new SortedMap<TKey, TValue>(_keys, values.ToArray());
    }

    /// <summary>True when <paramref name="keys"/> are this map's keys, in the same order.</summary>
    public bool SameKeys(ReadOnlySpan<TKey> keys) => _keys.AsSpan().SequenceEqual(keys);

    // The same keys (shared) with values the caller built and hands over.
    internal SortedMap<TKey, TValue> WithValuesTakenOver(TValue[] values) => new(_keys, values);

    /// <summary>Number of entries.</summary>
    public int Count => _keys.Length;

    /// <summary>Keys in ascending order.</summary>
    public ImmutableArray<TKey> Keys => ImmutableCollectionsMarshal.AsImmutableArray(_keys);

    /// <summary>Values in the order of their keys.</summary>
    public ImmutableArray<TValue> Values => ImmutableCollectionsMarshal.AsImmutableArray(_values);

    IEnumerable<TKey> IReadOnlyDictionary<TKey, TValue>.Keys => _keys;

    IEnumerable<TValue> IReadOnlyDictionary<TKey, TValue>.Values => _values;

    /// <summary>The value of a key.</summary>
    /// <exception cref="KeyNotFoundException">The key is not in the map.</exception>
    public TValue this[TKey key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"key '{key}' is not in the map");

    /// <summary>Index of the key in <see cref="Keys"/>, or the bitwise complement of where it would go.</summary>
    public int IndexOf(TKey key)
    {
        // A plain loop: Comparer<TKey>.Default.Compare is devirtualized for value-type keys, where Array.BinarySearch goes
        // through an interface call per step. Keys are unique, so the result is the one Array.BinarySearch gives.
        var keys = _keys;
        int lo = 0, hi = keys.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var c = Comparer<TKey>.Default.Compare(keys[mid], key);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }

    /// <summary>True when the key is in the map.</summary>
    public bool ContainsKey(TKey key) => IndexOf(key) >= 0;

    /// <summary>The value of a key, when present.</summary>
    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        var i = IndexOf(key);
        if (i >= 0)
        {
            value = _values[i];
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Key at a position (ascending order).</summary>
    public TKey KeyAt(int index) => _keys[index];

    /// <summary>Value at a position (in the order of the keys).</summary>
    public TValue ValueAt(int index) => _values[index];

    /// <summary>Entries in key order, without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator()
    {
        for (var i = 0; i < _keys.Length; i++) yield return new(_keys[i], _values[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<TKey, TValue>>)this).GetEnumerator();

    /// <summary>Enumerates entries in key order.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private readonly SortedMap<TKey, TValue> _map;
        private int _index;

        internal Enumerator(SortedMap<TKey, TValue> map)
        {
            _map = map;
            _index = -1;
        }

        /// <summary>The current entry.</summary>
        public readonly KeyValuePair<TKey, TValue> Current => new(_map._keys[_index], _map._values[_index]);

        readonly object IEnumerator.Current => Current;

        /// <summary>Moves to the next entry.</summary>
        public bool MoveNext() => ++_index < _map._keys.Length;

        /// <summary>Back to before the first entry.</summary>
        public void Reset() => _index = -1;

        /// <summary>Nothing to release.</summary>
        public readonly void Dispose()
        {
        }
    }
}

/// <summary>Edits of a <see cref="SortedMap{TKey, TValue}"/> that produce a new map.</summary>
internal static class SortedMerge
{
    /// <summary>
    /// The map with <paramref name="remove"/> taken out, then <paramref name="upsert"/> added or replaced (an upsert wins over
    /// a removal of the same key, as applying removals first and upserts second would give).
    /// </summary>
    public static SortedMap<TKey, TValue> Apply<TKey, TValue>(SortedMap<TKey, TValue> map, ReadOnlySpan<TKey> remove, IEnumerable<KeyValuePair<TKey, TValue>> upsert)
        where TKey : notnull
    {
        var edits = new Dictionary<TKey, (bool Keep, TValue Value)>();
        foreach (var k in remove) edits[k] = (false, default!);
        foreach (var (k, v) in upsert) edits[k] = (true, v);
        if (edits.Count == 0) return map;
        // The size of the result; when every edit only replaces the value of a key already there (a weight change, the
        // usual delta), the keys are shared with the map and only the values are copied.
        var count = map.Count;
        var sameKeys = true;
        foreach (var (k, e) in edits)
        {
            var there = map.IndexOf(k) >= 0;
            if (there && !e.Keep) { count--; sameKeys = false; }
            else if (!there && e.Keep) { count++; sameKeys = false; }
        }
        if (sameKeys)
        {
            var replaced = map.Values.ToArray();
            foreach (var (k, e) in edits)
                if (e.Keep) replaced[map.IndexOf(k)] = e.Value;
            return map.WithValuesTakenOver(replaced);
        }
        var keys = new TKey[count];
        var values = new TValue[count];
        var n = 0;
        for (var i = 0; i < map.Count; i++)
        {
            var k = map.KeyAt(i);
            if (edits.Remove(k, out var e))
            {
                if (!e.Keep) continue;
                keys[n] = k;
                values[n++] = e.Value;
            }
            else
            {
                keys[n] = k;
                values[n++] = map.ValueAt(i);
            }
        }
        foreach (var (k, e) in edits)
        {
            if (!e.Keep) continue;
            keys[n] = k;
            values[n++] = e.Value;
        }
        return SortedMap<TKey, TValue>.FromArrays(keys, values, n, k => new InvalidOperationException($"key '{k}' twice after a merge"));
    }
}
