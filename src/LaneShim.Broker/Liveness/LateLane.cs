// LateLane.cs - a lane whose caller gave up waiting, set by the broker on the caller's socket through its duplicate.
using System.Runtime.InteropServices;
using System.Text;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Native;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Liveness;

/// <summary>
/// When the caller's deadline passes while its lane is being set up (its path programmed), the agent connects without
/// the lane. A socket the broker proved and can watch need not lose it: the broker sets what the agent would have (cc,
/// pacing, buffers, TOS, TCP_NOTSENT_LOWAT, and what only it may: FORCE buffers, mark, priority) on its duplicate, which
/// is the caller's socket, and the connection's end ends the lease. What a late lane cannot have is the window scale,
/// which the SYN fixed: a receive buffer set now cannot open the window beyond it.
/// </summary>
internal static unsafe class LateLane
{
    private const int SolSocket = 1, SoSndbuf = 7, SoRcvbuf = 8, SoMaxPacingRate = 47;
    private const int IpProtoIp = 0, IpTos = 1, IpProtoIpv6 = 41, Ipv6Tclass = 67;
    private const int IpProtoTcp = 6, TcpCongestion = 13, TcpNotsentLowat = 25;

    /// <summary>Sets <paramref name="grant"/> on the socket; returns what was set and what the kernel refused, in words.</summary>
    public static string Apply(ProvenSocket socket, LaneGrant grant)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(grant);
        var set = new List<string>();
        var failed = new List<string>();
        uint privileged = socket.ApplyPrivileged(grant, out List<string> refused);
        failed.AddRange(refused);
        if (privileged != 0)
        {
            set.Add("privileged settings");
        }
        int fd = socket.Fd;
        if (grant.Congestion.Length > 0)
        {
            byte[] name = Encoding.ASCII.GetBytes(grant.Congestion);
            fixed (byte* p = name)
            {
                Note(Errno(Libc.SetSockOpt(fd, IpProtoTcp, TcpCongestion, p, (uint)name.Length)), $"cc {grant.Congestion}", set, failed);
            }
        }
        if (grant.PacingRate > 0)
        {
            ulong rate = grant.PacingRate;
            Note(Errno(Libc.SetSockOpt(fd, SolSocket, SoMaxPacingRate, &rate, sizeof(ulong))), "pacing", set, failed);
        }
        // FORCE buffers were set above; a buffer the plan sets within the host's limits is set here.
        if (grant.SndbufMode == BufferMode.Set && grant.SndbufBytes > 0)
        {
            Note(SocketSyscalls.SetInt(fd, SolSocket, SoSndbuf, Clamp(grant.SndbufBytes)), "sndbuf", set, failed);
        }
        if (grant.RcvbufMode == BufferMode.Set && grant.RcvbufBytes > 0)
        {
            Note(SocketSyscalls.SetInt(fd, SolSocket, SoRcvbuf, Clamp(grant.RcvbufBytes)), "rcvbuf", set, failed);
        }
        if (grant.Dscp != 0)
        {
            int family = SocketSyscalls.GetInt(fd, SolSocket, SocketSyscalls.SoDomain, out _) ?? SocketSyscalls.AfInet;
            int tos = (int)(grant.Dscp << 2);
            Note(family == SocketSyscalls.AfInet6 ? SocketSyscalls.SetInt(fd, IpProtoIpv6, Ipv6Tclass, tos) : SocketSyscalls.SetInt(fd, IpProtoIp, IpTos, tos), "dscp", set, failed);
        }
        if (grant.NotsentLowat != 0)
        {
            Note(SocketSyscalls.SetInt(fd, IpProtoTcp, TcpNotsentLowat, (int)Math.Min(grant.NotsentLowat, int.MaxValue)), "notsent_lowat", set, failed);
        }
        return (set.Count > 0 ? "set " + string.Join(", ", set) : "nothing to set")
            + (failed.Count > 0 ? "; refused: " + string.Join(", ", failed) : "");
    }

    private static int Clamp(long bytes) => (int)Math.Min(bytes, int.MaxValue / 2);

    private static int Errno(int rc) => rc == 0 ? 0 : Marshal.GetLastPInvokeError();

    private static void Note(int errno, string what, List<string> set, List<string> failed)
    {
        if (errno == 0)
        {
            set.Add(what);
        }
        else
        {
            failed.Add($"{what} ({SocketSyscalls.Describe(errno)})");
        }
    }
}
