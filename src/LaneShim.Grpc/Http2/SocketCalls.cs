// SocketCalls.cs - send, recv and poll straight from libc, so a blocked caller waits in the kernel, not on .NET's socket engine.
using System.Runtime.InteropServices;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// .NET emulates a blocking receive on a socket it has made non-blocking (as any connect with a timeout does) by parking
/// the caller until its epoll thread sees the socket ready: two thread hand-offs per answer. The unary connection
/// instead calls recv/send with MSG_DONTWAIT and waits in poll() itself, whatever mode .NET left the descriptor in.
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

    /// <summary>The system's words for <paramref name="errno"/> (strerror).</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

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
