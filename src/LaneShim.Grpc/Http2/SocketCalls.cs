// SocketCalls.cs - socket, connect, send, recv and poll straight from libc, so a blocked caller waits in the kernel, not on .NET's socket engine.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// .NET emulates a blocking receive on a socket it has made non-blocking (as any connect with a timeout does) by parking
/// the caller until its epoll thread sees the socket ready: two thread hand-offs per answer, and a thread of its own in
/// the host process. The unary connection instead makes its socket, connects, sends and receives with libc
/// (MSG_DONTWAIT) and waits in poll() itself.
/// </summary>
internal static unsafe partial class SocketCalls
{
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EPipe = 32;
    public const int EConnAborted = 103;
    public const int EConnReset = 104;
    public const int EInProgress = 115;

    private const int AfUnix = 1;
    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private const int SockStream = 1;
    private const int SockNonBlock = 0x800;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoError = 4;
    private const int IpProtoTcp = 6;
    private const int TcpNoDelay = 1;

    /// <summary>The system's words for <paramref name="errno"/> (strerror).</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>
    /// A non-blocking, close-on-exec stream socket connected to <paramref name="endPoint"/> by <paramref name="due"/>
    /// (<see cref="Stopwatch"/> timestamp; long.MaxValue waits as long as the kernel does). TCP gets TCP_NODELAY.
    /// </summary>
    /// <exception cref="Http2Exception">UNAVAILABLE when the connect fails, DEADLINE_EXCEEDED when it does not finish in time.</exception>
    public static int Connect(EndPoint endPoint, long due)
    {
        Span<byte> address = stackalloc byte[112];
        int length = WriteSockaddr(endPoint, address, out int family);
        int fd = Socket(family, SockStream | SockNonBlock | SockCloexec, 0);
        if (fd < 0)
        {
            throw new Http2Exception(StatusCode.Unavailable, $"cannot make a socket: {Describe(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (family != AfUnix)
            {
                int one = 1;
                _ = SetSockOpt(fd, IpProtoTcp, TcpNoDelay, &one, sizeof(int));
            }

            int rc;
            fixed (byte* sa = address)
            {
                do
                {
                    rc = ConnectRaw(fd, sa, (uint)length);
                }
                while (rc < 0 && Marshal.GetLastPInvokeError() == EIntr);
            }

            if (rc < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is not (EAgain or EInProgress))
                {
                    throw Unreachable(endPoint, errno);
                }

                // A full listen backlog (a broker that stopped accepting) or a TCP handshake: wait for it, not past the deadline.
                if (!WaitWritable(fd, due))
                {
                    throw new Http2Exception(StatusCode.DeadlineExceeded, "the connection was not established before the deadline");
                }

                int error = 0;
                uint size = sizeof(int);
                if (GetSockOpt(fd, SolSocket, SoError, &error, &size) < 0)
                {
                    error = Marshal.GetLastPInvokeError();
                }

                if (error != 0)
                {
                    throw Unreachable(endPoint, error);
                }
            }

            return fd;
        }
        catch
        {
            Close(fd);
            throw;
        }
    }

    /// <summary>Closes a descriptor this class made (EINTR is not retried: Linux has closed it anyway).</summary>
    public static void Close(int fd) => _ = CloseRaw(fd);

    private static Http2Exception Unreachable(EndPoint endPoint, int errno) =>
        new(StatusCode.Unavailable, $"cannot reach the broker at {Describe(endPoint)}: {Describe(errno)}");

    private static string Describe(EndPoint endPoint) => endPoint is UnixDomainSocketEndPoint unix ? "unix:" + unix : endPoint.ToString() ?? "?";

    private static bool WaitWritable(int fd, long due)
    {
        while (true)
        {
            int timeoutMs = due == long.MaxValue ? -1
                : (int)Math.Clamp(((due - Stopwatch.GetTimestamp()) * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency, 0, int.MaxValue);
            if (timeoutMs == 0)
            {
                return false;
            }

            PollFd poll = new() { Fd = fd, Events = PollOut };
            int ready = Poll(&poll, 1, timeoutMs);
            if (ready > 0)
            {
                return true;
            }

            if (ready < 0 && Marshal.GetLastPInvokeError() != EIntr)
            {
                return true; // SO_ERROR says what went wrong
            }
        }
    }

    // struct sockaddr_un / sockaddr_in / sockaddr_in6 in network byte order where the kernel wants it.
    private static int WriteSockaddr(EndPoint endPoint, Span<byte> destination, out int family)
    {
        destination.Clear();
        switch (endPoint)
        {
            case UnixDomainSocketEndPoint unix:
            {
                family = AfUnix;
                BinaryPrimitives.WriteUInt16LittleEndian(destination, AfUnix);
                string path = unix.ToString();
                int bytes = Encoding.UTF8.GetBytes(path, destination[2..^1]);
                return 2 + bytes + 1;
            }

            case IPEndPoint { AddressFamily: AddressFamily.InterNetwork } ip:
                family = AfInet;
                BinaryPrimitives.WriteUInt16LittleEndian(destination, AfInet);
                BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)ip.Port);
                ip.Address.TryWriteBytes(destination[4..8], out _);
                return 16;
            case IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip6:
                family = AfInet6;
                BinaryPrimitives.WriteUInt16LittleEndian(destination, AfInet6);
                BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)ip6.Port);
                ip6.Address.TryWriteBytes(destination[8..24], out _);
                BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], (uint)ip6.Address.ScopeId);
                return 28;
            default:
                throw new ArgumentException($"cannot connect to {endPoint}: only Unix-socket and IP endpoints", nameof(endPoint));
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int ConnectRaw(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseRaw(int fd);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
