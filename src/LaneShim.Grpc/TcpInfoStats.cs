// TcpInfoStats.cs - the FlowStats in a struct tcp_info (linux/tcp.h), however it was read: the agent's TCP_INFO, the broker's sock_diag.
using System.Runtime.InteropServices;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc;

/// <summary>
/// Decodes the fields of struct tcp_info the broker learns from, at the fixed offsets of the stable Linux UAPI layout;
/// a shorter struct from an older kernel leaves the fields it lacks at 0.
/// </summary>
public static class TcpInfoStats
{
    /// <summary>The size of struct tcp_info this decoder reads at most (Linux 6.x), for callers that fetch it.</summary>
    public const int Size = 232;

    /// <summary>The statistics in <paramref name="info"/>, the bytes of a struct tcp_info as the kernel returned them.</summary>
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
        // Linux has no cwnd-limited field: busy time is split into rwnd-limited, sndbuf-limited and the rest.
        ulong other = stats.RwndLimitedUs + stats.SndbufLimitedUs;
        stats.CwndLimitedUs = stats.BusyTimeUs > other ? stats.BusyTimeUs - other : 0;
        return stats;
    }

    private static uint U32(ReadOnlySpan<byte> info, int offset) => info.Length >= offset + 4 ? MemoryMarshal.Read<uint>(info[offset..]) : 0;

    private static ulong U64(ReadOnlySpan<byte> info, int offset) => info.Length >= offset + 8 ? MemoryMarshal.Read<ulong>(info[offset..]) : 0;
}
