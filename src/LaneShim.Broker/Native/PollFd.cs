// PollFd.cs - struct pollfd, for the connection watcher's poll() over its netlink sockets.
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Native;

/// <summary>One descriptor poll() waits on (poll.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    /// <summary>POLLIN.</summary>
    public const short In = 1;

    public int Fd;
    public short Events;
    public short Revents;
}
