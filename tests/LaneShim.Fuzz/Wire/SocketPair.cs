// SocketPair.cs - a connected pair of Unix stream sockets (socketpair(2)), the cheapest fresh connection per fuzz input.
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LaneShim.Fuzz.Wire;

/// <summary>Creates connected AF_UNIX stream socket pairs; .NET has no managed socketpair.</summary>
internal static partial class SocketPair
{
    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;

    /// <summary>Two connected sockets: the agent's end and the fake broker's end.</summary>
    /// <exception cref="SocketException">socketpair failed (descriptors exhausted).</exception>
    public static unsafe (Socket Client, Socket Server) Create()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AfUnix, SockStream | SockCloexec, 0, fds) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        Socket? client = null;
        try
        {
            client = new Socket(new SafeSocketHandle(fds[0], ownsHandle: true));
        }
        catch
        {
            _ = close(fds[1]);
            throw;
        }

        try
        {
            return (client, new Socket(new SafeSocketHandle(fds[1], ownsHandle: true)));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
