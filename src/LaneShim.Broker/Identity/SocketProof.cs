// SocketProof.cs - proves that the socket a request names is the caller's own TCP socket for that flow (pidfd_getfd + getsockname/getpeername).
using System.Net;
using System.Runtime.InteropServices;
using LaneShim.Broker.Native;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Identity;

/// <summary>
/// Takes a duplicate of descriptor <c>program.fd</c> out of the caller (its pid from SO_PEERCRED, never from the request)
/// with pidfd_open + pidfd_getfd, and checks that it is a TCP (or MPTCP) stream socket whose local address and port are
/// the request's, and whose peer is the request's remote for inbound flows (an outbound socket is not connected yet).
/// A request naming anyone else's socket, a file, a UDP socket or a different flow fails with the reason in words.
/// </summary>
internal static unsafe class SocketProof
{
    /// <summary>Proves the socket; on success the caller owns <paramref name="socket"/> (dispose it to close the duplicate).</summary>
    /// <param name="pid">The caller's pid from SO_PEERCRED.</param>
    /// <param name="uid">The caller's uid from SO_PEERCRED: the process must still run as it (not, say, a setuid program it exec'd).</param>
    /// <param name="fd">The descriptor number the request names.</param>
    /// <param name="flow">The flow the request claims.</param>
    /// <param name="socket">The duplicate of the proven socket.</param>
    /// <param name="failure">Why the proof failed, in words.</param>
    public static bool TryProve(int pid, uint uid, int fd, Flow flow, out ProvenSocket? socket, out string failure)
    {
        socket = null;
        if (pid <= 0)
        {
            failure = "the kernel did not report the caller's pid";
            return false;
        }

        if (fd < 0)
        {
            failure = $"program.fd {fd} names no descriptor; the agent must send the socket's descriptor number";
            return false;
        }

        long pidfd = Libc.Syscall2(SocketSyscalls.SysPidfdOpen, pid, 0);
        if (pidfd < 0)
        {
            failure = $"cannot open the caller's process (pid {pid}): {SocketSyscalls.Describe(Marshal.GetLastPInvokeError())}";
            return false;
        }

        long dup;
        int dupErrno;
        try
        {
            // SO_PEERCRED was captured at connect(); since then the process may have exec'd a setuid program, whose sockets
            // are not the caller's. (Had the pid been reused since the pidfd was opened, pidfd_getfd would fail with ESRCH.)
            // A root daemon that only dropped its effective uid (xrootd -R, real uid 0) runs as the caller's uid: it could
            // take root back, so granting it as the less privileged uid gives it nothing it has not got.
            if (RunsAs((int)pidfd, pid) is (uint real, uint effective) && (effective != uid || (real != uid && real != 0)))
            {
                failure = $"pid {pid} now runs as uid {real} (effective {effective}), not as the caller's uid {uid}";
                return false;
            }

            dup = Libc.Syscall3(SocketSyscalls.SysPidfdGetfd, pidfd, fd, 0);
            dupErrno = dup < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        finally
        {
            Libc.Close((int)pidfd);
        }

        if (dup < 0)
        {
            failure = dupErrno switch
            {
                9 => $"descriptor {fd} is not open in the calling process (pid {pid})",
                1 or 13 => $"the broker may not inspect descriptors of pid {pid} ({SocketSyscalls.Describe(dupErrno)}); run the broker as root or with CAP_SYS_PTRACE",
                _ => $"cannot take descriptor {fd} from pid {pid}: {SocketSyscalls.Describe(dupErrno)}",
            };
            return false;
        }

        var candidate = new ProvenSocket((int)dup);
        string? problem = Check(candidate.Fd, fd, pid, flow);
        if (problem is not null)
        {
            candidate.Dispose();
            failure = problem;
            return false;
        }

        socket = candidate;
        failure = string.Empty;
        return true;
    }

    // Linux 6.13+: PIDFD_GET_INFO reads the credentials through the pidfd itself (race-free, and one system call instead of
    // rendering /proc/PID/status, which was a third of a grant's time). Older kernels answer ENOTTY or EINVAL: /proc then.
    private static volatile bool _noPidfdInfo;

    // Real and effective uid of the process; null when unknown (the pidfd_getfd permission check still applies).
    internal static (uint Real, uint Effective)? RunsAs(int pidfd, int pid)
    {
        if (!_noPidfdInfo)
        {
            PidfdInfo info = default;
            info.Mask = PidfdInfo.Creds;
            if (Libc.Ioctl(pidfd, PidfdInfo.GetInfo, &info) == 0 && (info.Mask & PidfdInfo.Creds) != 0)
            {
                return (info.Ruid, info.Euid);
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is 25 or 22)
            {
                _noPidfdInfo = true;
            }
            else if (errno == 3)
            {
                // ESRCH: the process has exited; pidfd_getfd will say so.
                return null;
            }
        }

        return RunsAsFromProc(pid);
    }

    internal static (uint Real, uint Effective)? RunsAsFromProc(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    string[] ids = line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    return ids.Length >= 2 && uint.TryParse(ids[0], out uint real) && uint.TryParse(ids[1], out uint effective) ? (real, effective) : null;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static string? Check(int dup, int fd, int pid, Flow flow)
    {
        int? type = SocketSyscalls.GetInt(dup, SocketSyscalls.SolSocket, SocketSyscalls.SoType, out int errno);
        if (type is null)
        {
            return errno == SocketSyscalls.Enotsock
                ? $"descriptor {fd} of pid {pid} is not a socket"
                : $"descriptor {fd} of pid {pid}: SO_TYPE failed ({SocketSyscalls.Describe(errno)})";
        }

        int protocol = SocketSyscalls.GetInt(dup, SocketSyscalls.SolSocket, SocketSyscalls.SoProtocol, out _) ?? -1;
        int domain = SocketSyscalls.GetInt(dup, SocketSyscalls.SolSocket, SocketSyscalls.SoDomain, out _) ?? -1;
        if (type != SocketSyscalls.SockStream || protocol is not (SocketSyscalls.IpProtoTcp or SocketSyscalls.IpProtoMptcp)
            || domain is not (SocketSyscalls.AfInet or SocketSyscalls.AfInet6))
        {
            string what = type == 2 ? "a datagram (UDP) socket" : domain is not (SocketSyscalls.AfInet or SocketSyscalls.AfInet6) ? $"a socket of family {domain}" : $"a socket of type {type}, protocol {protocol}";
            return $"descriptor {fd} of pid {pid} is {what}, not a TCP socket";
        }

        if (flow.Protocol != 0 && flow.Protocol != (uint)protocol)
        {
            return $"descriptor {fd} of pid {pid} is protocol {protocol}; the request says {flow.Protocol}";
        }

        IPEndPoint? local = ReadName(dup, peer: false, out _);
        if (local is null)
        {
            return $"descriptor {fd} of pid {pid}: getsockname failed";
        }

        if (local.Port != (int)(flow.Local?.Port ?? 0))
        {
            return $"descriptor {fd} of pid {pid} is bound to local port {local.Port}; the request claims {flow.Local?.Port ?? 0}";
        }

        IPAddress? claimedLocal = flow.Local is { Address.Length: 4 or 16 } l ? Normalize(new IPAddress(l.Address.Span)) : null;
        if (claimedLocal is not null && !IsWildcard(local.Address) && !IsWildcard(claimedLocal) && !Normalize(local.Address).Equals(claimedLocal))
        {
            return $"descriptor {fd} of pid {pid} is bound to {Normalize(local.Address)}; the request claims {claimedLocal}";
        }

        IPEndPoint? peer = ReadName(dup, peer: true, out int peerErrno);
        IPEndPoint? claimedRemote = flow.Remote is { Address.Length: 4 or 16 } r ? new IPEndPoint(Normalize(new IPAddress(r.Address.Span)), (int)r.Port) : null;
        switch (flow.Direction)
        {
            case Direction.Inbound:
                if (peer is null)
                {
                    return $"descriptor {fd} of pid {pid} is not connected ({SocketSyscalls.Describe(peerErrno)}); an inbound flow's socket is";
                }

                break;
            case Direction.Listen:
                if (peer is not null)
                {
                    return $"descriptor {fd} of pid {pid} is connected to {peer}; a listening socket is not";
                }

                return null;
        }

        // An outbound socket is asked for before connect(); if it is already connected, it must be to the claimed peer.
        if (peer is not null && (claimedRemote is null || !Normalize(peer.Address).Equals(claimedRemote.Address) || peer.Port != claimedRemote.Port))
        {
            return $"descriptor {fd} of pid {pid} is connected to {Normalize(peer.Address)}:{peer.Port}; the request claims {claimedRemote?.ToString() ?? "no peer"}";
        }

        return null;
    }

    internal static IPEndPoint? ReadName(int fd, bool peer, out int errno)
    {
        byte* storage = stackalloc byte[128];
        uint length = 128;
        int rc = peer ? Libc.GetPeerName(fd, storage, &length) : Libc.GetSockName(fd, storage, &length);
        if (rc != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        ushort family = *(ushort*)storage;
        int port = (storage[2] << 8) | storage[3];
        return family switch
        {
            SocketSyscalls.AfInet => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(storage + 4, 4)), port),
            SocketSyscalls.AfInet6 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(storage + 8, 16)), port),
            _ => null,
        };
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool IsWildcard(IPAddress address) => Normalize(address) is var a && (a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any));
}
