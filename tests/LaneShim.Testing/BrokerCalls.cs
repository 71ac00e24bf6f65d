// BrokerCalls.cs - the tests' short form of a broker call: the generated client with a relative deadline.
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Testing;

/// <summary>Each LaneBroker method on a <see cref="BrokerChannel"/>, ending by a deadline relative to now.</summary>
public static class BrokerCalls
{
    private static DateTime Due(TimeSpan deadline) => DateTime.UtcNow + deadline;

    /// <summary>RequestLane.</summary>
    public static Task<LaneGrant> RequestLaneAsync(this BrokerChannel broker, LaneRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.RequestLaneAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>RequestLane, blocking.</summary>
    public static LaneGrant RequestLane(this BrokerChannel broker, LaneRequest request, TimeSpan deadline) => broker.Call((c, o) => c.RequestLane(request, o), deadline);

    /// <summary>RenewLane.</summary>
    public static Task<LaneGrant> RenewLaneAsync(this BrokerChannel broker, RenewRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.RenewLaneAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>RenewLane, blocking.</summary>
    public static LaneGrant RenewLane(this BrokerChannel broker, RenewRequest request, TimeSpan deadline) => broker.Call((c, o) => c.RenewLane(request, o), deadline);

    /// <summary>ReleaseLane.</summary>
    public static Task<ReleaseReply> ReleaseLaneAsync(this BrokerChannel broker, ReleaseRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.ReleaseLaneAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>ReleaseLane, blocking.</summary>
    public static ReleaseReply ReleaseLane(this BrokerChannel broker, ReleaseRequest request, TimeSpan deadline) => broker.Call((c, o) => c.ReleaseLane(request, o), deadline);

    /// <summary>ReportFlow.</summary>
    public static Task<ReportReply> ReportFlowAsync(this BrokerChannel broker, FlowReport request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.ReportFlowAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>ReportFlow, blocking.</summary>
    public static ReportReply ReportFlow(this BrokerChannel broker, FlowReport request, TimeSpan deadline) => broker.Call((c, o) => c.ReportFlow(request, o), deadline);

    /// <summary>ReportFlows.</summary>
    public static Task<ReportReply> ReportFlowsAsync(this BrokerChannel broker, FlowReportBatch request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.ReportFlowsAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>ReportFlows, blocking.</summary>
    public static ReportReply ReportFlows(this BrokerChannel broker, FlowReportBatch request, TimeSpan deadline) => broker.Call((c, o) => c.ReportFlows(request, o), deadline);

    /// <summary>ListLeases.</summary>
    public static Task<ListLeasesReply> ListLeasesAsync(this BrokerChannel broker, ListLeasesRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.ListLeasesAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>ListLeases, blocking.</summary>
    public static ListLeasesReply ListLeases(this BrokerChannel broker, ListLeasesRequest request, TimeSpan deadline) => broker.Call((c, o) => c.ListLeases(request, o), deadline);

    /// <summary>ListFlows.</summary>
    public static Task<ListFlowsReply> ListFlowsAsync(this BrokerChannel broker, ListFlowsRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.ListFlowsAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;

    /// <summary>SetLinkState.</summary>
    public static Task<SetLinkStateReply> SetLinkStateAsync(this BrokerChannel broker, SetLinkStateRequest request, TimeSpan deadline, CancellationToken ct = default) =>
        broker.Client.SetLinkStateAsync(request, deadline: Due(deadline), cancellationToken: ct).ResponseAsync;
}
