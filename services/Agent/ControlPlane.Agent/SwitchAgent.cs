using System.Threading.Channels;
using ControlPlane.Distribution;
using ControlPlane.Distribution.Agent;
using ControlPlane.Distribution.Wire;
using ControlPlane.Fabric;
using ControlPlane.Protos.Fabric.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Agent;

/// <summary>Who an agent is: its switch and the credential provisioned for it.</summary>
/// <param name="Fabric">Fabric name.</param>
/// <param name="SwitchName">Switch name as in the inventory.</param>
/// <param name="AgentId">Stable agent id (named in rejections and logs).</param>
/// <param name="Credential">The switch's own credential (<see cref="AgentCredentials.Issue"/>).</param>
public sealed record AgentIdentity(string Fabric, string SwitchName, string AgentId, string Credential);

/// <summary>What an install changed, for hooks (safety checks, emulation).</summary>
/// <param name="Agent">The agent.</param>
/// <param name="Previous">Table held before.</param>
/// <param name="Current">Table held now.</param>
public sealed record TableInstalled(SwitchAgent Agent, SwitchTable Previous, SwitchTable Current);

/// <summary>
/// The reference switch agent: says hello with the version it holds and the digest read back from its data plane,
/// applies each update whole or not at all (<see cref="AgentTableState"/>), acknowledges with its credential, reports
/// port events and telemetry, and says hello again when nothing was heard for a keepalive interval or after a
/// reconnect. Updates are applied one at a time per agent, in arrival order, on the agent's own loop, so the receiving
/// consumer never waits for an install.
/// </summary>
public sealed class SwitchAgent : IAsyncDisposable
{
    private readonly IAgentTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<byte[]> _inbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly int _groupSize;
    private AgentTableState _state;
    private IDataPlane _dataPlane;
    private Task? _loop;
    private long _sequence;
    private long _lastHeardTicks;
    private long _lastHelloTicks;
    private volatile bool _running;
    private readonly long _jitterTicks;

