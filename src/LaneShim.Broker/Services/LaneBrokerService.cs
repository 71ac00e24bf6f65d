// LaneBrokerService.cs - the LaneBroker gRPC handlers: decide by policy, size the lane, keep the lease, learn RTTs.
using System.Net;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Telemetry;
using LaneShim.Core.Topology;
using LaneShim.Core;
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Grant;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Services;

/// <summary>
/// Implements service <c>laneshim.v1.LaneBroker</c>. Statuses: INVALID_ARGUMENT names the bad field;
/// PERMISSION_DENIED carries the deny reason and rule line; NOT_FOUND says no rule matched (with destination,
/// program and uid), that a listening socket's class is not bulk, or that a lease expired; RESOURCE_EXHAUSTED
/// when the lease table is full, or when a link of the lane's path (or the class's capacity=) lacks the rate: then
/// the message names the link and what is free, and trailer <c>laneshim-offer-bps</c> carries the counter-offer.
/// </summary>
/// <remarks>
/// Listening sockets get a lane only from a class marked <c>bulk=yes</c> (sizing a listener's receive buffer
/// affects every connection it accepts, so a class must opt in); otherwise NOT_FOUND.
/// RTTs are learned only from reports and releases of live leases, and for the lease's own peer, so a client
/// without a lane cannot skew the sizing of others' lanes.
/// When the caller is on a Unix socket, its kernel-reported uid/gid/pid replace what the request claims, and
/// ListLeases shows a non-root caller only its own leases.
/// </remarks>
public sealed partial class LaneBrokerService : LaneBroker.LaneBrokerBase
{
    private GrantPipeline? _grants;

    private readonly PolicyStore _policies;
    private readonly LeaseTable _leases;
    private readonly RttLearner _rttLearner;
    private readonly ILogger _logger;
    private readonly string _pathId;
    private readonly PathService? _paths;
    private readonly BrokerTelemetry _telemetry;

    /// <summary>Creates the service over shared state; with a <paramref name="watcher"/>, per-flow leases live as long as their connections.</summary>
    public LaneBrokerService(PolicyStore policies, LeaseTable leases, RttLearner rttLearner, ILogger<LaneBrokerService> logger, string pathId = "default", PathService? paths = null,
        BrokerTelemetry? telemetry = null, ConnectionWatcher? watcher = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(leases);
        ArgumentNullException.ThrowIfNull(rttLearner);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(pathId);
        _policies = policies;
        _leases = leases;
        _rttLearner = rttLearner;
        _logger = logger;
        _pathId = pathId;
        _paths = paths;
        _telemetry = telemetry ?? new BrokerTelemetry(TimeProvider.System);
        _holders = new LeaseHolders(leases, paths, watcher, logger);
        _holders.Ended += OnLeaseEnded;
    }

    /// <summary>Closed flows, learned rates and metrics.</summary>
    public BrokerTelemetry Telemetry => _telemetry;

    /// <summary>
    /// True: a lane on a topology path reserves its rate on every link of the path (admission per link). False: only
    /// classes with capacity= are admission-controlled. Off by default because with class rates at the path
    /// bottleneck one flow fills a path, and a program's second connection (iperf3's data, GridFTP's data channel)
    /// would find it full.
    /// </summary>
    public bool ReserveLinks { get; init; }

    /// <summary>The topology and enforcement, when the broker steers flows; null otherwise.</summary>
    public PathService? Paths => _paths;

    /// <summary>A service with its own lease table and learner, for one policy (tests and simple hosts).</summary>
    public static LaneBrokerService Create(Policy policy, TimeProvider? clock = null, ILogger<LaneBrokerService>? logger = null, int maxLeases = LeaseTable.DefaultCapacity)
    {
        clock ??= TimeProvider.System;
        return new LaneBrokerService(
            new PolicyStore(policy), new LeaseTable(clock, maxLeases), new RttLearner(clock), logger ?? NullLogger<LaneBrokerService>.Instance);
    }

    /// <summary>The leases this service grants into.</summary>
    public LeaseTable Leases => _leases;

