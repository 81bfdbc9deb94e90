using ControlPlane.Fabric;

namespace ControlPlane.Distribution;

/// <summary>Tuning of the <see cref="DistributionPlanner"/>.</summary>
public sealed record DistributionOptions
{
    /// <summary>Wait before the first retry of an unacknowledged send.</summary>
    public TimeSpan InitialRetry { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap of the exponential back-off.</summary>
    public TimeSpan MaxRetry { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Jitter as a fraction of the back-off, 0..1: each wait is scaled by a factor in [1-j, 1+j].</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Congestion-lane sends (first sends and retries) allowed per switch in any one-second window.</summary>
    public int CongestionUpdatesPerSecond { get; init; } = 2;

    /// <summary>Sends per <see cref="DistributionPlanner.Plan"/> call, priority lane served first.</summary>
    public int MaxSendsPerPlan { get; init; } = int.MaxValue;

    /// <summary>After this many unacknowledged delta attempts, send the full table instead.</summary>
    public int FullTableAfterAttempts { get; init; } = 3;

    /// <summary>Every problem, each naming its field.</summary>
    public IReadOnlyList<FieldError> Validate()
    {
        var e = new List<FieldError>();
        if (InitialRetry <= TimeSpan.Zero) e.Add(new("initialRetry", $"must be positive, got {InitialRetry}"));
        if (MaxRetry < InitialRetry) e.Add(new("maxRetry", $"must be at least initialRetry ({InitialRetry}), got {MaxRetry}"));
        if (!double.IsFinite(Jitter) || Jitter < 0 || Jitter > 1) e.Add(new("jitter", $"must be between 0 and 1, got {Jitter}"));
        if (CongestionUpdatesPerSecond < 1) e.Add(new("congestionUpdatesPerSecond", $"must be at least 1, got {CongestionUpdatesPerSecond}"));
        if (MaxSendsPerPlan < 1) e.Add(new("maxSendsPerPlan", $"must be at least 1, got {MaxSendsPerPlan}"));
        if (FullTableAfterAttempts < 1) e.Add(new("fullTableAfterAttempts", $"must be at least 1, got {FullTableAfterAttempts}"));
        return e;
    }
}

/// <summary>Why a send was planned.</summary>
public enum SendReason
{
    /// <summary>A new desired version.</summary>
    NewVersion,

    /// <summary>The previous send of this version was not acknowledged in time.</summary>
    Retry,

    /// <summary>The agent reconnected.</summary>
    Reconnect,

    /// <summary>The agent's installed digest differs from what it should hold: full table to repair.</summary>
    Repair,

    /// <summary>The agent refused a delta: full table.</summary>
    AfterReject,
}

/// <summary>One update to send now.</summary>
/// <param name="Update">The full table or delta.</param>
/// <param name="Lane">Lane it travels in.</param>
/// <param name="Attempt">1 for the first send of this version, then 2, 3...</param>
/// <param name="Reason">Why.</param>
public sealed record PlannedSend(TableUpdate Update, Lane Lane, int Attempt, SendReason Reason)
{
    /// <summary>Switch.</summary>
    public string SwitchName => Update.SwitchName;

    /// <summary>True when a delta.</summary>
    public bool IsDelta => Update.Delta is not null;
}

/// <summary>Outcome of a <see cref="DistributionPlanner.Plan"/> call.</summary>
/// <param name="Sends">Updates to send now, priority lane first.</param>
/// <param name="RateLimited">Switches whose congestion-lane update waits for the rate limit.</param>
/// <param name="OverBudget">Switches left for the next call by <see cref="DistributionOptions.MaxSendsPerPlan"/>.</param>
/// <param name="NextWakeUp">Earliest time something waiting (retry, rate limit) becomes due, if any.</param>
public sealed record DistributionPlan(IReadOnlyList<PlannedSend> Sends, IReadOnlyList<string> RateLimited, IReadOnlyList<string> OverBudget, DateTimeOffset? NextWakeUp);

/// <summary>How an ack or hello was taken.</summary>
public enum AckOutcome
{
    /// <summary>New acknowledged version.</summary>
    Applied,

    /// <summary>Same version acknowledged again: harmless.</summary>
    Duplicate,

    /// <summary>Ack for an older version than the acknowledged one: harmless, the acknowledged version is not lowered.</summary>
    Stale,

    /// <summary>Ack for a version never sent to that switch: ignored.</summary>
    UnknownVersion,

    /// <summary>Ack or hello from a switch the planner does not know: ignored.</summary>
    UnknownSwitch,

    /// <summary>The agent refused the update; a full table follows, or the switch is blocked when the full table was refused.</summary>
    Rejected,

    /// <summary>The installed digest differs from the acknowledged table's: a full table follows (repair).</summary>
    Drift,

    /// <summary>Hello: the agent holds a version and digest the planner knows; it gets the delta (or nothing).</summary>
    InSync,

    /// <summary>Hello: the agent holds something the planner cannot diff from; it gets the full table.</summary>
    NeedsFullTable,
}

/// <summary>Outcome of an ack or hello, with a sentence for logs and events.</summary>
/// <param name="Outcome">Outcome.</param>
/// <param name="Detail">What happened.</param>
public sealed record AckReport(AckOutcome Outcome, string Detail);

/// <summary>Read-only view of one switch's distribution state.</summary>
/// <param name="SwitchName">Switch.</param>
/// <param name="DesiredVersion">Latest desired version, 0 when none.</param>
/// <param name="AckedVersion">Version the agent acknowledged (or said it holds in its hello).</param>
/// <param name="AckedDigest">Digest the agent reported with it.</param>
/// <param name="InFlightVersion">Version sent and not yet acknowledged, if any.</param>
/// <param name="Attempt">Attempts for the in-flight version.</param>
/// <param name="NeedsFullTable">True when the next send must be a full table.</param>
/// <param name="BlockedReason">Set when the agent refused the full desired table (e.g. table full); cleared by a new desired version or a hello.</param>
/// <param name="Lane">Lane of the pending update.</param>
public sealed record SwitchDistributionStatus(
    string SwitchName, ulong DesiredVersion, ulong AckedVersion, byte[] AckedDigest, ulong? InFlightVersion, int Attempt,
    bool NeedsFullTable, string? BlockedReason, Lane Lane)
{
    /// <summary>True when the agent acknowledged the desired version and nothing needs repair.</summary>
    public bool InSync => DesiredVersion == AckedVersion && !NeedsFullTable;
}

/// <summary>
/// Decides, per fabric, what to send to each switch agent and when. Pure: no I/O; time comes in as a parameter and
/// jitter from the seeded <see cref="Random"/> given at construction. Not thread-safe: one owner (the distribution
/// service's shard leader) calls it.
/// <list type="bullet">
/// <item>Desired versions come in with <see cref="SetDesired"/>; a newer version supersedes an unsent or unacknowledged older one (coalescing).</item>
/// <item><see cref="Plan"/> sends a delta when the agent's acknowledged version is one the planner sent (the delta's base), else the full table.</item>
/// <item>Unacknowledged sends are retried with exponential back-off and jitter; after <see cref="DistributionOptions.FullTableAfterAttempts"/> attempts, as a full table.</item>
/// <item>Priority-lane updates are planned before congestion-lane ones and never rate-limited; the congestion lane is limited per switch per second.</item>
/// <item>Duplicate, stale and out-of-order acks never lower the acknowledged version; acks for versions never sent are ignored and reported.</item>
/// <item>A hello sets what the agent holds; a digest that differs from the planner's copy of that version means drift: full table (repair).</item>
/// </list>
/// </summary>
public sealed class DistributionPlanner
{
    private readonly DistributionOptions _options;
    private readonly Random _random;
    private readonly SortedDictionary<string, State> _switches = new(StringComparer.Ordinal);
    // The same states by name for lookups: every ack and every plan looks switches up, and a hash lookup costs a fraction
    // of a walk down the sorted tree (kept for the ordered enumeration).
    private readonly Dictionary<string, State> _byName = new(StringComparer.Ordinal);
    // Switches whose desired table is not acknowledged (or need repair): the only ones Plan looks at, so a plan after
    // each ack costs what is in progress, not the size of the fabric.
    // A sorted list: Plan walks it after every ack, and walking arrays by index costs far less than walking a tree.
    private readonly SortedList<string, State> _pending = new(StringComparer.Ordinal);

    /// <summary>Creates a planner.</summary>
    /// <param name="options">Tuning; validated.</param>
    /// <param name="random">Seeded source of retry jitter.</param>
    /// <exception cref="FabricInputException">Invalid options.</exception>
    public DistributionPlanner(DistributionOptions options, Random random)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new FabricInputException(errors);
        _options = options;
        _random = random;
    }

    /// <summary>Switches known to the planner.</summary>
    public IEnumerable<string> Switches => _switches.Keys;

    /// <summary>
    /// Sets what a switch can hold; desired tables that would not fit are refused by <see cref="SetDesired"/> from then on.
    /// </summary>
    public void SetCapacity(string switchName, SwitchCapacity capacity)
    {
        ArgumentNullException.ThrowIfNull(capacity);
        Get(switchName).Capacity = capacity;
    }

    /// <summary>
    /// Sets the desired table of a switch, unless it would not fit the switch's capacity (see <see cref="SetCapacity"/>):
    /// then nothing is sent, the previous desired table stays, and the reasons come back so the engine can coarsen
    /// (<see cref="Coarsening.Fit"/>) and try again. Versions must increase per switch. A priority update keeps its
    /// lane until acknowledged even when a congestion update supersedes it, so a failure fix never waits behind the
    /// rate limit.
    /// </summary>
    /// <returns>Empty when accepted; else why the table does not fit, each naming the field.</returns>
    /// <exception cref="ArgumentException">The version does not increase.</exception>
    public IReadOnlyList<FieldError> SetDesired(SwitchTable table, Lane lane)
    {
        ArgumentNullException.ThrowIfNull(table);
        var s = Get(table.SwitchName);
        if (s.Desired is { } d && table.Version <= d.Version)
            throw new ArgumentException($"version of '{table.SwitchName}' must increase: desired is v{d.Version}, got v{table.Version}", nameof(table));
        if (table.Version <= s.AckedVersion)
            throw new ArgumentException($"version of '{table.SwitchName}' must be above the acknowledged v{s.AckedVersion}, got v{table.Version}", nameof(table));
        if (s.Capacity?.Check(table) is { Count: > 0 } tooBig) return tooBig;
        s.Desired = table;
        s.Sent[table.Version] = table;
        s.Blocked = null;
        if (lane == Lane.Priority) s.PriorityUpTo = table.Version;
        Touch(table.SwitchName, s);
        return [];
    }

    /// <summary>Plans the sends due at <paramref name="now"/>.</summary>
    public DistributionPlan Plan(DateTimeOffset now)
    {
        var priority = new List<PlannedSend>();
        var congestion = new List<PlannedSend>();
        var limited = new List<string>();
        var over = new List<string>();
        DateTimeOffset? wake = null;
        void Wake(DateTimeOffset t) => wake = wake is { } w && w <= t ? w : t;
        var budget = _options.MaxSendsPerPlan;

        // The priority lane takes the budget first: one walk over the pending switches serves it and sets the congestion
        // ones aside (in name order, as a second walk would find them; serving a switch changes no other switch's state).
        List<(string Name, State S, SwitchTable Desired)>? later = null;
        var (names, states) = (_pending.Keys, _pending.Values);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var s = states[i];
            if (s.Desired is not { } desired || s.Blocked is not null) continue;
            if (s.AckedVersion == desired.Version && !s.NeedsFull) continue;
            if (s.PriorityUpTo > s.AckedVersion) Serve(name, s, desired, Lane.Priority);
            else (later ??= []).Add((name, s, desired));
        }
        if (later is not null)
        {
            foreach (var (name, s, desired) in later) Serve(name, s, desired, Lane.Congestion);
        }

        void Serve(string name, State s, SwitchTable desired, Lane lane)
        {
            var retry = s.InFlight is { } f && f.Version == desired.Version;
            if (retry && now < s.InFlight!.RetryAt)
            {
                Wake(s.InFlight.RetryAt);
                return;
            }
            if (lane == Lane.Congestion)
            {
                while (s.CongestionSends.Count > 0 && s.CongestionSends.Peek() <= now - TimeSpan.FromSeconds(1)) s.CongestionSends.Dequeue();
                if (s.CongestionSends.Count >= _options.CongestionUpdatesPerSecond)
                {
                    limited.Add(name);
                    Wake(s.CongestionSends.Peek() + TimeSpan.FromSeconds(1));
                    return;
                }
            }
            if (budget == 0)
            {
                over.Add(name);
                return;
            }
            budget--;
            var attempt = retry ? s.InFlight!.Attempt + 1 : 1;
            var reason = s.PendingReason ?? (retry ? SendReason.Retry : SendReason.NewVersion);
            var update = Build(s, desired, attempt, lane == Lane.Priority);
            var retryAt = now + Backoff(attempt);
            s.InFlight = new InFlight(desired.Version, attempt, update.Delta is null, retryAt);
            s.SentVersions.Add(desired.Version);
            s.PendingReason = null;
            if (lane == Lane.Congestion) s.CongestionSends.Enqueue(now);
            Wake(retryAt);
            (lane == Lane.Priority ? priority : congestion).Add(new PlannedSend(update, lane, attempt, reason));
        }
        priority.AddRange(congestion);
        return new DistributionPlan(priority, limited, over, wake);
    }

