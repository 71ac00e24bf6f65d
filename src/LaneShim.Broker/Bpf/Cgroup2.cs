// Cgroup2.cs - the cgroup v2 hierarchy as the kernel mounted it (found in /proc/self/mountinfo, never assumed),
// and the few operations the lane path needs: make a cgroup, move a process in, read where a process is, remove.
using System.Globalization;

namespace LaneShim.Broker.Bpf;

/// <summary>Cgroup v2 paths and operations.</summary>
public static class Cgroup2
{
    /// <summary>Where cgroup2 is mounted (the unified hierarchy), or null when it is not.</summary>
    public static string? FindMount(string mountInfoPath = "/proc/self/mountinfo")
    {
        if (!File.Exists(mountInfoPath))
        {
            return null;
        }
        foreach (string line in File.ReadLines(mountInfoPath))
        {
            // 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
            {
                continue;
            }
            string[] after = line[(dash + 3)..].Split(' ');
            string[] before = line[..dash].Split(' ');
            if (after.Length > 0 && after[0] == "cgroup2" && before.Length > 4 && before[3] == "/")
            {
                return Unescape(before[4]);
            }
        }
        return null;
    }

    /// <summary>The cgroup v2 path of a process relative to the hierarchy's root ("/" for the root), or null.</summary>
    public static string? Of(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup"))
            {
                if (line.StartsWith("0::", StringComparison.Ordinal))
                {
                    return line[3..];
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>Moves a process (all its threads) into the cgroup directory.</summary>
    public static void Move(string cgroupDirectory, int pid) =>
        File.WriteAllText(Path.Combine(cgroupDirectory, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether any process is in the cgroup or below it.</summary>
    public static bool IsPopulated(string cgroupDirectory)
    {
        try
        {
            foreach (string line in File.ReadLines(Path.Combine(cgroupDirectory, "cgroup.events")))
            {
                if (line.StartsWith("populated ", StringComparison.Ordinal))
                {
                    return line.EndsWith('1');
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return false;
    }

    /// <summary>The processes directly in the cgroup.</summary>
    public static IReadOnlyList<int> Processes(string cgroupDirectory)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(cgroupDirectory, "cgroup.procs"))
                .Select(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 0).Where(p => p > 0).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Removes an empty cgroup and its empty descendants; false when something still lives there.</summary>
    public static bool TryRemove(string cgroupDirectory)
    {
        if (!Directory.Exists(cgroupDirectory))
        {
            return true;
        }
        bool all = true;
        try
        {
            foreach (string child in Directory.GetDirectories(cgroupDirectory))
            {
                all &= TryRemove(child);
            }
            // A cgroup directory holds only kernel files: rmdir, not a recursive delete.
            Directory.Delete(cgroupDirectory, recursive: false);
            return all;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Unescape(string path) => path.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