    /// <summary>The RTT learner this service feeds.</summary>
    public RttLearner RttLearner => _rttLearner;

    /// <summary>The policy holder (reload through it).</summary>
    public PolicyStore Policies => _policies;

    /// <summary>The grant path, step by step (admission, policy, path, plan, lease, enforce, watch, answer).</summary>
    public GrantPipeline Grants => _grants ??= new GrantPipeline(
    [
        new AdmissionStep(Security),
        new PolicyStep(_policies),
        new PathStep(_rttLearner, _paths, _telemetry.Rates),
        new PlanStep(_pathId, ReserveLinks),
        new LeaseStep(_leases),
        new EnforceStep(_leases, _paths, _holders),
        new WatchStep(_holders),
        new AnswerStep(),
    ]);

    /// <summary>Where the service's decisions are logged (the outcome interceptor writes its lines here).</summary>
    internal ILogger Logger => _logger;

    /// <summary>Decides a flow by policy and, on a grant, sizes the lane and opens a lease.</summary>
    public override Task<LaneGrant> RequestLane(LaneRequest request, ServerCallContext context) => Grants.RunAsync(request, context);

    /// <summary>Extends a lease by its class TTL; NOT_FOUND when it expired or never existed.</summary>
    public override Task<LaneGrant> RenewLane(RenewRequest request, ServerCallContext context) => RunAsync(() => RenewLaneCore(request, context));

    private async Task<LaneGrant> RenewLaneCore(RenewRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = RequestReader.ReadLeaseId(request.LeaseId);
        await CheckOwnerAsync(id, context).ConfigureAwait(false);
        LeaseEntry entry = await _leases.RenewAsync(id, context.CancellationToken).ConfigureAwait(false) ?? throw LeaseNotFound(id);
        RecordLease("renew", context, entry);
        if (_paths is not null)
        {
            await _paths.RenewAsync(id, entry.Ttl, context.CancellationToken).ConfigureAwait(false);
        }
        _logger.LogDebug("RenewLane lease {Lease}: until {Expires:O}", ShortId(id), entry.ExpiresAt);
        return entry.Grant.Clone();
    }

    /// <summary>Ends a lease; its final stats feed the RTT learner. NOT_FOUND when unknown.</summary>
    public override Task<ReleaseReply> ReleaseLane(ReleaseRequest request, ServerCallContext context) => RunAsync(() => ReleaseLaneCore(request, context));