    /// <summary>Takes an agent's ack.</summary>
    public AckReport OnAck(AgentAck ack)
    {
        ArgumentNullException.ThrowIfNull(ack);
        var r = OnAckCore(ack);
        Touch(ack.SwitchName);
        return r;
    }

    private AckReport OnAckCore(AgentAck ack)
    {
        if (!_byName.TryGetValue(ack.SwitchName, out var s)) return new(AckOutcome.UnknownSwitch, $"ack from unknown switch '{ack.SwitchName}' ignored");
        s.Sent.TryGetValue(ack.Version, out var table);
        if (!s.SentVersions.Contains(ack.Version) && ack.Version > s.AckedVersion)
            return new(AckOutcome.UnknownVersion, $"{ack.SwitchName}: ack for v{ack.Version}, never sent, ignored");
        if (!ack.Applied)
        {
            if (s.InFlight is not { } f || f.Version != ack.Version)
                return new(AckOutcome.Stale, $"{ack.SwitchName}: refusal of v{ack.Version}, no longer in flight, ignored");
            s.InFlight = null;
            var reason = ack.RejectReason ?? "no reason given";
            if (f.Full)
            {
                s.Blocked = reason;
                return new(AckOutcome.Rejected, $"{ack.SwitchName}: full table v{ack.Version} refused ({reason}); blocked until a new version");
            }
            s.NeedsFull = true;
            s.PendingReason = SendReason.AfterReject;
            return new(AckOutcome.Rejected, $"{ack.SwitchName}: delta to v{ack.Version} refused ({reason}); full table next");
        }
        if (ack.Version < s.AckedVersion) return new(AckOutcome.Stale, $"{ack.SwitchName}: ack for v{ack.Version} below acknowledged v{s.AckedVersion}, ignored");
        if (ack.Version == s.AckedVersion && !s.NeedsFull) return new(AckOutcome.Duplicate, $"{ack.SwitchName}: v{ack.Version} acknowledged again");
        s.AckedVersion = ack.Version;
        s.AckedDigest = ack.InstalledDigest;
        if (s.InFlight is { } g && g.Version <= ack.Version) s.InFlight = null;
        Prune(s);
        if (table is null || !table.Digest.SequenceEqual(ack.InstalledDigest))
        {
            s.NeedsFull = true;
            s.PendingReason = SendReason.Repair;
            return new(AckOutcome.Drift, $"{ack.SwitchName}: v{ack.Version} applied but installed digest {TableDigest.Short(ack.InstalledDigest)} differs from {(table is null ? "(unknown)" : TableDigest.Short(table.Digest))}; full table next");
        }
        s.NeedsFull = false;
        return new(AckOutcome.Applied, $"{ack.SwitchName}: v{ack.Version} acknowledged");
    }

