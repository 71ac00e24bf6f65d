// AdmissionStep.cs - may this caller ask for this socket: an identified caller, a well-formed request, a socket that is its own.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Services;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

/// <summary>
/// The first step after the identity interceptor. Refuses anonymous callers where identity is required
/// (PERMISSION_DENIED), malformed requests (INVALID_ARGUMENT naming the field) and, for local callers, a socket the
/// caller does not own or that does not match the flow (PERMISSION_DENIED); a socket the kernel reported needs no
/// proof. Capacity admission happens atomically with the lease, in <see cref="LeaseStep"/>.
/// </summary>
internal sealed class AdmissionStep(BrokerSecurity security) : IGrantStep
{
    private const string Anonymous = "this broker grants only to callers it can identify: a local Unix-socket caller, or a TCP caller with a client certificate from the broker's --client-ca";

    /// <inheritdoc/>
    public string Name => "admission";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        CallerIdentity caller = grant.Caller;
        if (caller.IsAnonymous && security.RequireIdentity)
        {
            return Done(grant.Refusal("unauthenticated", StatusCode.PermissionDenied, Anonymous));
        }

        try
        {
            grant.Facts = RequestReader.ReadFlow(grant.Request.Flow, grant.Request.Program, caller.Local) with { Principals = caller.Principals };
            grant.App = RequestReader.ReadAppBuffers(grant.Request.AppSettings);
            grant.Host = RequestReader.ReadHost(grant.Request.Host, out bool reported);
            grant.HostReported = reported;
        }
        catch (RpcException e)
        {
            return Done(grant.Refusal("invalid", e.StatusCode, e.Status.Detail, level: LogLevel.Warning,
                log: $"RequestLane from {caller.Peer ?? "?"}: invalid: {e.Status.Detail}"));
        }

        // The local caller's socket must be theirs and match the flow; remote (mTLS) callers cannot be proven this way.
        // A socket the kernel reported (the BPF lane path) has no descriptor here: the kernel vouches for it and its owner.
        if (caller.KernelReported)
        {
            grant.Proof = "kernel: sock_ops report";
        }
        else if (!security.ProveSockets || caller.Local is not PeerCredentials credentials)
        {
            grant.Proof = caller.Principals is not null ? "skipped: remote caller" : "skipped";
        }
        else if (SocketProof.TryProve(credentials.Pid, credentials.Uid, grant.Request.Program?.Fd ?? -1, grant.Request.Flow, out ProvenSocket? socket, out string failure))
        {
            grant.Proof = "ok";
            grant.Proven = socket;
        }
        else
        {
            return Done(grant.Refusal("proof-failed", StatusCode.PermissionDenied, $"the socket named in the request is not the caller's: {failure}",
                reason: failure, level: LogLevel.Warning, log: $"RequestLane from {caller}: proof failed: {failure}", proof: "failed"));
        }

        // A proven socket of an unprivileged program may get what only CAP_NET_ADMIN may set, because the broker sets it;
        // plan for that. A privileged program sets everything itself, and its grant stays cacheable for its next sockets.
        grant.BrokerApplies = grant.Proven is not null && BrokerPrivilege.HasNetAdmin && !grant.Host.Privileged;
        if (grant.BrokerApplies)
        {
            grant.Host = grant.Host with { Privileged = true };
        }

        return Done(null);
    }

    private static ValueTask<CallOutcome?> Done(CallOutcome? outcome) => ValueTask.FromResult(outcome);
}
