// LabTeardown.cs - `lab down`: stops every process of a lab, deletes its namespaces and its state directory; works from names alone, so also after a crash.
using System.Globalization;

namespace LaneShim.Lab.Lab;

/// <summary>Removes a lab completely. Idempotent: a lab that is not there is a success with nothing done.</summary>
internal static class LabTeardown
{
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(2);

    public static LabTeardownResult Down(string name)
    {
        LabNamespaces ns = LabNamespaces.For(name);
        string stateDir = LabState.DirectoryFor(name);
        bool hadState = Directory.Exists(stateDir);
        List<string> present = ns.All.Where(LabTools.Namespaces().Contains).ToList();
        var problems = new List<string>();

        HashSet<int> pids = FindProcesses(name, ns, stateDir, present);
        foreach (int pid in pids)
        {
            ProcessTable.Signal(pid, ProcessTable.SigTerm);
        }
        IReadOnlyList<int> left = ProcessTable.WaitGone(pids, TermGrace);
        foreach (int pid in left)
        {
            ProcessTable.Signal(pid, ProcessTable.SigKill);
        }
        left = ProcessTable.WaitGone(left, KillGrace);
        foreach (int pid in left)
        {
            problems.Add($"process {pid} ({string.Join(' ', ProcessTable.CommandLine(pid).Take(3))}) survived SIGKILL");
        }

        foreach (string n in present)
        {
            ToolOutput r = LabTools.Run(LabTools.Ip, ["netns", "del", n]);
            if (r.ExitCode != 0)
            {
                problems.Add($"ip netns del {n}: {r.Stderr.Trim()}");
            }
        }
        try
        {
            if (hadState)
            {
                Directory.Delete(stateDir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot remove {stateDir}: {e.Message}");
        }

        List<string> remaining = ns.All.Where(LabTools.Namespaces().Contains).ToList();
        if (remaining.Count > 0)
        {
            problems.Add($"namespaces still present: {string.Join(", ", remaining)}");
        }
        return new LabTeardownResult(name, hadState, pids.Count - left.Count, present.Count - remaining.Count, problems);
    }

    /// <summary>True when <paramref name="argv"/> is a link emulator serving one of this lab's namespaces.</summary>
    public static bool IsEmulatorOf(IReadOnlyList<string> argv, LabNamespaces ns) =>
        argv.Count > 0
        && Path.GetFileName(argv[0]) == LinkemuLocator.Program
        && argv.Skip(1).Any(a => ns.All.Any(n => a.StartsWith(n + ":", StringComparison.Ordinal)));

    /// <summary>
    /// The emulators the pidfiles and the state file name, every process inside a lab namespace (`ip netns
    /// pids`), and any emulator whose command line names a lab namespace (an emulator setns()es back home after
    /// creating its devices, and outlives a namespace whose name was already deleted).
    /// </summary>
    private static HashSet<int> FindProcesses(string name, LabNamespaces ns, string stateDir, IEnumerable<string> present)
    {
        var pids = new HashSet<int>();
        if (Directory.Exists(stateDir))
        {
            foreach (string pidFile in Directory.EnumerateFiles(stateDir, "*.pid"))
            {
                if (int.TryParse(SafeRead(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && IsEmulatorOf(ProcessTable.CommandLine(pid), ns))
                {
                    pids.Add(pid);
                }
            }
        }
        LabState? state = LabState.TryLoad(name);
        foreach (LabLink link in state?.Links ?? [])
        {
            if (link.Emulator is { Pid: > 0 } e && IsEmulatorOf(ProcessTable.CommandLine(e.Pid), ns))
            {
                pids.Add(e.Pid);
            }
        }
        foreach (string n in present)
        {
            ToolOutput r = LabTools.Run(LabTools.Ip, ["netns", "pids", n]);
            foreach (string line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    pids.Add(pid);
                }
            }
        }
        foreach (int pid in ProcessTable.AllPids())
        {
            if (IsEmulatorOf(ProcessTable.CommandLine(pid), ns))
            {
                pids.Add(pid);
            }
        }
        pids.Remove(Environment.ProcessId);
        return pids;
    }

    private static string SafeRead(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
