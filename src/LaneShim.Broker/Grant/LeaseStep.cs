// LeaseStep.cs - the lease: reserved on its links and written to the store in one step, or refused with a counter-offer.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Leases;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Opens the lease through <see cref="LeaseTable.TryGrantAsync"/>, which admits the demands and stores the lease
/// atomically (in the database, for brokers that share PostgreSQL). RESOURCE_EXHAUSTED when a link lacks the rate (the
/// message names it, trailer <c>laneshim-offer-bps</c> carries the counter-offer) or the table is full. The seam for
/// whatever else a lease must be bound to: everything the lease needs is in the <see cref="GrantContext"/>. The caller
/// becomes a holder of the lease; the other end of a live per-flow lease's connection joins it (<see cref="GrantContext.Joined"/>).
/// </summary>
internal sealed class LeaseStep(LeaseTable leases) : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "lease";

    /// <inheritdoc/>
    public async ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        LeaseGrantResult granted = await leases.TryGrantAsync(grant.Request.Flow, grant.Program, grant.Grant, grant.LaneClass.Ttl, grant.Demands,
            grant.Call.CancellationToken, grant.Caller.Principal, HolderOf(grant)).ConfigureAwait(false);
        if (granted.Refusal is AdmissionRefusal refusal)
        {
            RpcException exhausted = refusal.ToException(grant.Grant.RateBps, grant.LaneClass.MinRateBps);
            return grant.Refusal("exhausted", StatusCode.ResourceExhausted, exhausted.Status.Detail, trailers: exhausted.Trailers,
                level: LogLevel.Information, log: $"RequestLane {grant.Who}: {exhausted.Status.Detail}");
        }

        if (granted.Entry is not LeaseEntry entry)
        {
            return grant.Refusal("exhausted", StatusCode.ResourceExhausted,
                $"the broker holds its maximum of {leases.Capacity} leases; release or let some expire, or raise the limit",
                reason: "lease table full", level: LogLevel.Warning, log: $"RequestLane {grant.Who}: lease table full ({leases.Capacity})");
        }

        grant.Entry = entry;
        grant.Holder = granted.Holder;
        grant.Joined = granted.Joined;
        return null;
    }

    // The caller as one end of the flow it asks for: kernel-reported pid and uid for local callers. Both ends of one
    // connection (a mirrored 5-tuple) share one lease: the second joins the first's, with one admission and one set of rules.
    private static LeaseHolder HolderOf(GrantContext grant) =>
        new(grant.Request.Flow.Direction, grant.Program.Uid, grant.Caller.Local?.Pid ?? (int)grant.Program.Pid, grant.Caller.Principal);
}
