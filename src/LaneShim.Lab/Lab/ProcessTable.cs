// ProcessTable.cs - what /proc says about a process (alive, zombie, command line, network namespace) and signals to it.
using LaneShim.Cli.Native;

namespace LaneShim.Lab.Lab;

/// <summary>Reads /proc and sends signals; a pid that does not exist is simply not alive.</summary>
internal static class ProcessTable
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')'); // the command name may hold spaces and parentheses
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The process's argv, empty when it is gone (or a zombie, or a kernel thread).</summary>
    public static IReadOnlyList<string> CommandLine(int pid)
    {
        try
        {
            string raw = File.ReadAllText($"/proc/{pid}/cmdline");
            return raw.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Every pid in /proc.</summary>
    public static IEnumerable<int> AllPids()
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>Sends a signal; false when the process does not exist.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Libc.Kill(pid, signal) == 0;

    /// <summary>Polls until every pid is gone (or a zombie) or the deadline passes; returns those still alive.</summary>
    public static IReadOnlyList<int> WaitGone(IEnumerable<int> pids, TimeSpan deadline)
    {
        List<int> left = pids.ToList();
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            foreach (int pid in left)
            {
                ChildProcess.Reap(pid); // our own child (a failed `up`): do not leave a zombie
            }
            left = left.Where(IsAlive).ToList();
            if (left.Count == 0 || DateTime.UtcNow >= until)
            {
                return left;
            }
            Thread.Sleep(20); // polling interval, not a wait for readiness
        }
    }

    /// <summary>True when this process runs as root.</summary>
    public static bool IsRoot => Libc.GetEuid() == 0;
}
