// LaneBrokerMethods.cs - the full method names of service laneshim.v1.LaneBroker, as they appear in the HTTP/2 :path.
namespace LaneShim.Grpc;

/// <summary>Method paths of <c>laneshim.v1.LaneBroker</c> (proto/laneshim/v1/broker.proto).</summary>
public static class LaneBrokerMethods
{
    public const string Service = "laneshim.v1.LaneBroker";
    public const string RequestLane = "/" + Service + "/RequestLane";
    public const string RenewLane = "/" + Service + "/RenewLane";
    public const string ReleaseLane = "/" + Service + "/ReleaseLane";
    public const string ReportFlow = "/" + Service + "/ReportFlow";
    public const string ListLeases = "/" + Service + "/ListLeases";
}
