// ServiceKernelFlowGrants.cs - IKernelFlowGrants over LaneBrokerService: each kernel report goes through the grant
// pipeline and the outcome interceptor as a call from the socket's owner, with a kernel caller identity (no socket proof).
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Services;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Runs kernel reports through <see cref="LaneBrokerService"/>'s own handlers (RequestLane is its
/// <see cref="Grant.GrantPipeline"/>; RenewLane, ReleaseLane) inside the <see cref="OutcomeInterceptor"/>, so
/// admission, leases, steering, audit, log lines and metrics are the agent's. The caller is
/// <see cref="CallerIdentity.ReportedByKernel"/>: admission takes the kernel's word for the socket instead of a proof.
/// </summary>
public sealed class ServiceKernelFlowGrants : IKernelFlowGrants
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);
    private static readonly string RequestLane = Method("RequestLane");
    private static readonly string RenewLane = Method("RenewLane");
    private static readonly string ReleaseLane = Method("ReleaseLane");
    private readonly LaneBrokerService _service;
    private readonly OutcomeInterceptor _outcomes;

    /// <summary>Serves kernel reports with <paramref name="service"/>.</summary>
    public ServiceKernelFlowGrants(LaneBrokerService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
        _outcomes = new OutcomeInterceptor(service);
    }

    /// <inheritdoc/>
    public async Task<KernelGrantOutcome> GrantAsync(KernelFlow flow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        try
        {
            LaneGrant grant = await _outcomes.UnaryServerHandler(flow.Request, Context(RequestLane, flow, cancellationToken), _service.RequestLane).ConfigureAwait(false);
            return new KernelGrantOutcome(grant, StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return new KernelGrantOutcome(null, e.StatusCode, e.Status.Detail);
        }
    }

    /// <inheritdoc/>
    public async Task<bool> RenewAsync(string leaseId, KernelFlow flow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        try
        {
            await _outcomes.UnaryServerHandler(new RenewRequest { LeaseId = leaseId }, Context(RenewLane, flow, cancellationToken), _service.RenewLane).ConfigureAwait(false);
            return true;
        }
        catch (RpcException)
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
            await _outcomes.UnaryServerHandler(new ReleaseRequest { LeaseId = leaseId, Stats = stats }, Context(ReleaseLane, flow, cancellationToken), _service.ReleaseLane).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // expired or released already: nothing left to end
        }
    }

    private static InProcessCallContext Context(string method, KernelFlow flow, CancellationToken cancellationToken) =>
        InProcessCallContext.For(method, CallerIdentity.ReportedByKernel(flow.Owner), DateTime.UtcNow + CallDeadline, cancellationToken);

    private static string Method(string name) => "/" + LaneBroker.Descriptor.FullName + "/" + LaneBroker.Descriptor.FindMethodByName(name).Name;
}
