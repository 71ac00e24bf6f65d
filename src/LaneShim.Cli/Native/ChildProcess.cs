// ChildProcess.cs - starts programs with posix_spawn and reports exactly how they ended: the command `laneshim run` wraps,
// and the detached daemons of laneshim-lab (link emulators, brokers, servers) in their own sessions.
// The .NET Process class cannot tell "exit 130" from "killed by SIGINT", and its children inherit the
// runtime's ignored SIGPIPE; this starts every child with every signal at its default and an empty mask.
using System.Runtime.InteropServices;

namespace LaneShim.Cli.Native;

/// <summary>A child started with posix_spawn(p); <see cref="Wait"/> returns its raw wait status.</summary>
internal sealed unsafe class ChildProcess
{
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const short PosixSpawnSetSid = 0x80;
    private const int ORdOnly = 0x0;
    private const int OWrOnly = 0x1;
    private const int OCreat = 0x40;
    private const int OAppend = 0x400;
    private const int WNoHang = 1;
    private const int EINTR = 4;
    private const int SigSetMask = 2;

    private ChildProcess(int pid) => Pid = pid;

    public int Pid { get; }

    /// <summary>Starts <paramref name="argv"/>[0] (searched in PATH) with the given environment.</summary>
    public static ChildProcess Start(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment) =>
        new(Spawn(argv, environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(), logFile: null,
            (call, errno) => call is null ? new ChildStartException(argv[0], errno) : new InvalidOperationException($"{call} failed: errno {errno}")));

    /// <summary>
    /// Replaces this process with <paramref name="argv"/>[0] (searched in PATH) and the given environment, with every
    /// signal at its default and an empty mask: the command keeps our pid, so signals and its exit status need no
    /// forwarding. Returns only on failure, with the exception to report.
    /// </summary>
    public static ChildStartException Exec(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment)
    {
        var allocations = new List<nint>();
        try
        {
            nint* args = StringArray(argv, allocations);
            nint* env = StringArray(environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(), allocations);
            byte* none = stackalloc byte[128];
            Libc.SigEmptySet(none);
            Libc.SigProcMask(SigSetMask, none, null);
            for (int signal = 1; signal < 32; signal++)
            {
                if (signal is not (9 or 19))
                {
                    Libc.Signal(signal, 0); // SIG_DFL: the runtime's handlers and ignored signals are not the command's
                }
            }
            Libc.ExecVpe((byte*)args[0], args, env);
            return new ChildStartException(argv[0], Marshal.GetLastPInvokeError());
        }
        finally
        {
            allocations.ForEach(Marshal.FreeCoTaskMem);
        }
    }