    /// <summary>Creates an agent that holds nothing yet.</summary>
    /// <exception cref="FabricInputException">A missing identity field or a keepalive not positive, naming the field.</exception>
    public SwitchAgent(AgentIdentity identity, IDataPlane dataPlane, int groupSize, IAgentTransport transport, TimeProvider? time = null,
        ILogger? logger = null, TimeSpan? keepAlive = null, string softwareVersion = "controlplane-agent/1")
    {
        ArgumentNullException.ThrowIfNull(identity);
        var e = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(identity.Fabric)) e.Add(new("fabric", "is required"));
        if (string.IsNullOrWhiteSpace(identity.SwitchName)) e.Add(new("switch", "is required"));
        if (string.IsNullOrWhiteSpace(identity.AgentId)) e.Add(new("agentId", "is required"));
        if (string.IsNullOrWhiteSpace(identity.Credential)) e.Add(new("credential", "is required"));
        if (keepAlive is { } k && k <= TimeSpan.Zero) e.Add(new("keepAlive", $"must be positive, got {k}"));
        if (e.Count > 0) throw new FabricInputException(e);
        Identity = identity;
        _dataPlane = dataPlane ?? throw new ArgumentNullException(nameof(dataPlane));
        _groupSize = groupSize;
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _time = time ?? TimeProvider.System;
        _log = logger ?? NullLogger.Instance;
        KeepAlive = keepAlive ?? TimeSpan.FromSeconds(10);
        SoftwareVersion = softwareVersion;
        _state = new AgentTableState(identity.SwitchName, groupSize, dataPlane);
        SessionId = (ulong)Random.Shared.NextInt64() | 1;
        // Up to a quarter of the interval, fixed per agent: agents started together do not all say hello in the same second.
        _jitterTicks = (long)(KeepAlive.Ticks * 0.25 * Random.Shared.NextDouble());
        BootId = (ulong)Random.Shared.NextInt64() | 1;
    }

    /// <summary>Identity.</summary>
    public AgentIdentity Identity { get; }

    /// <summary>Switch name.</summary>
    public string SwitchName => Identity.SwitchName;

    /// <summary>Silence after which the agent says hello again.</summary>
    public TimeSpan KeepAlive { get; }

    /// <summary>Sent in hellos.</summary>
    public string SoftwareVersion { get; }

    /// <summary>Telemetry session (random per agent start).</summary>
    public ulong SessionId { get; }

    /// <summary>Telemetry boot id: changes when the switch restarts (its counters start from 0).</summary>
    public ulong BootId { get; private set; }

    /// <summary>False after a crash until a restart: the agent answers nothing.</summary>
    public bool Running => _running;

    /// <summary>The data plane the agent programs.</summary>
    public IDataPlane DataPlane => _dataPlane;

    /// <summary>Last table applied (version 0 before the first).</summary>
    public SwitchTable Current => _state.Current;

    /// <summary>Version held.</summary>
    public ulong Version => _state.Current.Version;

    /// <summary>Updates received (including refused and dropped ones).</summary>
    public long UpdatesReceived => Interlocked.Read(ref _updates);
    private long _updates;

    /// <summary>Acks sent with applied = true.</summary>
    public long AcksSent => Interlocked.Read(ref _acks);
    private long _acks;

    /// <summary>Acks sent with applied = false.</summary>
    public long Rejects => Interlocked.Read(ref _rejects);
    private long _rejects;

    /// <summary>Hellos sent.</summary>
    public long HellosSent => Interlocked.Read(ref _hellos);
    private long _hellos;

    /// <summary>Raised on the agent's loop after every successful install that changed the table.</summary>
    public event Action<TableInstalled>? Installed;

    /// <summary>Starts the update loop and says hello.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _running = true;
        _loop ??= Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
        await SayHelloAsync(cancellationToken);
    }

    /// <summary>Sends a hello with the version held and the read-back digest (no-op while crashed).</summary>
    public async Task SayHelloAsync(CancellationToken cancellationToken = default)
    {
        if (!_running) return;
        var hello = TableWire.ToProto(_state.Hello(), Identity.AgentId, Identity.Credential, SoftwareVersion);
        await _transport.HelloAsync(Identity.Fabric, hello, cancellationToken);
        Interlocked.Exchange(ref _lastHelloTicks, _time.GetUtcNow().UtcTicks);
        Interlocked.Increment(ref _hellos);
    }

    /// <summary>Says hello when nothing was heard and nothing said for <see cref="KeepAlive"/>; true when it did.</summary>
    public async Task<bool> KeepAliveAsync(CancellationToken cancellationToken = default)
    {
        if (!_running) return false;
        var now = _time.GetUtcNow().UtcTicks;
        var quiet = Math.Max(Interlocked.Read(ref _lastHeardTicks), Interlocked.Read(ref _lastHelloTicks));
        if (now - quiet < KeepAlive.Ticks + _jitterTicks) return false;
        await SayHelloAsync(cancellationToken);
        return true;
    }

    /// <summary>Queues an update (protobuf <c>fabric.v1.RouteUpdate</c>) for the agent's loop; false when the agent is down.</summary>
    public bool Enqueue(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (!_running) return false;
        return _inbox.Writer.TryWrite(payload);
    }

    /// <summary>
    /// Applies one update now (serialised with the loop) and acknowledges it; returns the ack, or null when the agent is
    /// down or the update is a QoS config (not handled by this reference yet).
    /// </summary>
    public async Task<AgentAck?> HandleUpdateAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        await _gate.WaitAsync(cancellationToken);
        AgentAck ack;
        TableInstalled? installed = null;
        try
        {
            if (!_running) return null;
            Interlocked.Increment(ref _updates);
            Interlocked.Exchange(ref _lastHeardTicks, _time.GetUtcNow().UtcTicks);
            TableUpdate? update;
            try
            {
                update = TableCodec.DecodeUpdate(payload);
            }
            catch (Exception ex) when (ex is InvalidProtocolBufferException or FabricInputException)
            {
                update = null;
                ack = new AgentAck(SwitchName, 0, false, "malformed update: " + ex.Message, _dataPlane.ReadBack());
                goto send;
            }
            if (update is null)
            {
                _log.LogDebug("{Switch}: QoS config ignored", SwitchName);
                return null;
            }
            var before = _state.Current;
            ack = _state.Apply(update);
            if (ack.Applied && !ReferenceEquals(before, _state.Current)) installed = new TableInstalled(this, before, _state.Current);
        send:
            var wire = TableWire.ToProto(ack, Identity.AgentId);
            wire.Credential = Identity.Credential;
            await _transport.AckAsync(Identity.Fabric, wire, cancellationToken);
            if (ack.Applied) Interlocked.Increment(ref _acks);
            else
            {
                Interlocked.Increment(ref _rejects);
                _log.LogInformation("{Switch}: refused v{Version}: {Reason}", SwitchName, ack.Version, ack.RejectReason);
            }
        }
        finally
        {
            _gate.Release();
        }
        if (installed is not null) Installed?.Invoke(installed);
        return ack;
    }

    /// <summary>Reports a port state change (no-op while crashed); <paramref name="triggerId"/> correlates it with its cause.</summary>
    public async Task<bool> ReportPortAsync(int port, bool up, string reason, string? triggerId, CancellationToken cancellationToken = default)
    {
        if (!_running) return false;
        if (port < 1 || port > _dataPlane.Radix) throw new FabricInputException("port", $"must be between 1 and {_dataPlane.Radix}, got {port}");
        var ev = new PortStateEvent
        {
            SwitchName = SwitchName,
            Port = (uint)port,
            Up = up,
            TimeUnixNanos = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100,
            Reason = reason ?? "",
            AgentId = Identity.AgentId,
            Credential = Identity.Credential,
        };
        await _transport.PortStateAsync(Identity.Fabric, ev, triggerId, cancellationToken);
        return true;
    }

    /// <summary>Sends a telemetry batch, filling switch, agent, session, sequence and boot id (no-op while crashed).</summary>
    public async Task<bool> SendTelemetryAsync(TelemetryBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!_running) return false;
        batch.SwitchName = SwitchName;
        batch.AgentId = Identity.AgentId;
        batch.SessionId = SessionId;
        batch.Sequence = (ulong)Interlocked.Increment(ref _sequence);
        if (batch.BootId == 0) batch.BootId = BootId;
        if (batch.SampleTimeUnixNanos == 0) batch.SampleTimeUnixNanos = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        await _transport.TelemetryAsync(Identity.Fabric, batch, cancellationToken);
        return true;
    }

    /// <summary>The switch crashed: the agent stops answering; queued updates are dropped.</summary>
    public void Crash()
    {
        _running = false;
        while (_inbox.Reader.TryRead(out _)) { }
    }

    /// <summary>The switch restarted with an empty data plane: version 0, a new boot id, and a hello.</summary>
    public async Task RestartAsync(IDataPlane freshDataPlane, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(freshDataPlane);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _dataPlane = freshDataPlane;
            _state = new AgentTableState(SwitchName, _groupSize, freshDataPlane);
            BootId = (ulong)Random.Shared.NextInt64() | 1;
        }
        finally
        {
            _gate.Release();
        }
        await StartAsync(cancellationToken);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        try
        {
            while (await _inbox.Reader.WaitToReadAsync(ct))
            {
                while (_inbox.Reader.TryRead(out var payload))
                {
                    try
                    {
                        await HandleUpdateAsync(payload, ct);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception ex)
                    {
                        _log.LogWarning(ex, "{Switch}: update failed", SwitchName);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _running = false;
        _inbox.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try { await _loop; } catch (OperationCanceledException) { }
        }
        _stop.Dispose();
        _gate.Dispose();
    }
}
