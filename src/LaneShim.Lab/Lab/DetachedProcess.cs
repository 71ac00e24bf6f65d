// DetachedProcess.cs - starts a daemon in its own session (posix_spawn with POSIX_SPAWN_SETSID) with its output in a log file.
// The lab's emulators must outlive `laneshim-lab lab up`, ignore the terminal's Ctrl-C, and hold none of the caller's
// pipes (a test reading `lab up`'s output would otherwise wait for the emulator to end).
using System.Runtime.InteropServices;

namespace LaneShim.Lab.Lab;

/// <summary>Spawns detached processes and asks after their own children.</summary>
internal static unsafe partial class DetachedProcess
{
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const short PosixSpawnSetSid = 0x80;
    private const int ORdOnly = 0x0;
    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OAppend = 0x400;
    private const int WNoHang = 1;

    /// <summary>
    /// Starts <paramref name="argv"/> (argv[0] an absolute path) in a new session, stdin from /dev/null, stdout and
    /// stderr appended to <paramref name="logFile"/>, working directory /, every signal at its default and none blocked.
    /// Returns the pid. The environment is ours without LD_PRELOAD.
    /// </summary>
    public static int Start(IReadOnlyList<string> argv, string logFile)
    {
        var allocations = new List<nint>();
        byte* actions = stackalloc byte[512]; // posix_spawn_file_actions_t is 80 bytes on glibc x86-64
        byte* attr = stackalloc byte[1024];   // posix_spawnattr_t is 336 bytes
        byte* set = stackalloc byte[128];     // sigset_t
        Check(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try
        {
            Check(posix_spawnattr_init(attr), "posix_spawnattr_init");
            try
            {
                Check(posix_spawn_file_actions_addopen(actions, 0, Utf8("/dev/null", allocations), ORdOnly, 0), "addopen stdin");
                Check(posix_spawn_file_actions_addopen(actions, 1, Utf8(logFile, allocations), OWrOnly | OCreat | OAppend, 0x1a4 /* 0644 */), "addopen stdout");
                Check(posix_spawn_file_actions_adddup2(actions, 1, 2), "adddup2 stderr");
                Check(posix_spawn_file_actions_addchdir_np(actions, Utf8("/", allocations)), "addchdir");
                sigfillset(set);
                Check(posix_spawnattr_setsigdefault(attr, set), "posix_spawnattr_setsigdefault");
                sigemptyset(set);
                Check(posix_spawnattr_setsigmask(attr, set), "posix_spawnattr_setsigmask");
                Check(posix_spawnattr_setflags(attr, (short)(PosixSpawnSetSid | PosixSpawnSetSigDef | PosixSpawnSetSigMask)), "posix_spawnattr_setflags");
                nint* args = StringArray(argv, allocations);
                nint* envp = StringArray(Environment(), allocations);
                int pid;
                int rc = posix_spawn(&pid, (byte*)args[0], actions, attr, args, envp);
                if (rc != 0)
                {
                    throw new LabException($"cannot start {argv[0]}: {Marshal.GetPInvokeErrorMessage(rc)}");
                }
                return pid;
            }
            finally
            {
                posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            posix_spawn_file_actions_destroy(actions);
            foreach (nint p in allocations)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    /// <summary>
    /// If <paramref name="pid"/> is our child and has ended, reaps it and returns a description ("exit 1",
    /// "killed by signal 9"); null while it runs or when it is not our child.
    /// </summary>
    public static string? Reap(int pid)
    {
        int status;
        int rc = waitpid(pid, &status, WNoHang);
        if (rc != pid)
        {
            return null;
        }
        return (status & 0x7f) == 0 ? $"exit {(status >> 8) & 0xff}" : $"killed by signal {status & 0x7f}";
    }

    private static List<string> Environment()
    {
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            if (key != "LD_PRELOAD")
            {
                env.Add($"{key}={e.Value}");
            }
        }
        return env;
    }

    private static byte* Utf8(string text, List<nint> allocations)
    {
        nint p = Marshal.StringToCoTaskMemUTF8(text);
        allocations.Add(p);
        return (byte*)p;
    }

    private static nint* StringArray(IReadOnlyList<string> items, List<nint> allocations)
    {
        nint block = Marshal.AllocCoTaskMem((items.Count + 1) * sizeof(nint));
        allocations.Add(block);
        var array = (nint*)block;
        for (int i = 0; i < items.Count; i++)
        {
            array[i] = (nint)Utf8(items[i], allocations);
        }
        array[items.Count] = 0;
        return array;
    }

    private static void Check(int rc, string call)
    {
        if (rc != 0)
        {
            throw new LabException($"{call} failed: {Marshal.GetPInvokeErrorMessage(rc)}");
        }
    }

    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_init(byte* actions);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_destroy(byte* actions);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_addopen(byte* actions, int fd, byte* path, int flags, uint mode);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_adddup2(byte* actions, int fd, int newFd);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_addchdir_np(byte* actions, byte* path);
    [LibraryImport("libc")] private static partial int posix_spawnattr_init(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(byte* attr, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(byte* attr, byte* set);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(byte* attr, byte* set);
    [LibraryImport("libc")] private static partial int sigfillset(byte* set);
    [LibraryImport("libc")] private static partial int sigemptyset(byte* set);
    [LibraryImport("libc")] private static partial int posix_spawn(int* pid, byte* path, byte* actions, byte* attr, nint* argv, nint* envp);
    [LibraryImport("libc")] private static partial int waitpid(int pid, int* status, int options);
}
