// TcpInfoDecoder.cs - the FlowStats of a struct tcp_info the kernel sent in a sock_diag message (INET_DIAG_INFO).
using System.Runtime.InteropServices;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// Reads struct tcp_info (linux/tcp.h, stable UAPI layout) as the agent's TCP_INFO reader does; a shorter struct from
/// an older kernel leaves the fields it lacks at 0.
/// </summary>
internal static class TcpInfoDecoder
{
    /// <summary>The statistics in <paramref name="info"/>.</summary>
    public static FlowStats Decode(ReadOnlySpan<byte> info)
    {
        var stats = new FlowStats
        {
            SrttUs = U32(info, 68),
            TotalRetrans = U32(info, 100),
            BytesAcked = U64(info, 120),
            BytesReceived = U64(info, 128),
            MinRttUs = U32(info, 148),
            DeliveryRateBps = U64(info, 160) * 8,
            BusyTimeUs = U64(info, 168),
            RwndLimitedUs = U64(info, 176),
            SndbufLimitedUs = U64(info, 184),
        };
        ulong other = stats.RwndLimitedUs + stats.SndbufLimitedUs;
        stats.CwndLimitedUs = stats.BusyTimeUs > other ? stats.BusyTimeUs - other : 0;
        return stats;
    }

    private static uint U32(ReadOnlySpan<byte> info, int offset) => info.Length >= offset + 4 ? MemoryMarshal.Read<uint>(info[offset..]) : 0;

    private static ulong U64(ReadOnlySpan<byte> info, int offset) => info.Length >= offset + 8 ? MemoryMarshal.Read<ulong>(info[offset..]) : 0;
}
