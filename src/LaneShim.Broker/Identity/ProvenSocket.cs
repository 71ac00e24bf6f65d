// ProvenSocket.cs - the broker's duplicate of a caller's proven socket, and the privileged settings it applies there.
using LaneShim.Broker.Native;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Identity;

/// <summary>
/// A descriptor the broker took from the caller with pidfd_getfd. It refers to the caller's own socket, so what the
/// broker sets here (with its CAP_NET_ADMIN) the caller's socket has. Closed on dispose; the caller's descriptor stays.
/// </summary>
internal sealed class ProvenSocket : IDisposable
{
    /// <summary>Bit of <see cref="LaneGrant.BrokerApplied"/>: the send buffer was set with SO_SNDBUFFORCE.</summary>
    public const uint AppliedSndbuf = 1;

    /// <summary>Bit: the receive buffer was set with SO_RCVBUFFORCE.</summary>
    public const uint AppliedRcvbuf = 2;

    /// <summary>Bit: SO_MARK was set.</summary>
    public const uint AppliedMark = 4;

    /// <summary>Bit: SO_PRIORITY was set.</summary>
    public const uint AppliedPriority = 8;

    private int _fd;

    public ProvenSocket(int fd) => _fd = fd;

    /// <summary>The broker's duplicate descriptor.</summary>
    public int Fd => _fd;

    /// <summary>
    /// Applies what a program cannot set itself: FORCE buffers, SO_MARK, SO_PRIORITY. Returns the bits of what the
    /// kernel accepted; a setting it refused is left for the agent (which then reports what it got).
    /// </summary>
    public uint ApplyPrivileged(LaneGrant grant, out List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(grant);
        failures = [];
        uint applied = 0;
        applied |= Apply(grant.SndbufMode == BufferMode.Force && grant.SndbufBytes > 0, SocketSyscalls.SoSndbufForce, Clamp(grant.SndbufBytes), AppliedSndbuf, "SO_SNDBUFFORCE", failures);
        applied |= Apply(grant.RcvbufMode == BufferMode.Force && grant.RcvbufBytes > 0, SocketSyscalls.SoRcvbufForce, Clamp(grant.RcvbufBytes), AppliedRcvbuf, "SO_RCVBUFFORCE", failures);
        applied |= Apply(grant.Mark != 0, SocketSyscalls.SoMark, unchecked((int)grant.Mark), AppliedMark, "SO_MARK", failures);
        applied |= Apply(grant.Priority != 0, SocketSyscalls.SoPriority, (int)grant.Priority, AppliedPriority, "SO_PRIORITY", failures);
        return applied;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }

    // The kernel doubles the value for its bookkeeping and caps int arithmetic, as the agent does.
    private static int Clamp(long bytes) => (int)Math.Min(bytes, int.MaxValue / 2);

    private uint Apply(bool wanted, int option, int value, uint bit, string name, List<string> failures)
    {
        if (!wanted)
        {
            return 0;
        }

        int errno = SocketSyscalls.SetInt(_fd, SocketSyscalls.SolSocket, option, value);
        if (errno == 0)
        {
            return bit;
        }

        failures.Add($"{name} {value}: {SocketSyscalls.Describe(errno)}");
        return 0;
    }
}
