// LaneBrokerClient.cs - typed calls to laneshim.v1.LaneBroker over a GrpcClient, in async and blocking forms.
using Google.Protobuf;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc;

/// <summary>
/// The LaneBroker service (proto/laneshim/v1/broker.proto) as methods. Every failure is a <see cref="GrpcException"/>;
/// the blocking forms never hold the caller much past the deadline.
/// </summary>
public sealed class LaneBrokerClient : IDisposable
{
    private readonly bool _ownsTransport;

    /// <summary>Wraps an existing transport; <paramref name="ownsTransport"/> says whether <see cref="Dispose"/> disposes it.</summary>
    public LaneBrokerClient(GrpcClient transport, bool ownsTransport = false)
    {
        ArgumentNullException.ThrowIfNull(transport);
        Transport = transport;
        _ownsTransport = ownsTransport;
    }

    /// <summary>Creates a client with its own transport for <paramref name="address"/>.</summary>
    public LaneBrokerClient(BrokerAddress address, GrpcClientOptions? options = null)
        : this(new GrpcClient(address, options), ownsTransport: true)
    {
    }

    /// <summary>The underlying transport.</summary>
    public GrpcClient Transport { get; }

    /// <summary>Asks for a lane for one flow.</summary>
    public Task<LaneGrant> RequestLaneAsync(LaneRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.RequestLane, request, LaneGrant.Parser, deadline, cancellationToken);

    /// <summary>Asks for a lane for one flow, blocking.</summary>
    public LaneGrant RequestLane(LaneRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.RequestLane, request, LaneGrant.Parser, deadline, cancellationToken);

    /// <summary>Extends a lease.</summary>
    public Task<LaneGrant> RenewLaneAsync(RenewRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.RenewLane, request, LaneGrant.Parser, deadline, cancellationToken);

    /// <summary>Extends a lease, blocking.</summary>
    public LaneGrant RenewLane(RenewRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.RenewLane, request, LaneGrant.Parser, deadline, cancellationToken);

    /// <summary>Gives a lease back.</summary>
    public Task<ReleaseReply> ReleaseLaneAsync(ReleaseRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.ReleaseLane, request, ReleaseReply.Parser, deadline, cancellationToken);

    /// <summary>Gives a lease back, blocking.</summary>
    public ReleaseReply ReleaseLane(ReleaseRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.ReleaseLane, request, ReleaseReply.Parser, deadline, cancellationToken);

    /// <summary>Reports what was applied to a flow and what it did.</summary>
    public Task<ReportReply> ReportFlowAsync(FlowReport request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.ReportFlow, request, ReportReply.Parser, deadline, cancellationToken);

    /// <summary>Reports what was applied to a flow and what it did, blocking.</summary>
    public ReportReply ReportFlow(FlowReport request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.ReportFlow, request, ReportReply.Parser, deadline, cancellationToken);

    /// <summary>Lists the active leases.</summary>
    public Task<ListLeasesReply> ListLeasesAsync(ListLeasesRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.ListLeases, request, ListLeasesReply.Parser, deadline, cancellationToken);

    /// <summary>Lists the active leases, blocking.</summary>
    public ListLeasesReply ListLeases(ListLeasesRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.ListLeases, request, ListLeasesReply.Parser, deadline, cancellationToken);

    /// <summary>Reports many flows in one call.</summary>
    public Task<ReportReply> ReportFlowsAsync(FlowReportBatch request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.ReportFlows, request, ReportReply.Parser, deadline, cancellationToken);

    /// <summary>Reports many flows in one call, blocking.</summary>
    public ReportReply ReportFlows(FlowReportBatch request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => Call(LaneBrokerMethods.ReportFlows, request, ReportReply.Parser, deadline, cancellationToken);

    /// <summary>Lists recently closed flows.</summary>
    public Task<ListFlowsReply> ListFlowsAsync(ListFlowsRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.ListFlows, request, ListFlowsReply.Parser, deadline, cancellationToken);

    /// <summary>Takes a topology link down or up (root only).</summary>
    public Task<SetLinkStateReply> SetLinkStateAsync(SetLinkStateRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.SetLinkState, request, SetLinkStateReply.Parser, deadline, cancellationToken);

    /// <summary>Moves the caller into a cgroup of the broker's BPF lane path (Unix socket only).</summary>
    public Task<BpfScopeReply> EnterBpfScopeAsync(BpfScopeRequest request, TimeSpan deadline, CancellationToken cancellationToken = default)
        => CallAsync(LaneBrokerMethods.EnterBpfScope, request, BpfScopeReply.Parser, deadline, cancellationToken);

    /// <summary>Disposes the transport when this client owns it.</summary>
    public void Dispose()
    {
        if (_ownsTransport)
        {
            Transport.Dispose();
        }
    }

    private Task<TResponse> CallAsync<TRequest, TResponse>(string path, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
        => Transport.CallUnaryAsync(path, request, parser, deadline, cancellationToken);

    private TResponse Call<TRequest, TResponse>(string path, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
        => Transport.CallUnary(path, request, parser, deadline, cancellationToken);
}