    /// <summary>
    /// Takes an agent's hello after a (re)connect: what it holds replaces the planner's belief (it may be lower, e.g. after
    /// a reboot), anything in flight is considered lost and is planned again at once.
    /// </summary>
    public AckReport OnHello(AgentHelloInfo hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        var r = OnHelloCore(hello);
        Touch(hello.SwitchName);
        return r;
    }

    private AckReport OnHelloCore(AgentHelloInfo hello)
    {
        if (!_byName.TryGetValue(hello.SwitchName, out var s)) return new(AckOutcome.UnknownSwitch, $"hello from unknown switch '{hello.SwitchName}' ignored");
        s.InFlight = null;
        s.Blocked = null;
        s.AckedVersion = hello.Version;
        s.AckedDigest = hello.InstalledDigest;
        // The agent is ahead of us (the control plane lost its state): renumber so versions keep increasing.
        if (s.Desired is { } d && hello.Version > d.Version)
        {
            s.Desired = d.WithVersion(hello.Version + 1);
            s.Sent[s.Desired.Version] = s.Desired;
        }
        if (s.Sent.TryGetValue(hello.Version, out var t) && t.Digest.SequenceEqual(hello.InstalledDigest))
        {
            s.NeedsFull = false;
            s.PendingReason = SendReason.Reconnect;
            Prune(s);
            return new(AckOutcome.InSync, $"{hello.SwitchName}: holds v{hello.Version} as sent");
        }
        s.NeedsFull = true;
        var known = t is not null;
        s.PendingReason = known ? SendReason.Repair : SendReason.Reconnect;
        return known
            ? new(AckOutcome.Drift, $"{hello.SwitchName}: holds v{hello.Version} with digest {TableDigest.Short(hello.InstalledDigest)}, expected {TableDigest.Short(t!.Digest)}; full table (repair)")
            : new(AckOutcome.NeedsFullTable, $"{hello.SwitchName}: holds v{hello.Version}, unknown here; full table");
    }

