// BpfPins.cs - where a broker pins its maps and keeps its cgroups, and the clean-up of those a killed broker left.
using System.Globalization;

namespace LaneShim.Broker.Bpf;

/// <summary>
/// Each broker pins under <c>{bpffs}/laneshim/broker-{pid}</c> and makes its run cgroups under
/// <c>{cgroup2}/laneshim/broker-{pid}</c>. A broker that was killed cannot remove them; the next one does, for every
/// pid that no longer runs (its programs already left the cgroups with its links).
/// </summary>
public static class BpfPins
{
    /// <summary>The bpffs mount the broker uses.</summary>
    public const string BpfFs = "/sys/fs/bpf";

    /// <summary>The directory this process pins into.</summary>
    public static string PinDirectory(int pid) => Path.Combine(BpfFs, "laneshim", Name(pid));

    /// <summary>The cgroup this process attaches to and makes run cgroups under.</summary>
    public static string ScopeCgroup(string cgroupRoot, int pid) => Path.Combine(cgroupRoot, "laneshim", Name(pid));

    /// <summary>Removes the pins and (empty) cgroups of brokers that no longer run; returns what it removed.</summary>
    public static IReadOnlyList<string> RemoveStale(string? cgroupRoot)
    {
        var removed = new List<string>();
        foreach (string? parent in new[] { Path.Combine(BpfFs, "laneshim"), cgroupRoot is null ? null : Path.Combine(cgroupRoot, "laneshim") })
        {
            if (parent is null || !Directory.Exists(parent))
            {
                continue;
            }
            foreach (string dir in Directory.GetDirectories(parent, "broker-*"))
            {
                if (!int.TryParse(Path.GetFileName(dir)["broker-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || Alive(pid))
                {
                    continue;
                }
                if (dir.StartsWith(BpfFs, StringComparison.Ordinal))
                {
                    foreach (string pin in Directory.GetFiles(dir))
                    {
                        File.Delete(pin);
                    }
                    Directory.Delete(dir);
                    removed.Add(dir);
                }
                else
                {
                    MoveOut(dir, cgroupRoot!);
                    if (Cgroup2.TryRemove(dir))
                    {
                        removed.Add(dir);
                    }
                }
            }
        }
        return removed;
    }

    /// <summary>Removes the shared parents (<c>laneshim</c> in bpffs and cgroup2) when no broker uses them any more.</summary>
    public static void RemoveEmptyParents(string? cgroupRoot)
    {
        foreach (string? parent in new[] { Path.Combine(BpfFs, "laneshim"), cgroupRoot is null ? null : Path.Combine(cgroupRoot, "laneshim") })
        {
            try
            {
                if (parent is not null && Directory.Exists(parent) && Directory.GetDirectories(parent).Length == 0)
                {
                    Directory.Delete(parent, recursive: false);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another broker is using it, or still making its directory there
            }
        }
    }

    // Processes still in a dead broker's run cgroups go to the hierarchy's root: nothing is attached there by us.
    private static void MoveOut(string dir, string root)
    {
        foreach (string sub in Directory.GetDirectories(dir).Append(dir))
        {
            foreach (int pid in Cgroup2.Processes(sub))
            {
                try
                {
                    Cgroup2.Move(root, pid);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static string Name(int pid) => "broker-" + pid.ToString(CultureInfo.InvariantCulture);

    private static bool Alive(int pid) => Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
}
