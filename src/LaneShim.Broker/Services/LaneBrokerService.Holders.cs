// LaneBrokerService.Holders.cs - issue 14 in the lease calls: each end of a connection holds its lease, and the lease ends with the last.
using Grpc.Core;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Services;

public sealed partial class LaneBrokerService
{
    private readonly LeaseHolders _holders;

    /// <summary>Who holds each lease, and when it ends (the kernel's word on its connections, when a watcher is given).</summary>
    public LeaseHolders Holders => _holders;

    private Task<(LeaseEntry Entry, bool Ended)> ReleaseHolderAsync(LeaseEntry entry, ServerCallContext context, FlowStats? stats)
    {
        var caller = CallerIdentity.From(context);
        return _holders.ReleaseAsync(entry, caller.Local?.Pid ?? 0, h => OwnsHolder(caller, h), stats);
    }

    // A lease's last holder is gone: its closed flow goes into the log, the metrics and the rate learner.
    private void OnLeaseEnded(LeaseEntry entry, FlowStats? stats)
    {
        if (stats is null)
        {
            return;
        }
        if (stats.DurationMs == 0)
        {
            // The kernel's TCP_INFO has no age: a lease is granted just before its connection starts.
            stats = stats.Clone();
            stats.DurationMs = (ulong)Math.Max(0, (DateTimeOffset.UtcNow - entry.GrantedAt).TotalMilliseconds);
        }
        RecordClosed(entry, entry.Flow, stats);
    }

    // The caller is one of the lease's holders (an end of its connection that asked), as Owns and Visible count it.
    private static bool HoldsAny(CallerIdentity caller, LeaseEntry entry) => entry.Holders.Any(h => OwnsHolder(caller, h));

    private static bool OwnsHolder(CallerIdentity caller, LeaseHolder holder) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (holder.Principal is null && holder.Uid == c.Uid),
        { Principal: string p } => string.Equals(holder.Principal, p, StringComparison.Ordinal),
        _ => caller.IsAnonymous,
    };
}
