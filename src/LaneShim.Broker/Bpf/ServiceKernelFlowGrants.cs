// ServiceKernelFlowGrants.cs - IKernelFlowGrants over LaneBrokerService: each kernel report is served as a call from
// the socket's owner, on the broker's own kernel peer (the kernel vouches for the socket, so no pidfd proof).
using LaneShim.Broker.Services;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Runs kernel reports through <see cref="LaneBrokerService"/>'s own handlers (RequestLane, RenewLane, ReleaseLane),
/// so admission, leases, steering, audit and telemetry are the agent's. When the service becomes a pipeline, this is
/// the one class to point at it.
/// </summary>
public sealed class ServiceKernelFlowGrants : IKernelFlowGrants
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);
    private readonly LaneBrokerService _service;

    /// <summary>Serves kernel reports with <paramref name="service"/>.</summary>
    public ServiceKernelFlowGrants(LaneBrokerService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
    }

    /// <inheritdoc/>
    public async Task<KernelGrantOutcome> GrantAsync(KernelFlow flow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        try
        {
            LaneGrant grant = await _service.RequestLane(flow.Request, Context(LaneBrokerMethods.RequestLane, flow, cancellationToken)).ConfigureAwait(false);
            return new KernelGrantOutcome(grant, GrpcStatusCode.OK, "");
        }
        catch (GrpcException e)
        {
            return new KernelGrantOutcome(null, e.StatusCode, e.Detail);
        }
    }

    /// <inheritdoc/>
    public async Task<bool> RenewAsync(string leaseId, KernelFlow flow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        try
        {
            await _service.RenewLane(new RenewRequest { LeaseId = leaseId }, Context(LaneBrokerMethods.RenewLane, flow, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (GrpcException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    /// <remarks>The lease's rules are removed from the routers before this returns.</remarks>
    public async Task ReleaseAsync(string leaseId, KernelFlow flow, FlowStats? stats, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (_service.Paths is { } paths)
        {
            // First, and awaited: the rules are gone when this returns (ReleaseLane alone removes them in the background).
            await paths.RemoveAsync(leaseId, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await _service.ReleaseLane(new ReleaseRequest { LeaseId = leaseId, Stats = stats }, Context(LaneBrokerMethods.ReleaseLane, flow, cancellationToken)).ConfigureAwait(false);
        }
        catch (GrpcException)
        {
            // expired or released already: nothing left to end
        }
    }

    private static ServerCallContext Context(string method, KernelFlow flow, CancellationToken cancellationToken) =>
        new(method, LaneBrokerService.KernelPeer, flow.Owner, DateTimeOffset.UtcNow + CallDeadline, cancellationToken);
}
