// TestLaneBroker.cs - a LaneBroker service definition with scriptable handlers, for the in-process and interop tests.
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

/// <summary>
/// The test service: RequestLane answers <see cref="SampleMessages.GrantFor"/>; RenewLane denies with
/// <see cref="DenialDetail"/>; ReleaseLane hangs until cancelled; the others answer empty replies.
/// Each handler can be replaced.
/// </summary>
internal sealed class TestLaneBroker
{
    /// <summary>The PERMISSION_DENIED detail: non-ASCII and '%' exercise percent-encoding.</summary>
    public const string DenialDetail = "lane 'dmz' is not for uid 1000: 100% booked → try later ✓";

    public Func<LaneRequest, ServerCallContext, Task<LaneGrant>> RequestLane { get; set; } =
        (request, _) => Task.FromResult(SampleMessages.GrantFor(request));

    public Func<RenewRequest, ServerCallContext, Task<LaneGrant>> RenewLane { get; set; } =
        (_, _) => throw new GrpcException(GrpcStatusCode.PermissionDenied, DenialDetail);

    public Func<ReleaseRequest, ServerCallContext, Task<ReleaseReply>> ReleaseLane { get; set; } =
        async (_, context) =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new ReleaseReply();
        };

    public Func<FlowReport, ServerCallContext, Task<ReportReply>> ReportFlow { get; set; } =
        (_, _) => Task.FromResult(new ReportReply());

    public Func<ListLeasesRequest, ServerCallContext, Task<ListLeasesReply>> ListLeases { get; set; } =
        (_, _) => Task.FromResult(new ListLeasesReply());

    /// <summary>The definition a GrpcHost serves; handlers are looked up per call, so they can change after start.</summary>
    public GrpcServiceDefinition Definition() => new GrpcServiceDefinition()
        .AddUnary(LaneBrokerMethods.RequestLane, LaneRequest.Parser, (r, c) => RequestLane(r, c))
        .AddUnary(LaneBrokerMethods.RenewLane, RenewRequest.Parser, (r, c) => RenewLane(r, c))
        .AddUnary(LaneBrokerMethods.ReleaseLane, ReleaseRequest.Parser, (r, c) => ReleaseLane(r, c))
        .AddUnary(LaneBrokerMethods.ReportFlow, FlowReport.Parser, (r, c) => ReportFlow(r, c))
        .AddUnary(LaneBrokerMethods.ListLeases, ListLeasesRequest.Parser, (r, c) => ListLeases(r, c));
}
