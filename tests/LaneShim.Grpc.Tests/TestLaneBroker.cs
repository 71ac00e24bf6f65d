// TestLaneBroker.cs - a LaneBroker service whose answers each test sets, for the wire-compatibility tests.
using Grpc.Core;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

/// <summary>The generated service base with replaceable handlers: grants what it is asked, denies renewals, never answers releases.</summary>
internal sealed class TestLaneBroker : LaneBroker.LaneBrokerBase
{
    public const string DenialDetail = "lane 'dmz' is not for uid 1000: 100% booked → try later ✓";

    public Func<LaneRequest, ServerCallContext, Task<LaneGrant>> OnRequestLane { get; set; } =
        (request, _) => Task.FromResult(SampleMessages.GrantFor(request));

    public Func<RenewRequest, ServerCallContext, Task<LaneGrant>> OnRenewLane { get; set; } =
        (_, _) => throw new RpcException(new Status(StatusCode.PermissionDenied, DenialDetail));

    public Func<ReleaseRequest, ServerCallContext, Task<ReleaseReply>> OnReleaseLane { get; set; } =
        async (_, context) =>
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new ReleaseReply();
        };

    public override Task<LaneGrant> RequestLane(LaneRequest request, ServerCallContext context) => OnRequestLane(request, context);

    public override Task<LaneGrant> RenewLane(RenewRequest request, ServerCallContext context) => OnRenewLane(request, context);

    public override Task<ReleaseReply> ReleaseLane(ReleaseRequest request, ServerCallContext context) => OnReleaseLane(request, context);

    public override Task<ReportReply> ReportFlow(FlowReport request, ServerCallContext context) => Task.FromResult(new ReportReply());

    public override Task<ListLeasesReply> ListLeases(ListLeasesRequest request, ServerCallContext context) => Task.FromResult(new ListLeasesReply());
}
