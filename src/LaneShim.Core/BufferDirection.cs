// BufferDirection.cs - which of a socket's two buffers a plan is for.
namespace LaneShim.Core;

/// <summary>The send (SO_SNDBUF) or receive (SO_RCVBUF) buffer.</summary>
public enum BufferDirection
{
    /// <summary>SO_SNDBUF; host limits net.core.wmem_max and net.ipv4.tcp_wmem.</summary>
    Send,

    /// <summary>SO_RCVBUF; host limits net.core.rmem_max and net.ipv4.tcp_rmem.</summary>
    Receive,
}
