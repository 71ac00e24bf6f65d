// PeerCredentials.cs - who is on the other end of a Unix-socket connection, as the kernel says (SO_PEERCRED).
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Identity;

/// <summary>The caller's pid, uid and gid from SO_PEERCRED; never from the request.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    // Linux: SOL_SOCKET = 1, SO_PEERCRED = 17, struct ucred { pid_t pid; uid_t uid; gid_t gid; } = 12 bytes.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int UcredSize = 12;

    /// <summary>
    /// Reads SO_PEERCRED from a connected Unix-domain socket: the credentials of the process that called connect(),
    /// captured by the kernel at that moment. False when the socket is not a Unix socket, the platform is not Linux,
    /// or the kernel refuses.
    /// </summary>
    public static bool TryRead(Socket socket, out PeerCredentials credentials)
    {
        credentials = default;
        if (socket is null || !OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
        {
            return false;
        }

        Span<byte> ucred = stackalloc byte[UcredSize];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) != UcredSize)
            {
                return false;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }

        // The kernel fills the struct in host byte order.
        credentials = new PeerCredentials(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
        return true;
    }
}