    /// <summary>
    /// Takes a periodic read-back of the installed digest (audit). A digest differing from the acknowledged table's
    /// means the data plane drifted: full table (repair).
    /// </summary>
    public AckReport OnReadBack(string switchName, byte[] installedDigest)
    {
        var r = OnReadBackCore(switchName, installedDigest);
        Touch(switchName);
        return r;
    }

    private AckReport OnReadBackCore(string switchName, byte[] installedDigest)
    {
        if (!_byName.TryGetValue(switchName, out var s)) return new(AckOutcome.UnknownSwitch, $"read-back from unknown switch '{switchName}' ignored");
        if (s.Sent.TryGetValue(s.AckedVersion, out var t) && t.Digest.SequenceEqual(installedDigest)) return new(AckOutcome.InSync, $"{switchName}: v{s.AckedVersion} installed as sent");
        s.AckedDigest = installedDigest;
        s.NeedsFull = true;
        s.PendingReason = SendReason.Repair;
        return new(AckOutcome.Drift, $"{switchName}: installed digest {TableDigest.Short(installedDigest)} differs from acknowledged v{s.AckedVersion}; full table (repair)");
    }

    /// <summary>True when the switch acknowledged <paramref name="version"/> or a later one, without pending repair.</summary>
    public bool IsAcknowledged(string switchName, ulong version) =>
        _byName.TryGetValue(switchName, out var s) && s.AckedVersion >= version && !s.NeedsFull;

