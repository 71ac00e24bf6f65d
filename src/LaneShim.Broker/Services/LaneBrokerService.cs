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
using LaneShim.Grpc;
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
public sealed partial class LaneBrokerService
{
    private const int MaxInstallAttempts = 32;

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

    /// <summary>Registers the five methods under their <see cref="LaneBrokerMethods"/> paths.</summary>
    public GrpcServiceDefinition Bind(GrpcServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition
            .AddUnary<LaneRequest, LaneGrant>(LaneBrokerMethods.RequestLane, LaneRequest.Parser, RequestLane)
            .AddUnary<RenewRequest, LaneGrant>(LaneBrokerMethods.RenewLane, RenewRequest.Parser, RenewLane)
            .AddUnary<ReleaseRequest, ReleaseReply>(LaneBrokerMethods.ReleaseLane, ReleaseRequest.Parser, ReleaseLane)
            .AddUnary<FlowReport, ReportReply>(LaneBrokerMethods.ReportFlow, FlowReport.Parser, ReportFlow)
            .AddUnary<ListLeasesRequest, ListLeasesReply>(LaneBrokerMethods.ListLeases, ListLeasesRequest.Parser, ListLeases)
            .AddUnary<FlowReportBatch, ReportReply>(LaneBrokerMethods.ReportFlows, FlowReportBatch.Parser, ReportFlows)
            .AddUnary<ListFlowsRequest, ListFlowsReply>(LaneBrokerMethods.ListFlows, ListFlowsRequest.Parser, ListFlows)
            .AddUnary<SetLinkStateRequest, SetLinkStateReply>(LaneBrokerMethods.SetLinkState, SetLinkStateRequest.Parser, SetLinkState);
    }

