// LaneBrokerService.Identity.cs - who may touch a lease: identified callers, lease ownership, and the outcome of lease calls.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Services;

public sealed partial class LaneBrokerService
{
    /// <summary>What callers must prove; <see cref="BrokerSecurity.InProcess"/> unless the host sets it (BrokerServer uses <see cref="BrokerSecurity.Default"/>).</summary>
    public BrokerSecurity Security { get; init; } = BrokerSecurity.InProcess;

    // Lease ids are capabilities, but a leaked one still does not let another user touch the lease.
    private LeaseEntry CheckOwner(string id, ServerCallContext context) =>
        Authorize(RequireCaller(id, context), _leases.Find(id) ?? throw LeaseNotFound(id), context);

    // The same for renew and release, which any broker sharing the store may serve.
    private async Task<LeaseEntry> CheckOwnerAsync(string id, ServerCallContext context)
    {
        CallerIdentity caller = RequireCaller(id, context);
        LeaseEntry entry = await _leases.FindAnywhereAsync(id, context.CancellationToken).ConfigureAwait(false) ?? throw LeaseNotFound(id);
        return Authorize(caller, entry, context);
    }

    private CallerIdentity RequireCaller(string id, ServerCallContext context)
    {
        var caller = CallerIdentity.From(context);
        if (caller.IsAnonymous && Security.RequireIdentity)
        {
            throw CallRecord.Refuse(context, new CallOutcome
            {
                Verdict = "unauthenticated",
                Status = StatusCode.PermissionDenied,
                Detail = "this broker serves only callers it can identify (Unix socket, or TCP with a client certificate)",
                Lease = ShortId(id),
                Reason = "caller not identified",
            });
        }

        return caller;
    }

    private static LeaseEntry Authorize(CallerIdentity caller, LeaseEntry entry, ServerCallContext context)
    {
        if (!Owns(caller, entry))
        {
            string why = $"lease {ShortId(entry.Id)} belongs to {DescribeOwner(entry)}, not to {caller}";
            string method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
            throw CallRecord.Refuse(context, new CallOutcome
            {
                Verdict = "not-owner",
                Status = StatusCode.PermissionDenied,
                Detail = why,
                Lease = ShortId(entry.Id),
                Level = LogLevel.Warning,
                Log = $"{method} refused: {why}",
            });
        }

        return entry;
    }

    // Root (uid 0) on the Unix socket administers every lease; anonymous callers only exist in-process. Each end of a
    // connection that joined the lease (LeaseHolders) owns it too.
    private static bool Owns(CallerIdentity caller, LeaseEntry entry) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (entry.Principal is null && entry.Program.Uid == c.Uid) || HoldsAny(caller, entry),
        { Principal: string p } => string.Equals(entry.Principal, p, StringComparison.Ordinal) || HoldsAny(caller, entry),
        _ => caller.IsAnonymous,
    };

    private static bool Visible(CallerIdentity caller, LeaseEntry entry) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (entry.Principal is null && entry.Program.Uid == c.Uid) || HoldsAny(caller, entry),
        { Principals: not null } => string.Equals(entry.Principal, caller.Principal, StringComparison.Ordinal) || HoldsAny(caller, entry),
        _ => true,
    };

    private static string DescribeOwner(LeaseEntry entry) => entry.Principal ?? $"uid {entry.Program.Uid}";

    // A lease's later life (renewed, released) by its owner, with the flow it was granted for.
    private static void RecordLease(string verdict, ServerCallContext context, LeaseEntry entry) =>
        CallRecord.Set(context, new CallOutcome
        {
            Verdict = verdict,
            Request = new LaneRequest { Flow = entry.Flow, Program = entry.Program },
            Grant = entry.Grant,
        });
}
