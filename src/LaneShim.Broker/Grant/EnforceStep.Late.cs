// EnforceStep.Late.cs - a lane the caller gave up waiting for: set by the broker on the proven socket, kept while the kernel has the connection.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Liveness;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

internal sealed partial class EnforceStep
{
    private const string SetLate = "the lane was ready after the caller's deadline; the broker set it on the socket";

    // The caller's deadline passed: when the broker can watch the connection, it sets the lane on the socket itself
    // (LateLane), the kernel's word ends the lease, and the caller still hears DEADLINE_EXCEEDED (verdict "late"). Null
    // when it cannot (no proven socket, a listener, no watcher): then the caller's part is withdrawn.
    private CallOutcome? KeepLate(GrantContext grant, LeaseEntry entry)
    {
        if (grant.Proven is not { } proven || grant.Request.Flow.Direction == Direction.Listen
            || holders.Attach(entry, grant.Holder, proven.Fd, grant.Request.Flow) != "kernel")
        {
            return null;
        }

        string late = LateLane.Apply(proven, entry.Grant);
        entry.Grant.LeaseFollowsConnection = true;
        entry.Grant.Reason += "; set late by the broker (the caller's deadline had passed): " + late;
        CallOutcome refusal = grant.Refusal("late", StatusCode.DeadlineExceeded, SetLate, reason: $"deadline passed before the lane was ready; the broker {late}",
            level: LogLevel.Information,
            log: $"RequestLane {grant.Who}: the caller's deadline passed before its lane was ready; lease {Services.LaneBrokerService.ShortId(entry.Id)} kept, the broker {late}");
        return refusal with { Grant = entry.Grant };
    }
}