    /// <summary>Decides a flow by policy and, on a grant, sizes the lane and opens a lease.</summary>
    public async Task<LaneGrant> RequestLane(LaneRequest request, ServerCallContext context)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            LaneGrant grant = await RequestLaneCore(request, context).ConfigureAwait(false);
            _telemetry.Metrics.Grant(grant.LaneClass, "granted", System.Diagnostics.Stopwatch.GetElapsedTime(started));
            return grant;
        }
        catch (GrpcException e)
        {
            _telemetry.Metrics.Grant("", StatusLabel(e.StatusCode), System.Diagnostics.Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    private async Task<LaneGrant> RequestLaneCore(LaneRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        CallerIdentity caller = Admit(context, LaneBrokerMethods.RequestLane, request);
        FlowFacts facts;
        AppBuffers app;
        Core.HostLimits host;
        bool hostReported;
        try
        {
            facts = RequestReader.ReadFlow(request.Flow, request.Program, context.Credentials) with { Principals = caller.Principals };
            app = RequestReader.ReadAppBuffers(request.AppSettings);
            host = RequestReader.ReadHost(request.Host, out hostReported);
        }
        catch (GrpcException ex)
        {
            _logger.LogWarning("RequestLane from {Peer}: invalid: {Detail}", context.Peer ?? "?", ex.Detail);
            Audit(LaneBrokerMethods.RequestLane, "invalid", caller, context, request, reason: ex.Detail);
            throw;
        }

        using ProvenSocket? proven = Prove(caller, request, context, out string proof);
        host = HostFor(proven, host, out bool brokerApplies);

        string who = $"{facts.DescribeEndpoint()} for {DescribeProgram(facts.ProgramPath)} (uid {facts.Uid})";
        PolicyDecision decision = _policies.Current.Decide(facts);
        switch (decision.Verdict)
        {
            case PolicyVerdict.Deny:
                _logger.LogInformation("RequestLane {Who}: deny by {Source}: {Reason}", who, decision.Source, decision.DenyReason);
                Audit(LaneBrokerMethods.RequestLane, "deny", caller, context, request, decision, proof: proof, reason: decision.DenyReason);
                throw new GrpcException(GrpcStatusCode.PermissionDenied, $"{decision.DenyReason} (denied by {decision.Source})");
            case PolicyVerdict.NoMatch:
                _logger.LogInformation("RequestLane {Who}: no rule matches in {Source}", who, decision.Source);
                Audit(LaneBrokerMethods.RequestLane, "no-match", caller, context, request, decision, proof: proof, reason: $"no lane class matches {who}");
                throw new GrpcException(GrpcStatusCode.NotFound, $"no lane class matches {who}");
        }

        LaneClass laneClass = decision.LaneClass!;
        if (facts.Direction == FlowDirection.Listen && !laneClass.Bulk)
        {
            _logger.LogInformation("RequestLane {Who}: class {Class} by {Source} is not bulk", who, laneClass.Name, decision.Source);
            Audit(LaneBrokerMethods.RequestLane, "no-match", caller, context, request, decision, proof: proof, reason: $"class '{laneClass.Name}' is not bulk");
            throw new GrpcException(GrpcStatusCode.NotFound,
                $"class '{laneClass.Name}' ({decision.Source}) is not bulk; listening sockets get lanes only from classes with bulk=yes");
        }

        RttChoice rtt = _rttLearner.Choose(laneClass, facts.RemoteAddress);
        LanePath? path = null;
        string pathNote = "";
        IPEndPoint? localEnd = RequestReader.TryEndpoint(request.Flow.Local), remoteEnd = RequestReader.TryEndpoint(request.Flow.Remote);
        if (_paths is not null && localEnd is not null && remoteEnd is not null && facts.Direction != FlowDirection.Listen)
        {
            // A lane on a known path is sized by that path: its bottleneck and its round-trip time.
            path = _paths.PathFor(localEnd.Address, remoteEnd.Address, out string why);
            if (path is not null)
            {
                laneClass = laneClass with { RateBps = Math.Min(laneClass.RateBps, path.BottleneckBps) };
                rtt = new RttChoice(path.Rtt, RttSource.Fixed);
                pathNote = $"; path {path.Id} (bottleneck {Units.FormatRate(path.BottleneckBps)}, RTT {Units.FormatDuration(path.Rtt)})";
            }
            else
            {
                pathNote = $"; no lane path: {why}";
            }
        }
        if (facts.RemoteAddress is { } remoteAddress && _telemetry.Rates.Cap(remoteAddress, laneClass.RateBps, out string rateNote) is ulong learnedRate)
        {
            laneClass = laneClass with { RateBps = learnedRate };
            pathNote += rateNote;
        }
        if (request.RateBps > 0 && request.RateBps < laneClass.RateBps)
        {
            // A caller accepting a counter-offer (or wanting less) asks for a rate; never more than the class gives.
            laneClass = laneClass with { RateBps = request.RateBps };
            pathNote += $"; rate {Units.FormatRate(request.RateBps)} as asked";
        }
        GrantPlan plan = GrantPlanner.Plan(laneClass, rtt, host, app);
        string reason = (hostReported ? plan.Reason : plan.Reason + "; note: host limits not reported, sized for a stock Linux host") + pathNote;
        LaneGrant grant = GrantMessages.ToGrant(plan, path?.Id ?? _pathId, reason);
        grant.TopologyVersion = path?.TopologyVersion ?? 0;

        ProgramInfo program = request.Program.Clone();
        if (context.Credentials is PeerCredentials credentials)
        {
            program.Uid = credentials.Uid;
            program.Gid = credentials.Gid;
            program.Pid = (uint)Math.Max(credentials.Pid, 0);
        }

        IReadOnlyList<LinkDemand> demands = LinkDemand.For(laneClass, ReserveLinks ? path : null);
        // An admitted rate belongs to one flow: an agent that reused the grant for its next connection would pace
        // both at it with one reservation, and would not release it when the first closes.
        grant.PerFlow = demands.Count > 0;
        LeaseGrantResult granted = await _leases.TryGrantAsync(request.Flow, program, grant, laneClass.Ttl, demands, context.CancellationToken, caller.Principal,
            HolderOf(request.Flow, program, caller)).ConfigureAwait(false);
        if (granted.Refusal is AdmissionRefusal refusal)
        {
            GrpcException exhausted = refusal.ToException(grant.RateBps, laneClass.MinRateBps);
            Audit(LaneBrokerMethods.RequestLane, "exhausted", caller, context, request, decision, proof: proof, reason: exhausted.Detail);
            _logger.LogInformation("RequestLane {Who}: {Detail}", who, exhausted.Detail);
            throw exhausted;
        }
        LeaseEntry? entry = granted.Entry;
        if (entry is null)
        {
            Audit(LaneBrokerMethods.RequestLane, "exhausted", caller, context, request, decision, proof: proof, reason: "lease table full");
            _logger.LogWarning("RequestLane {Who}: lease table full ({Capacity})", who, _leases.Capacity);
            throw new GrpcException(GrpcStatusCode.ResourceExhausted,
                $"the broker holds its maximum of {_leases.Capacity} leases; release or let some expire, or raise the limit");
        }

        if (!granted.Joined && path is not null && localEnd is { Port: > 0 } && !localEnd.Address.Equals(IPAddress.Any) && remoteEnd is { Port: > 0 })
        {
            Steering steering = _paths!.SteeringFor(entry.Id, path, localEnd, remoteEnd, laneClass.Ttl);
            try
            {
                // Compare-and-swap on the topology version: a path from an older version is recomputed, never installed.
                // A topology that changes faster than a lane installs is retried while the caller still waits.
                string computedReason = reason;
                for (int attempt = 1; !await _paths.TryInstallAsync(steering, context.CancellationToken).ConfigureAwait(false); attempt++)
                {
                    path = _paths.PathFor(localEnd.Address, remoteEnd.Address, out string why);
                    if (path is null || attempt >= MaxInstallAttempts || context.Deadline < DateTimeOffset.UtcNow)
                    {
                        _leases.Release(entry.Id);
                        throw new GrpcException(GrpcStatusCode.Unavailable, path is null
                            ? $"the topology changed while the lane was set up and now has {why}"
                            : "the topology kept changing while the lane was set up; retry");
                    }
                    steering = _paths.SteeringFor(entry.Id, path, localEnd, remoteEnd, laneClass.Ttl);
                    entry.Grant.PathId = path.Id;
                    entry.Grant.TopologyVersion = path.TopologyVersion;
                    reason = computedReason + $"; recomputed on topology version {path.TopologyVersion}";
                    entry.Grant.Reason = reason;
                }
            }
            catch (EnforcementException e)
            {
                await _leases.ReleaseAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
                _logger.LogWarning("RequestLane {Who}: enforcement failed: {Error}", who, e.Message);
                Audit(LaneBrokerMethods.RequestLane, "error", caller, context, request, decision, proof: proof, reason: $"enforcement failed: {e.Message}");
                throw new GrpcException(GrpcStatusCode.Unavailable, $"the lane's path could not be programmed: {e.Message}");
            }
            if (steering.Rules.Count > 0)
            {
                entry.Grant.PerFlow = true;
                reason += $"; steered by {steering.Rules.Count} rules on {string.Join(", ", steering.Rules.Select(r => r.Router).Distinct())}";
                entry.Grant.Reason = reason;
            }
            if (context.CancellationToken.IsCancellationRequested || context.Deadline < DateTimeOffset.UtcNow)
            {
                // The agent has given up and connected without the lane. A watched connection keeps it (issue 14: the
                // broker sets it on the socket, the kernel ends it); otherwise nobody would ever release this one.
                if (KeepLate(proven, entry, granted.Holder, request.Flow, out string late))
                {
                    _logger.LogInformation("RequestLane {Who}: the caller's deadline passed while its path was programmed; lease {Lease} kept, the broker {Late}", who, ShortId(entry.Id), late);
                    Audit(LaneBrokerMethods.RequestLane, "late", caller, context, request, decision, entry.Grant, proof: proof, reason: $"deadline passed while the path was programmed; the broker {late}");
                    throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "the lane was ready after the caller's deadline; the broker set it on the socket");
                }
                await _leases.ReleaseAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
                await _paths.RemoveAsync(entry.Id, CancellationToken.None).ConfigureAwait(false);
                _logger.LogInformation("RequestLane {Who}: the caller's deadline passed while its path was programmed; lease {Lease} withdrawn", who, ShortId(entry.Id));
                Audit(LaneBrokerMethods.RequestLane, "error", caller, context, request, decision, proof: proof, reason: "deadline passed while the path was programmed; withdrawn");
                throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "the lane was ready after the caller's deadline; withdrawn");
            }
        }

        ApplyOnProvenSocket(brokerApplies ? proven : null, entry, granted.Holder, request.Flow, context, () => Audit(LaneBrokerMethods.RequestLane, "error", caller, context, request, decision, proof: proof, reason: "deadline passed before the broker applied its settings; withdrawn"));
        Watch(entry, granted.Holder, proven, request.Flow);
        _logger.LogDebug("RequestLane {Who}: grant by {Source}, lease {Lease}: {Reason}", who, decision.Source, ShortId(entry.Id), entry.Grant.Reason);
        Audit(LaneBrokerMethods.RequestLane, "grant", caller, context, request, decision, entry.Grant, proof: proof, reason: entry.Grant.Reason);
        return entry.Grant.Clone();
    }

    /// <summary>Extends a lease by its class TTL; NOT_FOUND when it expired or never existed.</summary>
    public Task<LaneGrant> RenewLane(RenewRequest request, ServerCallContext context) => RunAsync(() => RenewLaneCore(request, context));

    private async Task<LaneGrant> RenewLaneCore(RenewRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = RequestReader.ReadLeaseId(request.LeaseId);
        await CheckOwnerAsync(id, context, LaneBrokerMethods.RenewLane).ConfigureAwait(false);
        LeaseEntry entry = await _leases.RenewAsync(id, context.CancellationToken).ConfigureAwait(false) ?? throw LeaseNotFound(id);
        _telemetry.Metrics.Renewed();
        AuditLease(LaneBrokerMethods.RenewLane, "renew", context, entry);
        if (_paths is not null)
        {
            await _paths.RenewAsync(id, entry.Ttl, context.CancellationToken).ConfigureAwait(false);
        }
        _logger.LogDebug("RenewLane lease {Lease}: until {Expires:O}", ShortId(id), entry.ExpiresAt);
        return entry.Grant.Clone();
    }

    /// <summary>Ends a lease; its final stats feed the RTT learner. NOT_FOUND when unknown.</summary>
    public Task<ReleaseReply> ReleaseLane(ReleaseRequest request, ServerCallContext context) => RunAsync(() => ReleaseLaneCore(request, context));

    private async Task<ReleaseReply> ReleaseLaneCore(ReleaseRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        string id = RequestReader.ReadLeaseId(request.LeaseId);
        LeaseEntry owned = await CheckOwnerAsync(id, context, LaneBrokerMethods.ReleaseLane).ConfigureAwait(false);
        IPAddress? reportedPeer = null;
        if (request.ConnectReport is { } connect)
        {
            // A short flow's connect report, sent with its release: recorded as ReportFlow would, before the lease goes.
            if (!string.IsNullOrEmpty(connect.LeaseId) && connect.LeaseId != id)
            {
                throw new GrpcException(GrpcStatusCode.InvalidArgument, $"connect_report names lease {ShortId(connect.LeaseId)}, not the released {ShortId(id)}");
            }

            if (connect.Flow is not null)
            {
                reportedPeer = RequestReader.ReadAddress(connect.Flow.Remote, "connect_report.flow.remote", null);
            }

            _leases.RecordApplied(id, connect.Applied);
        }

        // One holder lets go; the lease, its rules and its flow record end with the last (LeaseHolders).
        (LeaseEntry entry, bool ended) = await ReleaseHolderAsync(owned, context, request.Stats).ConfigureAwait(false);
        AuditLease(LaneBrokerMethods.ReleaseLane, "release", context, entry);
        bool learned = (request.ConnectReport?.Stats is { } connectStats && Learn(entry, reportedPeer, connectStats)) | Learn(entry, null, request.Stats);
        _telemetry.Metrics.Released();
        _logger.LogDebug("ReleaseLane lease {Lease} ({Class}){Ended}{Learned}", ShortId(id), entry.Grant.LaneClass,
            ended ? "" : ", held on (another holder, or the kernel still has the connection)", learned ? ", RTT sample taken" : "");
        return new ReleaseReply();
    }

    /// <summary>
    /// Records what the agent applied on a leased flow and feeds its RTT to the learner. Reports without a lease id
    /// are accepted and ignored; an unknown lease id is NOT_FOUND.
    /// </summary>
    public Task<ReportReply> ReportFlow(FlowReport request, ServerCallContext context) => Run(() => ReportFlowCore(request, context));

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

        CheckOwner(request.LeaseId, context, LaneBrokerMethods.ReportFlow);
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
    public Task<ListLeasesReply> ListLeases(ListLeasesRequest request, ServerCallContext context) => Run(() => ListLeasesCore(request, context));

    private ListLeasesReply ListLeasesCore(ListLeasesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var caller = CallerIdentity.From(context);
        if (caller.IsAnonymous && Security.RequireIdentity)
        {
            throw new GrpcException(GrpcStatusCode.PermissionDenied, "this broker lists leases only to callers it can identify (Unix socket, or TCP with a client certificate)");
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
    public Task<ReportReply> ReportFlows(FlowReportBatch request, ServerCallContext context) => Run(() =>
    {
        ArgumentNullException.ThrowIfNull(request);
        int skipped = 0;
        foreach (FlowReport report in request.Reports)
        {
            try
            {
                ReportFlowCore(report, context);
            }
            catch (GrpcException e)
            {
                skipped++;
                _logger.LogDebug("ReportFlows: report for lease {Lease} skipped: {Detail}", ShortId(report.LeaseId), e.Detail);
            }
        }
        _logger.LogDebug("ReportFlows: {Count} reports, {Skipped} skipped", request.Reports.Count, skipped);
        return new ReportReply();
    });

    /// <summary>Recently closed flows, newest first; a non-root caller on a Unix socket sees only its own.</summary>
    public Task<ListFlowsReply> ListFlows(ListFlowsRequest request, ServerCallContext context) => Run(() =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var reply = new ListFlowsReply { FlowsRecorded = (uint)Math.Min(_telemetry.Flows.Recorded, uint.MaxValue) };
        foreach (FlowRecord record in _telemetry.Flows.Recent())
        {
            if (context.Credentials is { Uid: not 0 } c && record.Program?.Uid != c.Uid)
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
    public async Task<SetLinkStateReply> SetLinkState(SetLinkStateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Credentials is not { Uid: 0 })
        {
            throw new GrpcException(GrpcStatusCode.PermissionDenied,
                "only root may change the topology, over the broker's Unix socket (where the kernel vouches for the caller)");
        }
        if (_paths is null)
        {
            throw new GrpcException(GrpcStatusCode.FailedPrecondition, "this broker has no topology (start it with --topology FILE)");
        }
        if (string.IsNullOrEmpty(request.A) || string.IsNullOrEmpty(request.B))
        {
            throw new GrpcException(GrpcStatusCode.InvalidArgument, "a and b must name the link's two nodes");
        }
        try
        {
            (long version, int withdrawn) = await _paths.SetLinkStateAsync(request.A, request.B, request.Up, context.CancellationToken).ConfigureAwait(false);
            return new SetLinkStateReply { TopologyVersion = version, SteeringsWithdrawn = (uint)withdrawn };
        }
        catch (ArgumentException e)
        {
            throw new GrpcException(GrpcStatusCode.NotFound, e.Message);
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

    private static string StatusLabel(GrpcStatusCode code) => code switch
    {
        GrpcStatusCode.PermissionDenied => "permission_denied",
        GrpcStatusCode.NotFound => "not_found",
        GrpcStatusCode.ResourceExhausted => "resource_exhausted",
        GrpcStatusCode.InvalidArgument => "invalid_argument",
        GrpcStatusCode.Unavailable => "unavailable",
        GrpcStatusCode.DeadlineExceeded => "deadline_exceeded",
        _ => code.ToString().ToLowerInvariant(),
    };

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

    private static GrpcException LeaseNotFound(string id) =>
        new(GrpcStatusCode.NotFound, $"lease {ShortId(id)} expired or never existed; request a new lane");

    // Lease ids are capabilities: logs and messages show only a prefix.
    private static string ShortId(string id) => id.Length > 8 ? id[..8] + "…" : id;

    private static string DescribeProgram(string path) => path.Length > 0 ? path : "(unknown program)";
}
