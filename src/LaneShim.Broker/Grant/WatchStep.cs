// WatchStep.cs - a per-flow lease follows its connection: the broker watches the proven socket in the kernel and says so in the grant.
using LaneShim.Broker.Audit;
using LaneShim.Broker.Liveness;

namespace LaneShim.Broker.Grant;

/// <summary>
/// After enforcement, when the lease is per-flow (steered or admitted: it holds rules or capacity a connection could
/// outlive) and the caller's socket was proven, the broker watches that socket's connection (<see cref="LeaseHolders"/>,
/// sock_diag): the lease lives while any process holds the connection and the broker renews it. The grant then says
/// <c>lease_follows_connection</c>, and the agent starts no renewal for it; every other grant says false (the agent
/// renews it while its socket lives). A grant the broker set late was watched in <see cref="EnforceStep"/>.
/// </summary>
internal sealed class WatchStep(LeaseHolders holders) : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "watch";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        bool watched = grant.Proven is { } proven && grant.Entry.Grant.PerFlow
            && holders.Attach(grant.Entry, grant.Holder, proven.Fd, grant.Request.Flow) == "kernel";
        grant.Entry.Grant.LeaseFollowsConnection = watched;
        return ValueTask.FromResult<CallOutcome?>(null);
    }
}