    /// <summary>
    /// Starts <paramref name="argv"/> (argv[0] an absolute path) in a new session, stdin from /dev/null, stdout and
    /// stderr appended to <paramref name="logFile"/>, working directory /. The environment is ours without LD_PRELOAD.
    /// A daemon started so outlives its caller, ignores the terminal's Ctrl-C and holds none of the caller's pipes (a test
    /// reading the caller's output would otherwise wait for the daemon to end). Failures are what
    /// <paramref name="failure"/> makes of their message.
    /// </summary>
    public static ChildProcess StartDetached(IReadOnlyList<string> argv, string logFile, Func<string, Exception> failure) =>
        new(Spawn(argv, EnvironmentWithoutPreload(), logFile,
            (call, errno) => failure(call is null
                ? $"cannot start {argv[0]}: {Marshal.GetPInvokeErrorMessage(errno)}"
                : $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)}")));

    /// <summary>Blocks until the child ends; returns the wait status.</summary>
    public int Wait()
    {
        while (true)
        {
            int status;
            int rc = Libc.WaitPid(Pid, &status, 0);
            if (rc == Pid)
            {
                return status;
            }
            if (rc < 0 && Marshal.GetLastPInvokeError() != EINTR)
            {
                return 0x7f00; // lost track of it: report exit 127
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
        int rc = Libc.WaitPid(pid, &status, WNoHang);
        if (rc != pid)
        {
            return null;
        }
        return Exited(status) ? $"exit {ExitCode(status)}" : $"killed by signal {TermSignal(status)}";
    }

    /// <summary>Sends a signal to the child; ignores a child that is already gone.</summary>
    public void Signal(int signal) => Libc.Kill(Pid, signal);

    public static bool Exited(int status) => (status & 0x7f) == 0;

    public static int ExitCode(int status) => (status >> 8) & 0xff;

    public static int TermSignal(int status) => status & 0x7f;

    /// <summary>Ends this process the way the child ended: same exit code, or the same signal.</summary>
    public static int Mirror(int status)
    {
        if (Exited(status))
        {
            return ExitCode(status);
        }
        int sig = TermSignal(status);
        Libc.Signal(sig, 0); // SIG_DFL
        Libc.Kill(Libc.GetPid(), sig);
        return 128 + sig; // only reached for signals whose default is not to end the process
    }

    // posix_spawnp for a wrapped command (logFile null: PATH search, our descriptors), posix_spawn for a detached daemon.
    // failure(call, errno) makes the exception: call is the setup step that failed, or null when the spawn itself did.
    private static int Spawn(IReadOnlyList<string> argv, IReadOnlyList<string> environment, string? logFile, Func<string?, int, Exception> failure)
    {
        var allocations = new List<nint>();
        byte* actions = stackalloc byte[512]; // posix_spawn_file_actions_t is 80 bytes on glibc x86-64
        byte* attr = stackalloc byte[1024];   // posix_spawnattr_t is 336 bytes
        byte* set = stackalloc byte[128];     // sigset_t
        bool detached = logFile is not null;
        try
        {
            if (detached)
            {
                Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init", failure);
            }
            try
            {
                Check(Libc.PosixSpawnAttrInit(attr), "posix_spawnattr_init", failure);
                try
                {
                    short flags = PosixSpawnSetSigDef | PosixSpawnSetSigMask;
                    if (detached)
                    {
                        Check(Libc.PosixSpawnFileActionsAddOpen(actions, 0, Utf8("/dev/null", allocations), ORdOnly, 0), "addopen stdin", failure);
                        Check(Libc.PosixSpawnFileActionsAddOpen(actions, 1, Utf8(logFile!, allocations), OWrOnly | OCreat | OAppend, 0x1a4 /* 0644 */), "addopen stdout", failure);
                        Check(Libc.PosixSpawnFileActionsAddDup2(actions, 1, 2), "adddup2 stderr", failure);
                        Check(Libc.PosixSpawnFileActionsAddChdir(actions, Utf8("/", allocations)), "addchdir", failure);
                        flags |= PosixSpawnSetSid;
                    }
                    Libc.SigFillSet(set);
                    Check(Libc.PosixSpawnAttrSetSigDefault(attr, set), "posix_spawnattr_setsigdefault", failure);
                    Libc.SigEmptySet(set);
                    Check(Libc.PosixSpawnAttrSetSigMask(attr, set), "posix_spawnattr_setsigmask", failure);
                    Check(Libc.PosixSpawnAttrSetFlags(attr, flags), "posix_spawnattr_setflags", failure);
                    nint* args = StringArray(argv, allocations);
                    nint* envp = StringArray(environment, allocations);
                    int pid;
                    int rc = detached
                        ? Libc.PosixSpawn(&pid, (byte*)args[0], actions, attr, args, envp)
                        : Libc.PosixSpawnP(&pid, (byte*)args[0], null, attr, args, envp);
                    if (rc != 0)
                    {
                        throw failure(null, rc);
                    }
                    return pid;
                }
                finally
                {
                    Libc.PosixSpawnAttrDestroy(attr);
                }
            }
            finally
            {
                if (detached)
                {
                    Libc.PosixSpawnFileActionsDestroy(actions);
                }
            }
        }
        finally
        {
            foreach (nint p in allocations)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static List<string> EnvironmentWithoutPreload()
    {
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
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

    private static void Check(int rc, string call, Func<string?, int, Exception> failure)
    {
        if (rc != 0)
        {
            throw failure(call, rc);
        }
    }
}