    private async Task<ReleaseReply> ReleaseLaneCore(ReleaseRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = RequestReader.ReadLeaseId(request.LeaseId);
        LeaseEntry owned = await CheckOwnerAsync(id, context).ConfigureAwait(false);
        IPAddress? reportedPeer = null;
        if (request.ConnectReport is { } connect)
        {
            // A short flow's connect report, sent with its release: recorded as ReportFlow would, before the lease goes.
            if (!string.IsNullOrEmpty(connect.LeaseId) && connect.LeaseId != id)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"connect_report names lease {ShortId(connect.LeaseId)}, not the released {ShortId(id)}"));
            }

            if (connect.Flow is not null)
            {
                reportedPeer = RequestReader.ReadAddress(connect.Flow.Remote, "connect_report.flow.remote", null);
            }

            _leases.RecordApplied(id, connect.Applied);
        }

        // One holder lets go; the lease, its rules and its flow record end with the last (LeaseHolders).
        (LeaseEntry entry, bool ended) = await ReleaseHolderAsync(owned, context, request.Stats).ConfigureAwait(false);
        RecordLease("release", context, entry);
        bool learned = (request.ConnectReport?.Stats is { } connectStats && Learn(entry, reportedPeer, connectStats)) | Learn(entry, null, request.Stats);
        _logger.LogDebug("ReleaseLane lease {Lease} ({Class}){Ended}{Learned}", ShortId(id), entry.Grant.LaneClass,
            ended ? "" : ", held on (another holder, or the kernel still has the connection)", learned ? ", RTT sample taken" : "");
        return new ReleaseReply();
    }

    /// <summary>
    /// Records what the agent applied on a leased flow and feeds its RTT to the learner. Reports without a lease id
    /// are accepted and ignored; an unknown lease id is NOT_FOUND.
    /// </summary>
    public override Task<ReportReply> ReportFlow(FlowReport request, ServerCallContext context) => Run(() => ReportFlowCore(request, context));

    private ReportReply ReportFlowCore(FlowReport request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        IPAddress? reportedPeer = null;
        if (request.Flow is not null)
        {
            reportedPeer = RequestReader.ReadAddress(request.Flow.Remote, "flow.remote", null);
            RequestReader.ReadPort(request.Flow.Remote, "flow.remote");
            RequestReader.ReadAddress(request.Flow.Local, "flow.local", null);
            RequestReader.ReadPort(request.Flow.Local, "flow.local");
        }

        if (string.IsNullOrEmpty(request.LeaseId))
        {
            _logger.LogDebug("ReportFlow without lease (errno {Errno})", request.ConnectErrno);
            return new ReportReply();
        }

        CheckOwner(request.LeaseId, context);
        LeaseEntry entry = _leases.RecordApplied(request.LeaseId, request.Applied) ?? throw LeaseNotFound(request.LeaseId);
        bool learned = Learn(entry, reportedPeer, request.Stats);
        if (request.Closed)
        {
            RecordClosed(entry, request.Flow is { Remote.Address.Length: 4 or 16 } ? request.Flow : entry.Flow, request.Stats);
        }
        _logger.LogDebug(
            "ReportFlow lease {Lease} ({Class}): errno {Errno}, applied sndbuf {Sndbuf} rcvbuf {Rcvbuf} cc {Cc}{Learned}",
            ShortId(entry.Id), entry.Grant.LaneClass, request.ConnectErrno,
            request.Applied?.HasSndbuf == true ? request.Applied.Sndbuf : null,
            request.Applied?.HasRcvbuf == true ? request.Applied.Rcvbuf : null,
            request.Applied?.Congestion, learned ? ", RTT sample taken" : "");
        return new ReportReply();
    }

    /// <summary>The live leases; a non-root caller on a Unix socket sees only its own.</summary>
    public override Task<ListLeasesReply> ListLeases(ListLeasesRequest request, ServerCallContext context) => Run(() => ListLeasesCore(request, context));

    private ListLeasesReply ListLeasesCore(ListLeasesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerIdentity.From(context);
        if (caller.IsAnonymous && Security.RequireIdentity)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "this broker lists leases only to callers it can identify (Unix socket, or TCP with a client certificate)"));
        }

        var reply = new ListLeasesReply();
        foreach (LeaseEntry entry in _leases.List())
        {
            if (!Visible(caller, entry))
            {
                continue;
            }

            reply.Leases.Add(entry.ToProto());
        }

        _logger.LogDebug("ListLeases: {Count} leases", reply.Leases.Count);
        return reply;
    }

    /// <summary>
    /// Many reports in one call. Each is handled as <see cref="ReportFlow"/> would; one that is invalid or names an
    /// expired lease is skipped (and logged) rather than failing the others.
    /// </summary>
    public override Task<ReportReply> ReportFlows(FlowReportBatch request, ServerCallContext context) => Run(() =>
    {
        ArgumentNullException.ThrowIfNull(request);
        int skipped = 0;
        foreach (FlowReport report in request.Reports)
        {
            try
            {
                ReportFlowCore(report, context);
            }
            catch (RpcException e)
            {
                skipped++;
                _logger.LogDebug("ReportFlows: report for lease {Lease} skipped: {Detail}", ShortId(report.LeaseId), e.Status.Detail);
            }
        }
        _logger.LogDebug("ReportFlows: {Count} reports, {Skipped} skipped", request.Reports.Count, skipped);
        return new ReportReply();
    });

    /// <summary>Recently closed flows, newest first; a non-root caller on a Unix socket sees only its own.</summary>
    public override Task<ListFlowsReply> ListFlows(ListFlowsRequest request, ServerCallContext context) => Run(() =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var reply = new ListFlowsReply { FlowsRecorded = (uint)Math.Min(_telemetry.Flows.Recorded, uint.MaxValue) };
        foreach (FlowRecord record in _telemetry.Flows.Recent())
        {
            if (CallerIdentity.From(context).Local is { Uid: not 0 } c && record.Program?.Uid != c.Uid)
            {
                continue;
            }
            reply.Flows.Add(record);
            if (request.Limit > 0 && reply.Flows.Count >= request.Limit)
            {
                break;
            }
        }
        return reply;
    });

    /// <summary>
    /// Takes a topology link down or up. Only root on the Unix socket may (PERMISSION_DENIED otherwise); FAILED_PRECONDITION
    /// without a topology; NOT_FOUND when no link joins the two nodes.
    /// </summary>
    public override async Task<SetLinkStateReply> SetLinkState(SetLinkStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (CallerIdentity.From(context).Local is not { Uid: 0 })
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                "only root may change the topology, over the broker's Unix socket (where the kernel vouches for the caller)"));
        }
        if (_paths is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "this broker has no topology (start it with --topology FILE)"));
        }
        if (string.IsNullOrEmpty(request.A) || string.IsNullOrEmpty(request.B))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a and b must name the link's two nodes"));
        }
        try
        {
            (long version, int withdrawn) = await _paths.SetLinkStateAsync(request.A, request.B, request.Up, context.CancellationToken).ConfigureAwait(false);
            return new SetLinkStateReply { TopologyVersion = version, SteeringsWithdrawn = (uint)withdrawn };
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
    }

    // A closed flow goes into the log and the metrics, and teaches the rate learner about its destination.
    private void RecordClosed(LeaseEntry entry, Flow flow, FlowStats? stats)
    {
        string limitedBy = FlowVerdict.Classify(stats);
        ulong achieved = FlowVerdict.AchievedBps(stats);
        _telemetry.Flows.Add(new FlowRecord
        {
            LeaseId = entry.Id,
            Flow = flow,
            Program = entry.Program,
            LaneClass = entry.Grant.LaneClass,
            GrantedRateBps = entry.Grant.RateBps,
            Stats = stats ?? new FlowStats(),
            AchievedBps = achieved,
            LimitedBy = limitedBy,
            ClosedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            PathId = entry.Grant.PathId,
        });
        _telemetry.Metrics.FlowClosed(stats, limitedBy);
        if (flow.Remote is { Address.Length: 4 or 16 } remote && stats is not null)
        {
            _telemetry.Rates.Record(new IPAddress(remote.Address.Span), achieved, entry.Grant.RateBps,
                TimeSpan.FromMilliseconds(stats.DurationMs), limitedBy == FlowVerdict.ReceiverWindow);
        }
    }

    private static async Task<T> RunAsync<T>(Func<Task<T>> handler) => await handler().ConfigureAwait(false);

    // Handlers answer with a faulted task, never a synchronous throw, whoever calls them.
    private static Task<T> Run<T>(Func<T> handler)
    {
        try
        {
            return Task.FromResult(handler());
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    // The lease's own peer is the one learned for; a listening lease has none, so the accepted flow's is used.
    private bool Learn(LeaseEntry entry, IPAddress? reportedPeer, FlowStats? stats)
    {
        if (stats is null)
        {
            return false;
        }

        IPAddress? peer = entry.Flow.Remote is { Address.Length: 4 or 16 } remote ? new IPAddress(remote.Address.Span) : reportedPeer;
        return peer is not null && _rttLearner.Record(peer, stats.MinRttUs, stats.SrttUs);
    }

    private static RpcException LeaseNotFound(string id) =>
        new(new Status(StatusCode.NotFound, $"lease {ShortId(id)} expired or never existed; request a new lane"));

    /// <summary>A lease id as logs and messages show it: only a prefix (lease ids are capabilities).</summary>
    internal static string ShortId(string id) => id.Length > 8 ? id[..8] + "…" : id;
}
