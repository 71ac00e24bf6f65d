// IKernelFlowGrants.cs - the narrow door from the BPF lane path into the broker's grant path (admission, lease,
// steering, telemetry), so the kernel's reports are decided exactly as an agent's requests are.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>The grant path as the BPF lane path uses it.</summary>
public interface IKernelFlowGrants
{
    /// <summary>Decides a kernel-reported flow as RequestLane would (policy, admission, lease, steering, metrics).</summary>
    Task<KernelGrantOutcome> GrantAsync(KernelFlow flow, CancellationToken cancellationToken);

    /// <summary>Extends the flow's lease (and its rules) while its socket lives; false when the lease is gone.</summary>
    Task<bool> RenewAsync(string leaseId, KernelFlow flow, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the lease: at close with the flow's final stats (the flow log and metrics get it), or with null stats when
    /// the lease is withdrawn while the flow lives on (the agent took it over, the broker stops). Its rules are gone
    /// when this returns.
    /// </summary>
    Task ReleaseAsync(string leaseId, KernelFlow flow, FlowStats? stats, CancellationToken cancellationToken);
}
