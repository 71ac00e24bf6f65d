// TcpInfoReader.cs - reads a socket's TCP_INFO; TcpInfoStats (LaneShim.Grpc) decodes it, as it does for the broker's sock_diag.
using LaneShim.Agent.Native;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>TCP_INFO of one socket, decoded; fields past what the kernel returns stay 0.</summary>
internal static unsafe class TcpInfoReader
{
    /// <summary>The socket's statistics, or null when TCP_INFO is unavailable.</summary>
    public static FlowStats? Read(int fd)
    {
        byte* info = stackalloc byte[TcpInfoStats.Size];
        uint length = TcpInfoStats.Size;
        if (Libc.GetSockOpt(fd, Libc.IPPROTO_TCP, Libc.TCP_INFO, info, &length) != 0)
        {
            return null;
        }
        return TcpInfoStats.Decode(new ReadOnlySpan<byte>(info, (int)Math.Min(length, (uint)TcpInfoStats.Size)));
    }
}