    /// <summary>Same as <see cref="Status"/>(<paramref name="switchName"/>).InSync, without building the status (asked after every ack).</summary>
    /// <exception cref="KeyNotFoundException">Unknown switch.</exception>
    public bool IsInSync(string switchName)
    {
        if (!_byName.TryGetValue(switchName, out var s)) throw new KeyNotFoundException($"switch '{switchName}' is not known to the planner");
        return (s.Desired?.Version ?? 0) == s.AckedVersion && !s.NeedsFull;
    }

    /// <summary>State of one switch.</summary>
    /// <exception cref="KeyNotFoundException">Unknown switch.</exception>
    public SwitchDistributionStatus Status(string switchName)
    {
        if (!_byName.TryGetValue(switchName, out var s)) throw new KeyNotFoundException($"switch '{switchName}' is not known to the planner");
        return new(switchName, s.Desired?.Version ?? 0, s.AckedVersion, s.AckedDigest, s.InFlight?.Version, s.InFlight?.Attempt ?? 0,
            s.NeedsFull, s.Blocked, s.PriorityUpTo > s.AckedVersion ? Lane.Priority : Lane.Congestion);
    }

    private TableUpdate Build(State s, SwitchTable desired, int attempt, bool priority)
    {
        if (s.NeedsFull || attempt > _options.FullTableAfterAttempts || s.AckedVersion == 0 ||
            !s.Sent.TryGetValue(s.AckedVersion, out var from) || from.GroupSize != desired.GroupSize)
            return TableUpdate.Full(desired, priority);
        return TableUpdate.Diff(TableDiff.Compute(from, desired), priority);
    }

