// LaneBrokerService.Holders.cs - issue 14's seam in the grant path: each end of a connection holds its lease, and the lease ends with the last.
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Services;

public sealed partial class LaneBrokerService
{
    private readonly LeaseHolders _holders;

    /// <summary>Who holds each lease, and when it ends (the kernel's word on its connections, when a watcher is given).</summary>
    public LeaseHolders Holders => _holders;

    // The caller as one end of the flow it asks for: kernel-reported pid and uid for local callers.
    private static LeaseHolder HolderOf(Flow flow, ProgramInfo program, CallerIdentity caller) =>
        new(flow.Direction, program.Uid, caller.Local?.Pid ?? (int)program.Pid, caller.Principal);

    // A per-flow lease (steered or admitted: it holds rules or capacity) is watched through the proven socket. A lease
    // that only carries what the broker set on one socket holds nothing the connection could outlive.
    private void Watch(LeaseEntry entry, int holder, ProvenSocket? proven, Flow flow)
    {
        if (proven is not null && entry.Grant.PerFlow)
        {
            _holders.Attach(entry, holder, proven.Fd, flow);
        }
    }

    // The caller gave up before its lane was ready: when the broker can watch the connection, it sets the lane on the
    // socket itself (LateLane) and the kernel's word ends it; false when it cannot (then the caller's part is withdrawn).
    private bool KeepLate(ProvenSocket? proven, LeaseEntry entry, int holder, Flow flow, out string late)
    {
        late = "";
        if (proven is null || flow.Direction == Direction.Listen || _holders.Attach(entry, holder, proven.Fd, flow) != "kernel")
        {
            return false;
        }
        late = LateLane.Apply(proven, entry.Grant);
        entry.Grant.Reason += "; set late by the broker (the caller's deadline had passed): " + late;
        return true;
    }

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

    private static bool OwnsHolder(CallerIdentity caller, LeaseHolder holder) => caller switch
    {
        { Local: PeerCredentials c } => c.Uid == 0 || (holder.Principal is null && holder.Uid == c.Uid),
        { Principal: string p } => string.Equals(holder.Principal, p, StringComparison.Ordinal),
        _ => caller.IsAnonymous,
    };
}
