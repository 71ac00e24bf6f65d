// LaneBrokerMethods.cs - the full method names of service laneshim.v1.LaneBroker, as they appear in the HTTP/2 :path.
namespace LaneShim.Grpc;

/// <summary>Method paths of <c>laneshim.v1.LaneBroker</c> (proto/laneshim/v1/broker.proto).</summary>
public static class LaneBrokerMethods
{
    /// <summary>The fully qualified service name.</summary>
    public const string Service = "laneshim.v1.LaneBroker";
    /// <summary>rpc RequestLane(LaneRequest) returns (LaneGrant).</summary>
    public const string RequestLane = "/" + Service + "/RequestLane";
    /// <summary>rpc RenewLane(RenewRequest) returns (LaneGrant).</summary>
    public const string RenewLane = "/" + Service + "/RenewLane";
    /// <summary>rpc ReleaseLane(ReleaseRequest) returns (ReleaseReply).</summary>
    public const string ReleaseLane = "/" + Service + "/ReleaseLane";
    /// <summary>rpc ReportFlow(FlowReport) returns (ReportReply).</summary>
    public const string ReportFlow = "/" + Service + "/ReportFlow";
    /// <summary>rpc ListLeases(ListLeasesRequest) returns (ListLeasesReply).</summary>
    public const string ListLeases = "/" + Service + "/ListLeases";
    /// <summary>rpc ReportFlows(FlowReportBatch) returns (ReportReply).</summary>
    public const string ReportFlows = "/" + Service + "/ReportFlows";
    /// <summary>rpc ListFlows(ListFlowsRequest) returns (ListFlowsReply).</summary>
    public const string ListFlows = "/" + Service + "/ListFlows";
    /// <summary>rpc SetLinkState(SetLinkStateRequest) returns (SetLinkStateReply).</summary>
    public const string SetLinkState = "/" + Service + "/SetLinkState";
    /// <summary>rpc EnterBpfScope(BpfScopeRequest) returns (BpfScopeReply).</summary>
    public const string EnterBpfScope = "/" + Service + "/EnterBpfScope";
}
