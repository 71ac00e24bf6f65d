// DiagEntry.cs - one TCP socket as sock_diag reports it: state, inode (0: no file holds it), cookie, and where it is.
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Liveness;

/// <summary>The fields of one struct inet_diag_msg the watcher uses.</summary>
/// <param name="Family">AF_INET or AF_INET6.</param>
/// <param name="State">The TCP state (1 ESTABLISHED ... 6 TIME_WAIT, 7 CLOSE ...).</param>
/// <param name="Inode">The socket's inode; 0 when no file refers to it any more (closed by every holder, orphaned).</param>
/// <param name="Cookie">The socket cookie.</param>
/// <param name="SockId">The raw struct inet_diag_sockid (48 bytes), to look the same socket up again.</param>
/// <param name="Stats">From INET_DIAG_INFO when the message carried it.</param>
internal sealed record DiagEntry(byte Family, byte State, uint Inode, ulong Cookie, byte[] SockId, FlowStats? Stats)
{
    /// <summary>TCP_TIME_WAIT.</summary>
    public const byte TimeWait = 6;

    /// <summary>TCP_CLOSE: bound and not (or no longer) connected.</summary>
    public const byte Close = 7;

    /// <summary>A file still refers to the socket and it is a connection (not TIME_WAIT): some process holds it.</summary>
    public bool Held => Inode != 0 && State != TimeWait;
}
