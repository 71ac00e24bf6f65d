// PlanStep.cs - the lane's settings (buffers, congestion control, pacing, marks) and what it reserves on which links.
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Plans the grant with <see cref="GrantPlanner"/> for the host's limits and the program's own buffers, writes it as a
/// <see cref="LaneGrant"/> with its reason, and lists the rate the lease must reserve on each link (the class's
/// capacity=, and the path's links when links are admission-controlled). Never refuses.
/// </summary>
internal sealed class PlanStep(string defaultPathId, bool reserveLinks) : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "plan";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        GrantPlan plan = GrantPlanner.Plan(grant.LaneClass, grant.Rtt, grant.Host, grant.App);
        grant.Reason = (grant.HostReported ? plan.Reason : plan.Reason + "; note: host limits not reported, sized for a stock Linux host") + grant.PathNote;
        LaneGrant message = GrantMessages.ToGrant(plan, grant.Path?.Id ?? defaultPathId, grant.Reason);
        message.TopologyVersion = grant.Path?.TopologyVersion ?? 0;

        ProgramInfo program = grant.Request.Program.Clone();
        if (grant.Caller.Local is PeerCredentials credentials)
        {
            program.Uid = credentials.Uid;
            program.Gid = credentials.Gid;
            program.Pid = (uint)Math.Max(credentials.Pid, 0);
        }

        grant.Program = program;
        grant.Demands = LinkDemand.For(grant.LaneClass, reserveLinks ? grant.Path : null);
        // An admitted rate belongs to one flow: an agent that reused the grant for its next connection would pace
        // both at it with one reservation, and would not release it when the first closes.
        message.PerFlow = grant.Demands.Count > 0;
        grant.Grant = message;
        return ValueTask.FromResult<CallOutcome?>(null);
    }
}
