// ChildProcess.cs - starts the wrapped command with posix_spawn and reports exactly how it ended.
// The .NET Process class cannot tell "exit 130" from "killed by SIGINT", and its children inherit the
// runtime's ignored SIGPIPE; this starts the child with every signal at its default and an empty mask.
using System.Runtime.InteropServices;

namespace LaneShim.Cli.Native;

/// <summary>A child started with posix_spawnp; <see cref="Wait"/> returns its raw wait status.</summary>
internal sealed unsafe partial class ChildProcess
{
    private const short PosixSpawnSetSigDef = 0x04;
    private const short PosixSpawnSetSigMask = 0x08;
    private const int EINTR = 4;

    private ChildProcess(int pid) => Pid = pid;

    public int Pid { get; }

    /// <summary>Starts <paramref name="argv"/>[0] (searched in PATH) with the given environment.</summary>
    public static ChildProcess Start(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment)
    {
        var allocations = new List<nint>();
        try
        {
            nint* args = StringArray(argv, allocations);
            nint* envp = StringArray(environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(), allocations);
            byte* attr = stackalloc byte[1024]; // posix_spawnattr_t is 336 bytes on glibc x86-64
            byte* set = stackalloc byte[128];   // sigset_t
            Check(posix_spawnattr_init(attr), "posix_spawnattr_init");
            try
            {
                sigfillset(set);
                Check(posix_spawnattr_setsigdefault(attr, set), "posix_spawnattr_setsigdefault");
                sigemptyset(set);
                Check(posix_spawnattr_setsigmask(attr, set), "posix_spawnattr_setsigmask");
                Check(posix_spawnattr_setflags(attr, (short)(PosixSpawnSetSigDef | PosixSpawnSetSigMask)), "posix_spawnattr_setflags");
                int pid;
                int rc = posix_spawnp(&pid, (byte*)args[0], null, attr, args, envp);
                if (rc != 0)
                {
                    throw new ChildStartException(argv[0], rc);
                }
                return new ChildProcess(pid);
            }
            finally
            {
                posix_spawnattr_destroy(attr);
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

    /// <summary>Blocks until the child ends; returns the wait status.</summary>
    public int Wait()
    {
        while (true)
        {
            int status;
            int rc = waitpid(Pid, &status, 0);
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

    /// <summary>Sends a signal to the child; ignores a child that is already gone.</summary>
    public void Signal(int signal) => kill(Pid, signal);

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
        signal(sig, 0); // SIG_DFL
        kill(getpid(), sig);
        return 128 + sig; // only reached for signals whose default is not to end the process
    }

    private static nint* StringArray(IReadOnlyList<string> items, List<nint> allocations)
    {
        nint block = Marshal.AllocCoTaskMem((items.Count + 1) * sizeof(nint));
        allocations.Add(block);
        var array = (nint*)block;
        for (int i = 0; i < items.Count; i++)
        {
            array[i] = Marshal.StringToCoTaskMemUTF8(items[i]);
            allocations.Add(array[i]);
        }
        array[items.Count] = 0;
        return array;
    }

    private static void Check(int rc, string call)
    {
        if (rc != 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {rc}");
        }
    }

    [LibraryImport("libc")] private static partial int posix_spawnattr_init(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(byte* attr, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(byte* attr, byte* set);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(byte* attr, byte* set);
    [LibraryImport("libc")] private static partial int sigfillset(byte* set);
    [LibraryImport("libc")] private static partial int sigemptyset(byte* set);
    [LibraryImport("libc")] private static partial int posix_spawnp(int* pid, byte* file, void* fileActions, byte* attr, nint* argv, nint* envp);
    [LibraryImport("libc", SetLastError = true)] private static partial int waitpid(int pid, int* status, int options);
    [LibraryImport("libc")] private static partial int kill(int pid, int sig);
    [LibraryImport("libc")] private static partial int getpid();
    [LibraryImport("libc")] private static partial nint signal(int sig, nint handler);
}
