// PidfdInfo.cs - struct pidfd_info of linux/pidfd.h (first version, 64 bytes), filled by ioctl(pidfd, PIDFD_GET_INFO).
using System.Runtime.InteropServices;

namespace LaneShim.Broker.Identity;

/// <summary>What the kernel reports about a process through its pidfd (Linux 6.13 and later).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PidfdInfo
{
    /// <summary>PIDFD_INFO_CREDS: the uid and gid fields are requested, and valid when set on return.</summary>
    public const ulong Creds = 1UL << 1;

    /// <summary>_IOWR(0xFF, 11, struct pidfd_info) for the 64-byte first version; later kernels accept it.</summary>
    public const ulong GetInfo = (3UL << 30) | (64UL << 16) | (0xFFUL << 8) | 11UL;

    public ulong Mask;
    public ulong CgroupId;
    public uint Pid;
    public uint Tgid;
    public uint Ppid;
    public uint Ruid;
    public uint Rgid;
    public uint Euid;
    public uint Egid;
    public uint Suid;
    public uint Sgid;
    public uint Fsuid;
    public uint Fsgid;
    public int ExitCode;
}
