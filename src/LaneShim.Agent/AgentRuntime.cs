// AgentRuntime.cs - the agent's state for the life of the host process: broker client, grant cache, reporter.
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
internal sealed unsafe class AgentRuntime
{
    private static readonly TimeSpan NegativeTtl = TimeSpan.FromSeconds(5);
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

    /// <summary>Creates the runtime from the shim's config. Returns a LANESHIM_* code.</summary>
    public static int Initialise(string broker, uint deadlineMs, string? program)
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
        runtime.WarmUp();
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
    private void WarmUp()
    {
        _ = HostProbe.Limits;
        var sample = new LaneshimFlow { Fd = -1, Direction = AbiConstants.DirOutbound, Family = Libc.AF_INET };
        _ = BuildRequest(sample).ToByteArray();
        if (!_client.Warm(_deadline))
        {
            _backoff.Failed();
            return;
        }

        try
        {
            // One real call through the generated client, Grpc.Net.Client and the connection (an empty report batch: the
            // broker does nothing with it), so a program's first connect() pays none of their first-use costs.
            _client.Call((c, o) => c.ReportFlows(new FlowReportBatch(), o), _deadline);
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded))
        {
            // An older broker without ReportFlows warms the same path.
        }
        catch (RpcException)
        {
            _backoff.Failed();
        }
    }

    /// <summary>Gets a lane for the flow (cache, then broker) and applies it to the socket.</summary>
    public int Prepare(in LaneshimFlow flow, ref LaneshimOutcome outcome)
    {
        long started = Stopwatch.GetTimestamp();
        bool v4Mapped;
        GrantKey key = CacheKey(flow, out v4Mapped);
        bool privileged = HostProbe.Limits.Privileged;
        if (_cache.TryGet(key, out LaneGrant grant))
        {
            outcome.Applied |= AbiConstants.SetFromCache;
        }
        else
        {
            if (_refused.TryGetValue(key, out long until) && Environment.TickCount64 < until)
            {
                return AbiConstants.NoLane;
            }
            if (_backoff.Active)
            {
                return AbiConstants.ErrorUnavailable;
            }
            LaneshimFlow asked = flow;
            FlowBinder.TryBindEphemeral(ref asked);
            TimeSpan budget = flow.BudgetUs > 0 ? TimeSpan.FromMicroseconds(Math.Min(flow.BudgetUs, _deadline.TotalMicroseconds)) : _deadline;
            TimeSpan left = budget - Stopwatch.GetElapsedTime(started);
            int code = Ask(BuildRequest(asked), left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, out grant);
            if (code == AbiConstants.NoLane)
            {
                _refused[key] = Environment.TickCount64 + (long)NegativeTtl.TotalMilliseconds;
            }
            if (code != AbiConstants.Ok)
            {
                return code;
            }
            if (!SocketTuner.IsForOneSocket(grant))
            {
                _cache.Put(key, grant); // a per-flow grant's enforcement matches only its own 5-tuple
            }
        }
        bool fromCache = (outcome.Applied & AbiConstants.SetFromCache) != 0;
        uint set = SocketTuner.Set(flow.Fd, flow.Family, v4Mapped, grant, privileged);
        outcome.Applied |= set;
        // The same grant applied with the same result on the same kind of socket leaves the same values in the
        // kernel: repeat connects on a cached grant skip the six getsockopt calls of the read-back.
        if (fromCache && _readBacks.TryGetValue(grant, out KnownOutcome? known) && known.Set == set && known.Family == flow.Family)
        {
            SocketTuner.CopyReadBack(known.Outcome, ref outcome);
        }
        else
        {
            SocketTuner.ReadBack(flow.Fd, flow.Family, ref outcome);
            if (!SocketTuner.IsForOneSocket(grant))
            {
                _readBacks.AddOrUpdate(grant, new KnownOutcome(set, flow.Family, outcome));
            }
        }
        OpenLane? open = null;
        if (Libc.Cookie(flow.Fd) is ulong cookie and not 0)
        {
            open = new OpenLane(grant.LeaseId, SocketTuner.IsForOneSocket(grant), Stopwatch.GetTimestamp());
            _open[cookie] = open;
            if (!grant.LeaseFollowsConnection)
            {
                _renewer.Track(grant); // renewed in the background while this socket lives
                EnsureService();
            }
        }
        _pending[flow.Fd] = new PendingFlow(grant.LeaseId, flow.Direction, outcome, fromCache, open);
        if (flow.Direction != AbiConstants.DirOutbound)
        {
            Report(flow.Fd, 0); // accepted and listening sockets are complete now; connects report after connect()
        }
        if (AgentLog.Enabled(AbiConstants.LogDebug))
        {
            AgentLog.Debug($"fd {flow.Fd}: lane {grant.LaneClass} lease {grant.LeaseId}: {grant.Reason}");
        }
        return AbiConstants.Ok;
    }

    /// <summary>After the real connect(): queue the flow's report with its real 5-tuple.</summary>
    public void Report(int fd, int connectErrno)
    {
        if (!_pending.TryRemove(fd, out PendingFlow? pending))
        {
            return;
        }
        if (pending.FromCache && connectErrno is 0 or Libc.EINPROGRESS)
        {
            // The lease and what it applies are known from the flow that asked for it; this flow's 5-tuple and
            // statistics go in its report at close, off the connect path.
            return;
        }
        var report = new FlowReport
        {
            LeaseId = pending.LeaseId,
            Flow = new Flow
            {
                Local = ReadEndpoint(fd, peer: false),
                Remote = pending.Direction == AbiConstants.DirListen ? new Endpoint() : ReadEndpoint(fd, peer: true),
                Direction = (Direction)pending.Direction,
                Protocol = Libc.IPPROTO_TCP,
            },
            Program = ProgramOf(fd),
            Applied = SocketTuner.ToSettings(pending.Outcome),
            ConnectErrno = connectErrno,
        };
        if (connectErrno == 0 && TcpInfoReader.Read(fd) is { } stats)
        {
            report.Stats = stats; // a completed handshake already measured the RTT the broker can learn from
        }
        if (pending.Lane is { PerFlow: true } lane)
        {
            // A short flow closes before the report goes out: its close then sends it with the release.
            var queued = new QueuedReport(report);
            lane.ConnectReport = queued;
            _reporter.Enqueue(queued);
        }
        else
        {
            _reporter.Enqueue(report);
        }
    }

    /// <summary>
    /// The last descriptor of a lane socket is closing: its final TCP_INFO goes to the broker, and a lease that
    /// was this flow's alone is released (a cached lease stays for the next flows to the same destination).
    /// </summary>
    public void Closed(int fd)
    {
        _pending.TryRemove(fd, out _);
        if (!_open.TryRemove(Libc.Cookie(fd), out OpenLane? lane))
        {
            return;
        }
        _renewer.Untrack(lane.LeaseId);
        FlowStats stats = TcpInfoReader.Read(fd) ?? new FlowStats();
        stats.DurationMs = (ulong)Stopwatch.GetElapsedTime(lane.Started).TotalMilliseconds;
        if (lane.PerFlow)
        {
            // Synchronous, bounded by the deadline: programs often close and exit at once, and a queued release
            // would die with the process, leaving the path steered until the lease expires.
            try
            {
                var release = new ReleaseRequest { LeaseId = lane.LeaseId, Stats = stats };
                if (lane.ConnectReport is { } queued && queued.TryClaim())
                {
                    release.ConnectReport = queued.Report;
                }
                _client.Call((c, o) => c.ReleaseLane(release, o), _deadline);
            }
            catch (RpcException e)
            {
                AgentLog.Debug($"release of lease {lane.LeaseId} failed ({e.Message}); it ends at its expiry");
            }
        }
        else
        {
            _reporter.Enqueue(ClosedReport(fd, lane.LeaseId, stats));
            if (!Volatile.Read(ref _serving) && _reporter.Pending >= FlowReporter.MaxBatch / 2)
            {
                // No service thread (the broker keeps this program's leases alive): the closing thread sends a batch.
                _reporter.SendNow(_deadline);
            }
        }
    }

    /// <summary>
    /// A lease needs the agent to renew it (the broker does not follow its connection): the shim's thread serves
    /// when there is one; otherwise the agent starts its own service thread once, with the host's signals blocked.
    /// A program with one thread and leases its broker keeps alive never gets one: each thread costs it a 64 MiB
    /// malloc arena of address space.
    /// </summary>
    private void EnsureService()
    {
        if (Volatile.Read(ref _serving) || Interlocked.Exchange(ref _serviceStarted, 1) != 0)
        {
            return;
        }
        Libc.WithHostSignalsBlocked(() => new Thread(Serve) { IsBackground = true, Name = "laneshim-agent" }.Start());
    }

    /// <summary>
    /// The shim's loader thread will serve (laneshim_agent_will_serve, called right after init): a lease granted before
    /// it gets there (while it serves late flows, at most 50 ms) starts no service thread; its renewal waits for that
    /// thread, well within half the lease's time.
    /// </summary>
    public void WillServe() => Volatile.Write(ref _serving, true);

    /// <summary>
    /// The agent's background work, on the shim's loader thread (laneshim_agent_serve): renews leases every
    /// <see cref="LeaseRenewer.Tick"/> and sends queued reports in between. Never returns; a failure in one round is
    /// logged and the next round goes on.
    /// </summary>
    public void Serve()
    {
        Volatile.Write(ref _serving, true);
        Interlocked.Exchange(ref _serviceStarted, 1);
        while (true)
        {
            try
            {
                _renewer.RenewDue();
                _reporter.DrainOnce(LeaseRenewer.Tick);
            }
            catch (Exception e)
            {
                AgentLog.Error($"service round failed: {e.GetType().Name}: {e.Message}");
                Thread.Sleep(LeaseRenewer.Tick);
            }
        }
    }

    /// <summary>
    /// The process is exiting (the shim's atexit handler): sockets still open will be closed by the kernel without a
    /// close() the shim sees, so their releases are queued now, and the queue gets <paramref name="bound"/> to drain.
    /// </summary>
    public void Exiting(TimeSpan bound)
    {
        AgentLog.Debug($"process exiting: {_open.Count} lanes open; flushing reports for up to {bound.TotalMilliseconds} ms");
        foreach ((ulong cookie, OpenLane lane) in _open)
        {
            if (!_open.TryRemove(cookie, out _))
            {
                continue;
            }
            _renewer.Untrack(lane.LeaseId);
            if (lane.PerFlow)
            {
                _reporter.Enqueue(new ReleaseRequest { LeaseId = lane.LeaseId }); // no descriptor here to read TCP_INFO from
            }
        }
        if (!Volatile.Read(ref _serving))
        {
            // No service thread: the exiting thread sends what is queued, batch by batch, within the bound.
            long started = Stopwatch.GetTimestamp();
            while (_reporter.Pending > 0 && Stopwatch.GetElapsedTime(started) is var spent && spent < bound)
            {
                _reporter.SendNow(bound - spent);
            }
            return;
        }
        _reporter.Flush(bound);
    }

    private FlowReport ClosedReport(int fd, string leaseId, FlowStats stats) => new()
    {
        LeaseId = leaseId,
        Stats = stats,
        Program = ProgramOf(fd),
        Closed = true,
        Flow = new Flow
        {
            Local = ReadEndpoint(fd, peer: false),
            Remote = ReadEndpoint(fd, peer: true),
            Protocol = Libc.IPPROTO_TCP,
        },
    };

    private int Ask(LaneRequest request, TimeSpan deadline, out LaneGrant grant)
    {
        grant = null!;
        long asked = Stopwatch.GetTimestamp();
        try
        {
            grant = _client.Call((c, o) => c.RequestLane(request, o), deadline);
            _backoff.Answered();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && request.RateBps == 0 && OfferOf(e) is ulong offer
            && deadline - Stopwatch.GetElapsedTime(asked) is var left && left >= TimeSpan.FromMilliseconds(1))
        {
            // Capacity admission offered the rate that is free: take it, once, within the same deadline.
            _backoff.Answered();
            AgentLog.Info($"no lane at the class rate ({e.Status.Detail}); accepting the offer of {offer} bit/s");
            request.RateBps = offer;
            return Ask(request, left, out grant);
        }
        catch (RpcException e)
        {
            switch (e.StatusCode)
            {
                case StatusCode.DeadlineExceeded:
                    _backoff.Failed(slowOnly: true);
                    AgentLog.Info($"broker did not answer within {deadline.TotalMilliseconds:0.#} ms; connecting without a lane");
                    return AbiConstants.ErrorDeadline;
                case StatusCode.Unavailable:
                    _backoff.Failed();
                    AgentLog.Info($"broker unavailable ({e.Status.Detail}); connecting without a lane");
                    return AbiConstants.ErrorUnavailable;
                case StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss or StatusCode.Unimplemented or StatusCode.Cancelled:
                    _backoff.Failed();
                    AgentLog.Info($"broker reply unusable ({e.Message}); connecting without a lane");
                    return AbiConstants.ErrorBadReply;
                default:
                    _backoff.Answered();
                    AgentLog.Info($"no lane: {e.Message}");
                    return AbiConstants.NoLane;
            }
        }
        string? problem = GrantValidator.Problem(grant, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (problem is not null)
        {
            AgentLog.Info($"broker grant rejected: {problem}; connecting without a lane");
            return AbiConstants.ErrorBadReply;
        }
        return AbiConstants.Ok;
    }

    private static ulong? OfferOf(RpcException e) =>
        e.Trailers.GetValue("laneshim-offer-bps") is string text
        && ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong bps) && bps > 0 ? bps : null;

    private LaneRequest BuildRequest(in LaneshimFlow flow)
    {
        var request = new LaneRequest
        {
            Flow = new Flow
            {
                Local = ToEndpoint(flow, local: true),
                Remote = ToEndpoint(flow, local: false),
                Direction = (Direction)flow.Direction,
                Protocol = Libc.IPPROTO_TCP,
            },
            Program = ProgramOf(flow.Fd),
            AppSettings = new SocketSettings(),
            Host = HostProbe.Limits,
        };
        if ((flow.Flags & AbiConstants.FlowAppSndbuf) != 0)
        {
            request.AppSettings.Sndbuf = flow.AppSndbuf;
        }
        if ((flow.Flags & AbiConstants.FlowAppRcvbuf) != 0)
        {
            request.AppSettings.Rcvbuf = flow.AppRcvbuf;
        }
        return request;
    }

    private Program ProgramOf(int fd) => new()
    {
        Path = _program,
        Pid = (uint)Libc.GetPid(),
        Uid = Libc.GetUid(),
        Gid = Libc.GetGid(),
        Fd = fd,
    };

    private static GrantKey CacheKey(in LaneshimFlow flow, out bool v4Mapped)
    {
        fixed (byte* remote = flow.RemoteAddr)
        fixed (byte* local = flow.LocalAddr)
        {
            int length = flow.Family == Libc.AF_INET ? 4 : 16;
            var r = new ReadOnlySpan<byte>(remote, length);
            v4Mapped = length == 16 && r[..10].IndexOfAnyExcept((byte)0) < 0 && r[10] == 0xff && r[11] == 0xff;
            // The plan depends on what the program set itself (a set buffer has no autotuning left),
            // so sockets that differ there do not share a grant.
            int snd = (flow.Flags & AbiConstants.FlowAppSndbuf) != 0 ? flow.AppSndbuf : -1;
            int rcv = (flow.Flags & AbiConstants.FlowAppRcvbuf) != 0 ? flow.AppRcvbuf : -1;
            return flow.Direction switch
            {
                // A server's flows are named by its own port and the client's address.
                AbiConstants.DirInbound => GrantKey.Of(flow.Direction, flow.Family, r, flow.LocalPort, snd, rcv),
                AbiConstants.DirListen => GrantKey.Of(flow.Direction, flow.Family, new ReadOnlySpan<byte>(local, length), flow.LocalPort, snd, rcv),
                _ => GrantKey.Of(flow.Direction, flow.Family, r, flow.RemotePort, snd, rcv),
            };
        }
    }

    private static Endpoint ToEndpoint(in LaneshimFlow flow, bool local)
    {
        int length = flow.Family == Libc.AF_INET ? 4 : 16;
        fixed (byte* l = flow.LocalAddr)
        fixed (byte* r = flow.RemoteAddr)
        {
            return new Endpoint
            {
                Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(local ? l : r, length)),
                Port = local ? flow.LocalPort : flow.RemotePort,
            };
        }
    }

    private static Endpoint ReadEndpoint(int fd, bool peer)
    {
        byte* storage = stackalloc byte[128];
        uint length = 128;
        int rc = peer ? Libc.GetPeerName(fd, storage, &length) : Libc.GetSockName(fd, storage, &length);
        if (rc != 0)
        {
            return new Endpoint();
        }
        ushort family = *(ushort*)storage;
        int port = (storage[2] << 8) | storage[3];
        return family switch
        {
            Libc.AF_INET => new Endpoint { Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(storage + 4, 4)), Port = (uint)port },
            Libc.AF_INET6 => new Endpoint { Address = ByteString.CopyFrom(new ReadOnlySpan<byte>(storage + 8, 16)), Port = (uint)port },
            _ => new Endpoint(),
        };
    }

    private sealed record PendingFlow(string LeaseId, int Direction, LaneshimOutcome Outcome, bool FromCache, OpenLane? Lane);

    private sealed record KnownOutcome(uint Set, int Family, LaneshimOutcome Outcome);

    private sealed record OpenLane(string LeaseId, bool PerFlow, long Started)
    {
        /// <summary>The flow's connect report while it may still be in the reporter's queue.</summary>
        public QueuedReport? ConnectReport { get; set; }
    }
}
