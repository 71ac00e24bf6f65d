// AgentRuntime.cs - the agent's state for the life of the host process and its start: broker client, caches, warm-up. Its concerns are in AgentRuntime.*.cs.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using LaneShim.Agent.Abi;
using LaneShim.Agent.Native;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Asks the broker for lanes and applies them; every failure ends in a code the shim fails open on.</summary>
internal sealed unsafe partial class AgentRuntime
{
    private static readonly TimeSpan NegativeTtl = TimeSpan.FromSeconds(5);

    // A late flow (LANESHIM_FLOW_LATE) is connected already; the broker call for it may take this long.
    private static readonly TimeSpan LateBudget = TimeSpan.FromSeconds(1);

    private readonly BrokerChannel _client;

    private readonly TimeSpan _deadline;

    private readonly string _program;

    private readonly GrantCache _cache = new(TimeProvider.System);

    private readonly ConcurrentDictionary<GrantKey, long> _refused = new();

    private readonly BrokerBackoff _backoff = new(TimeProvider.System);

    private readonly FlowReporter _reporter;

    private readonly LeaseRenewer _renewer;

    private readonly ConcurrentDictionary<int, PendingFlow> _pending = new();

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<LaneGrant, KnownOutcome> _readBacks = new();

    private readonly ConcurrentDictionary<ulong, OpenLane> _open = new(); // by socket cookie: the fd that closes last may be a dup
    private bool _serving; // a thread serves: the shim's (laneshim_agent_serve) or the agent's own
    private int _serviceStarted;

    private AgentRuntime(BrokerChannel client, TimeSpan deadline, string program)
    {
        _client = client;
        _deadline = deadline;
        _program = program;
        _reporter = new FlowReporter(client);
        _renewer = new LeaseRenewer(client) { Lost = _cache.RemoveLease, Renewed = _cache.ExtendLease };
    }

    /// <summary>The largest broker reply the agent reads.</summary>
    internal const int MaxReplyBytes = 64 * 1024;

    /// <summary>The runtime after a successful laneshim_agent_init; null before.</summary>
    public static AgentRuntime? Current { get; private set; }

    /// <summary>
    /// Creates the runtime from the shim's config. Returns a LANESHIM_* code. <paramref name="inline"/>: the shim calls
    /// from a program's thread inside its first eligible call (LANESHIM_INIT_INLINE), so the warm-up gets the deadline.
    /// </summary>
    public static int Initialise(string broker, uint deadlineMs, string? program, bool inline = false)
    {
        if (!BrokerAddress.TryParse(broker, out BrokerAddress? address, out string error) || address is null)
        {
            AgentLog.Error($"broker address '{broker}': {error}");
            return AbiConstants.ErrorInvalid;
        }
        // A grant is a few hundred bytes: a broker that sends megabytes is broken, and reading them costs the deadline.
        var client = BrokerChannel.Open(address, AgentTls.Options(address, MaxReplyBytes, Transport()));
        TimeSpan deadline = TimeSpan.FromMilliseconds(Math.Clamp(deadlineMs == 0 ? 20 : deadlineMs, 1, 10_000));
        var runtime = new AgentRuntime(client, deadline, program ?? Environment.ProcessPath ?? "");
        runtime.WarmUp(inline);
        Current = runtime;
        AgentLog.Info($"agent ready: broker {address}, deadline {deadline.TotalMilliseconds} ms");
        return AbiConstants.Ok;
    }

    /// <summary>
    /// The transport of the agent's calls: the direct HTTP/2 connection (no thread, no timer) unless
    /// <c>LANESHIM_AGENT_TRANSPORT=sockets</c> asks for SocketsHttpHandler (the benchmark compares both; ignored in
    /// setuid programs).
    /// </summary>
    private static BrokerTransport Transport() =>
        Libc.GetAuxVal(Libc.AT_SECURE) == 0 && Environment.GetEnvironmentVariable("LANESHIM_AGENT_TRANSPORT") == "sockets"
            ? BrokerTransport.Sockets
            : BrokerTransport.Direct;

    /// <summary>
    /// Runs, on the shim's loader thread, what a first call would otherwise pay inside a program's connect(): the
    /// host probe, the message code, the connection to the broker and one call on it (an unreachable broker starts the
    /// backoff).
    /// </summary>
    private void WarmUp(bool inline)
    {
        _ = HostProbe.Limits;
        var sample = new LaneshimFlow { Fd = -1, Direction = AbiConstants.DirOutbound, Family = Libc.AF_INET };
        _ = BuildRequest(sample).ToByteArray();
        // In the loader thread, off any connect() path, a tiny deadline must not make a healthy broker look dead (and
        // start the backoff); inline, a program's first call is waiting, and the deadline is all there is.
        TimeSpan warm = inline ? _deadline : TimeSpan.FromMilliseconds(Math.Clamp(_deadline.TotalMilliseconds, 100, 1000));
        if (!_client.Warm(warm))
        {
            _backoff.Failed();
            return;
        }

        try
        {
            // One real call through the generated client, Grpc.Net.Client and the connection (an empty report batch: the
            // broker does nothing with it), so a program's first connect() pays none of their first-use costs.
            _client.Call((c, o) => c.ReportFlows(new FlowReportBatch(), o), warm);
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded))
        {
            // An older broker without ReportFlows warms the same path.
        }
        catch (RpcException e) when (inline || e.StatusCode != StatusCode.DeadlineExceeded)
        {
            _backoff.Failed();
        }
        catch (RpcException)
        {
            // Off the connect path, a slow first call (a TLS handshake on a loaded machine took 1.07 s) says the broker
            // is slow to start, not that it is gone: the program's first connect still asks, within its own deadline.
        }
    }

    private sealed record PendingFlow(string LeaseId, int Direction, LaneshimOutcome Outcome, bool FromCache, OpenLane? Lane);

    private sealed record KnownOutcome(uint Set, int Family, LaneshimOutcome Outcome);

    private sealed record OpenLane(string LeaseId, bool PerFlow, long Started)
    {
        /// <summary>The flow's connect report while it may still be in the reporter's queue.</summary>
        public QueuedReport? ConnectReport { get; set; }
    }
}
