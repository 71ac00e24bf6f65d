// GrantMessages.cs - writes a Core GrantPlan into the LaneGrant message the agent applies.
using LaneShim.Core;
using LaneShim.Protocol.V1;
using CoreBufferMode = LaneShim.Core.BufferMode;
using WireBufferMode = LaneShim.Protocol.V1.BufferMode;

namespace LaneShim.Broker.Services;

/// <summary>GrantPlan to LaneGrant.</summary>
internal static class GrantMessages
{
    /// <summary>A grant without lease id and expiry (the lease table fills those in).</summary>
    public static LaneGrant ToGrant(GrantPlan plan, string pathId, string reason) => new()
    {
        LaneClass = plan.ClassName,
        RateBps = plan.RateBps,
        RttUs = (uint)Math.Min(plan.Rtt.Rtt.Ticks / TimeSpan.TicksPerMicrosecond, uint.MaxValue),
        BdpBytes = (ulong)plan.BdpBytes,
        SndbufBytes = plan.Send.Bytes,
        SndbufMode = ToWire(plan.Send.Mode),
        RcvbufBytes = plan.Receive.Bytes,
        RcvbufMode = ToWire(plan.Receive.Mode),
        Congestion = plan.Congestion,
        PacingRate = plan.PacingBytesPerSecond,
        Dscp = (uint)plan.Dscp,
        Mark = plan.Mark,
        Priority = (uint)plan.Priority,
        NotsentLowat = (uint)Math.Min(plan.NotsentLowat, uint.MaxValue),
        PathId = pathId,
        Reason = reason,
        Bulk = plan.Bulk,
    };

    /// <summary>Core buffer mode to the wire enum.</summary>
    public static WireBufferMode ToWire(CoreBufferMode mode) => mode switch
    {
        CoreBufferMode.Autotune => WireBufferMode.Autotune,
        CoreBufferMode.Set => WireBufferMode.Set,
        CoreBufferMode.Force => WireBufferMode.Force,
        _ => WireBufferMode.Unspecified,
    };
}
