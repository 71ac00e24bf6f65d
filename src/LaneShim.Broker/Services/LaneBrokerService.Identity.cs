// LaneBrokerService.Identity.cs - who may ask: caller identity, socket proof, broker-applied settings, lease ownership, audit.
using System.Net;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Services;

public sealed partial class LaneBrokerService
{
    /// <summary>What callers must prove; <see cref="BrokerSecurity.InProcess"/> unless the host sets it (BrokerServer uses <see cref="BrokerSecurity.Default"/>).</summary>
    public BrokerSecurity Security { get; init; } = BrokerSecurity.InProcess;

    // Anonymous callers (no SO_PEERCRED, no verified client certificate) get nothing when the host requires identity.
    private CallerIdentity Admit(ServerCallContext context, string method, LaneRequest? request)
    {
        var caller = CallerIdentity.From(context);
        if (caller.IsAnonymous && Security.RequireIdentity)
        {
            const string why = "this broker grants only to callers it can identify: a local Unix-socket caller, or a TCP caller with a client certificate from the broker's --client-ca";
            Audit(method, "unauthenticated", caller, context, request, reason: why);
            throw new GrpcException(GrpcStatusCode.PermissionDenied, why);
        }

        return caller;
    }

    // The local caller's socket must be theirs and match the flow; remote (mTLS) callers cannot be proven this way.
    private ProvenSocket? Prove(CallerIdentity caller, LaneRequest request, ServerCallContext context, out string proof)
    {
        if (context.Peer == KernelPeer)
        {
            proof = "kernel: sock_ops report";
            return null;
        }

        if (!Security.ProveSockets || caller.Local is not PeerCredentials credentials)
        {
            proof = caller.Principals is not null ? "skipped: remote caller" : "skipped";
            return null;
        }

        if (SocketProof.TryProve(credentials.Pid, credentials.Uid, request.Program?.Fd ?? -1, request.Flow, out ProvenSocket? socket, out string failure))
        {
            proof = "ok";
            return socket;
        }

        string reason = $"the socket named in the request is not the caller's: {failure}";
        _logger.LogWarning("RequestLane from {Caller}: proof failed: {Failure}", caller, failure);
        Audit(LaneBrokerMethods.RequestLane, "proof-failed", caller, context, request, proof: "failed", reason: failure);
        throw new GrpcException(GrpcStatusCode.PermissionDenied, reason);
    }

    // A proven socket of an unprivileged program may get what only CAP_NET_ADMIN may set, because the broker sets it;
    // plan for that. A privileged program sets everything itself, and its grant stays cacheable for its next sockets.
    private static Core.HostLimits HostFor(ProvenSocket? proven, Core.HostLimits host, out bool brokerApplies)
    {
        brokerApplies = proven is not null && BrokerPrivilege.HasNetAdmin && !host.Privileged;
        return brokerApplies ? host with { Privileged = true } : host;
    }

    // FORCE buffers, SO_MARK and SO_PRIORITY go onto the caller's socket before the answer, so the SYN carries them.
    private void ApplyOnProvenSocket(ProvenSocket? proven, LeaseEntry entry, ServerCallContext context, Action auditWithdrawal)
    {
        if (proven is null)
        {
            return;
        }

        if (context.CancellationToken.IsCancellationRequested || context.Deadline < DateTimeOffset.UtcNow)
        {
            // The agent has given up and connects without the lane: leave its socket as the program made it.
            _leases.Release(entry.Id);
            if (_paths is not null)
            {
                _ = Task.Run(() => _paths.RemoveAsync(entry.Id, CancellationToken.None));
            }

            auditWithdrawal();
            throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "the lane was ready after the caller's deadline; withdrawn before touching its socket");
        }

        uint applied = proven.ApplyPrivileged(entry.Grant, out List<string> failures);
        entry.Grant.BrokerApplied = applied;
        if (applied != 0)
        {
            entry.Grant.Reason += "; applied by the broker: " + DescribeApplied(applied);
        }

