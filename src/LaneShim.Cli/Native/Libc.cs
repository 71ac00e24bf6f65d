// Libc.cs - every libc function laneshim (and laneshim-lab, which reuses it) calls directly: process spawning and
// signals, and the file calls .NET does not expose (lstat/lchown, fsync of a directory).
using System.Runtime.InteropServices;

namespace LaneShim.Cli.Native;

/// <summary>P/Invoke declarations; the callers hold the constants that go with them.</summary>
internal static unsafe partial class Libc
{
    /// <summary>RLIMIT_AS: the address-space limit (ulimit -v, batch systems' virtual-memory limits).</summary>
    public const int RLIMIT_AS = 9;

    /// <summary>RLIM_INFINITY.</summary>
    public const ulong RlimInfinity = ulong.MaxValue;

    [LibraryImport("libc", EntryPoint = "execvpe", SetLastError = true)]
    public static partial int ExecVpe(byte* file, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "sigprocmask")]
    public static partial int SigProcMask(int how, byte* set, byte* old);

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    public static partial int GetRLimit(int resource, ulong* limits);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int PosixSpawnFileActionsInit(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int PosixSpawnFileActionsDestroy(byte* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    public static partial int PosixSpawnFileActionsAddOpen(byte* actions, int fd, byte* path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int PosixSpawnFileActionsAddDup2(byte* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    public static partial int PosixSpawnFileActionsAddChdir(byte* actions, byte* path);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int PosixSpawnAttrInit(byte* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int PosixSpawnAttrDestroy(byte* attr);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int PosixSpawnAttrSetFlags(byte* attr, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int PosixSpawnAttrSetSigDefault(byte* attr, byte* set);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int PosixSpawnAttrSetSigMask(byte* attr, byte* set);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    public static partial int SigFillSet(byte* set);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(byte* set);

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    public static partial int PosixSpawn(int* pid, byte* path, byte* actions, byte* attr, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "posix_spawnp")]
    public static partial int PosixSpawnP(int* pid, byte* file, void* actions, byte* attr, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "signal")]
    public static partial nint Signal(int sig, nint handler);

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LStat(string path, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LChown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    public static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);
}
