// NamespaceProcesses.cs - stops every process in one of the demo lab's host namespaces (servers and their forked children).
using LaneShim.Lab.Lab;

namespace LaneShim.Lab.Demo;

/// <summary>Finds processes by network namespace (`ip netns pids`) and ends them: SIGTERM, a grace period, SIGKILL.</summary>
internal static class NamespaceProcesses
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Ends <paramref name="pids"/> and every process inside <paramref name="netns"/> (a host namespace of the demo's
    /// own lab, so nothing else lives there). Returns the pids still alive afterwards.
    /// </summary>
    public static IReadOnlyList<int> Stop(string netns, IEnumerable<int> pids)
    {
        var all = new HashSet<int>(pids.Where(p => p > 0));
        all.UnionWith(InNamespace(netns));
        all.Remove(Environment.ProcessId);
        if (all.Count == 0)
        {
            return [];
        }
        foreach (int pid in all)
        {
            ProcessTable.Signal(pid, ProcessTable.SigTerm);
        }
        IReadOnlyList<int> left = ProcessTable.WaitGone(all, Grace);
        foreach (int pid in left)
        {
            ProcessTable.Signal(pid, ProcessTable.SigKill);
        }
        left = ProcessTable.WaitGone(left, Grace);
        // Children forked after the first look (a daemon's per-connection worker) are caught by a second one.
        IReadOnlyList<int> late = InNamespace(netns).Where(p => p != Environment.ProcessId).ToList();
        foreach (int pid in late)
        {
            ProcessTable.Signal(pid, ProcessTable.SigKill);
        }
        return left.Concat(ProcessTable.WaitGone(late, Grace)).Distinct().ToList();
    }

    /// <summary>The pids whose network namespace is <paramref name="netns"/>; empty when it does not exist.</summary>
    public static IReadOnlyList<int> InNamespace(string netns)
    {
        ToolOutput r = LabTools.Run(LabTools.Ip, ["netns", "pids", netns]);
        if (r.ExitCode != 0)
        {
            return [];
        }
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out int pid) ? pid : 0).Where(pid => pid > 0).ToList();
    }
}
