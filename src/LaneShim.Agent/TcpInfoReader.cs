// TcpInfoReader.cs - reads the fields of struct tcp_info (linux/tcp.h) the broker learns from.
using LaneShim.Agent.Native;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>TCP_INFO at fixed offsets of the stable Linux UAPI layout; fields past what the kernel returns stay 0.</summary>
internal static unsafe class TcpInfoReader
{
    private const int Size = 232;

    /// <summary>The socket's statistics, or null when TCP_INFO is unavailable.</summary>
    public static FlowStats? Read(int fd)
    {
        byte* info = stackalloc byte[Size];
        new Span<byte>(info, Size).Clear();
        uint length = Size;
        if (Libc.GetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_INFO, info, &length) != 0)
        {
            return null;
        }
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

    private static uint U32(byte* p, int offset) => *(uint*)(p + offset);

    private static ulong U64(byte* p, int offset) => *(ulong*)(p + offset);
}