    private TimeSpan Backoff(int attempt)
    {
        var b = _options.InitialRetry.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        b = Math.Min(b, _options.MaxRetry.TotalMilliseconds);
        var factor = 1 + _options.Jitter * (_random.NextDouble() * 2 - 1);
        return TimeSpan.FromMilliseconds(b * factor);
    }

    // Older versions than the acknowledged one can never be a delta base again (acks never lower it; a hello that does
    // lower it finds no copy and gets the full table).
    private static void Prune(State s)
    {
        foreach (var v in s.Sent.Keys.Where(v => v < s.AckedVersion).ToList()) s.Sent.Remove(v);
        s.SentVersions.RemoveWhere(v => v < s.AckedVersion);
    }

    private void Touch(string name)
    {
        if (_byName.TryGetValue(name, out var s)) Touch(name, s);
    }

    private void Touch(string name, State s)
    {
        if (s.Desired is { } d && (s.AckedVersion != d.Version || s.NeedsFull)) _pending[name] = s;
        else _pending.Remove(name);
    }

    private State Get(string name)
    {
        if (!_byName.TryGetValue(name, out var s))
        {
            _switches[name] = _byName[name] = s = new State();
        }
        return s;
    }

    private sealed record InFlight(ulong Version, int Attempt, bool Full, DateTimeOffset RetryAt);

    private sealed class State
    {
        public SwitchTable? Desired;
        public SwitchCapacity? Capacity;
        public ulong AckedVersion;
        public byte[] AckedDigest = [];
        public InFlight? InFlight;
        public bool NeedsFull;
        public string? Blocked;
        public ulong PriorityUpTo;
        public SendReason? PendingReason;
        // Tables the planner holds by version (desired ones, sent or not): delta bases and digests to check.
        public readonly SortedDictionary<ulong, SwitchTable> Sent = [];
        public readonly HashSet<ulong> SentVersions = [];
        public readonly Queue<DateTimeOffset> CongestionSends = new();
    }
}