        if (failures.Count > 0)
        {
            entry.Grant.Reason += "; the broker could not set " + string.Join(", ", failures);
        }
    }

    // Lease ids are capabilities, but a leaked one still does not let another user touch the lease.
    private LeaseEntry CheckOwner(string id, ServerCallContext context, string method) =>
        Authorize(RequireCaller(id, context, method), _leases.Find(id) ?? throw LeaseNotFound(id), context, method);

    // The same for renew and release, which any broker sharing the store may serve.
    private async Task<LeaseEntry> CheckOwnerAsync(string id, ServerCallContext context, string method)
    {
        CallerIdentity caller = RequireCaller(id, context, method);
        LeaseEntry entry = await _leases.FindAnywhereAsync(id, context.CancellationToken).ConfigureAwait(false) ?? throw LeaseNotFound(id);
        return Authorize(caller, entry, context, method);
    }

    private CallerIdentity RequireCaller(string id, ServerCallContext context, string method)
    {
        var caller = CallerIdentity.From(context);
        if (caller.IsAnonymous && Security.RequireIdentity)
        {
            Audit(method, "unauthenticated", caller, context, null, lease: ShortId(id), reason: "caller not identified");
            throw new GrpcException(GrpcStatusCode.PermissionDenied, "this broker serves only callers it can identify (Unix socket, or TCP with a client certificate)");
        }
        return caller;
    }

    private LeaseEntry Authorize(CallerIdentity caller, LeaseEntry entry, ServerCallContext context, string method)
    {
        if (!Owns(caller, entry))
        {
            string why = $"lease {ShortId(entry.Id)} belongs to {DescribeOwner(entry)}, not to {caller}";
            _logger.LogWarning("{Method} refused: {Why}", method, why);
            Audit(method, "not-owner", caller, context, null, lease: ShortId(entry.Id), reason: why);
            throw new GrpcException(GrpcStatusCode.PermissionDenied, why);
        }

        return entry;
    }

    // Root (uid 0) on the Unix socket administers every lease; anonymous callers only exist in-process.
    private static bool Owns(CallerIdentity caller, LeaseEntry entry) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (entry.Principal is null && entry.Program.Uid == c.Uid),
        { Principal: string p } => string.Equals(entry.Principal, p, StringComparison.Ordinal),
        _ => caller.IsAnonymous,
    };

    private static bool Visible(CallerIdentity caller, LeaseEntry entry) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (entry.Principal is null && entry.Program.Uid == c.Uid),
        { Principals: not null } => string.Equals(entry.Principal, caller.Principal, StringComparison.Ordinal),
        _ => true,
    };

    private static string DescribeOwner(LeaseEntry entry) => entry.Principal ?? $"uid {entry.Program.Uid}";

    private static string DescribeApplied(uint applied)
    {
        var names = new List<string>();
        if ((applied & ProvenSocket.AppliedSndbuf) != 0)
        {
            names.Add("SO_SNDBUFFORCE");
        }

        if ((applied & ProvenSocket.AppliedRcvbuf) != 0)
        {
            names.Add("SO_RCVBUFFORCE");
        }

        if ((applied & ProvenSocket.AppliedMark) != 0)
        {
            names.Add("SO_MARK");
        }

        if ((applied & ProvenSocket.AppliedPriority) != 0)
        {
            names.Add("SO_PRIORITY");
        }

        return string.Join(", ", names);
    }

    // A lease's later life (renewed, released) by its owner, with the flow it was granted for.
    private void AuditLease(string method, string verdict, ServerCallContext context, LeaseEntry entry) =>
        Audit(method, verdict, CallerIdentity.From(context), context, new LaneRequest { Flow = entry.Flow, Program = entry.Program }, grant: entry.Grant);

    private void Audit(
        string method,
        string verdict,
        CallerIdentity caller,
        ServerCallContext context,
        LaneRequest? request,
        PolicyDecision? decision = null,
        LaneGrant? grant = null,
        string? lease = null,
        string? proof = null,
        string? reason = null)
    {
        if (Security.Audit is not AuditLog log)
        {
            return;
        }

        Flow? flow = request?.Flow;
        log.Write(new AuditRecord
        {
            Time = DateTimeOffset.UtcNow,
            Method = method.StartsWith('/') ? method[(method.LastIndexOf('/') + 1)..] : method,
            Verdict = verdict,
            Uid = caller.Local?.Uid,
            Gid = caller.Local?.Gid,
            Pid = caller.Local?.Pid,
            Program = request?.Program?.Path is { Length: > 0 } path ? path : null,
            Principal = caller.Principal,
            Peer = context.Peer,
            Direction = flow?.Direction switch
            {
                Direction.Outbound => "out",
                Direction.Inbound => "in",
                Direction.Listen => "listen",
                _ => null,
            },
            Local = DescribeEndpoint(flow?.Local),
            Remote = DescribeEndpoint(flow?.Remote),
            Rule = decision?.Source,
            LaneClass = grant?.LaneClass is { Length: > 0 } c ? c : null,
            RateBps = grant?.RateBps,
            Lease = lease ?? (grant?.LeaseId is { Length: > 0 } id ? ShortId(id).TrimEnd('…') : null),
            Proof = proof,
            BrokerApplied = grant?.BrokerApplied,
            Reason = reason,
        });
    }

    private static string? DescribeEndpoint(Endpoint? endpoint)
    {
        if (endpoint is not { Address.Length: 4 or 16 })
        {
            return endpoint is { Port: > 0 } ? $"*:{endpoint.Port}" : null;
        }

        var address = new IPAddress(endpoint.Address.Span);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{endpoint.Port}" : $"{address}:{endpoint.Port}";
    }
}
