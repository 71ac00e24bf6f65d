// SocketSyscalls.cs - the constants and int-option helpers of taking hold of a caller's socket (pidfd_open, pidfd_getfd, get/setsockopt); the calls are in Native/Libc.cs.
using System.Runtime.InteropServices;
using LaneShim.Broker.Native;

namespace LaneShim.Broker.Identity;

/// <summary>Syscall numbers and socket constants (x86_64 and aarch64 share the pidfd numbers 434 and 438), int options, errno words.</summary>
internal static unsafe class SocketSyscalls
{
    public const long SysPidfdOpen = 434;
    public const long SysPidfdGetfd = 438;
    public const int SolSocket = 1;
    public const int SoType = 3;
    public const int SoSndbuf = 7;
    public const int SoRcvbuf = 8;
    public const int SoPriority = 12;
    public const int SoSndbufForce = 32;
    public const int SoRcvbufForce = 33;
    public const int SoMark = 36;
    public const int SoDomain = 39;
    public const int SoProtocol = 38;
    public const int SockStream = 1;
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int IpProtoTcp = 6;
    public const int IpProtoMptcp = 262;
    public const int Enotconn = 107;
    public const int Enotsock = 88;

    /// <summary>An int socket option, or null with <paramref name="errno"/> set.</summary>
    public static int? GetInt(int fd, int level, int name, out int errno)
    {
        int value = 0;
        uint length = sizeof(int);
        if (Libc.GetSockOpt(fd, level, name, &value, &length) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return value;
    }

    /// <summary>Sets an int socket option; the errno on failure, 0 on success.</summary>
    public static int SetInt(int fd, int level, int name, int value) =>
        Libc.SetSockOpt(fd, level, name, &value, sizeof(int)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>strerror-like words for the errnos a proof meets.</summary>
    public static string Describe(int errno) => errno switch
    {
        1 => "EPERM",
        3 => "ESRCH: no such process",
        9 => "EBADF: no such descriptor in the caller",
        13 => "EACCES",
        22 => "EINVAL",
        38 => "ENOSYS: the kernel lacks pidfd_getfd (5.6+)",
        88 => "ENOTSOCK",
        107 => "ENOTCONN",
        _ => $"errno {errno}",
    };
}
