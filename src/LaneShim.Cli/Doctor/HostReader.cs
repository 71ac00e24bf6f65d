// HostReader.cs - collects a HostSnapshot: sysctls from /proc/sys, routes, sysfs interface facts, qdiscs, kernel config.
using System.Globalization;
using LaneShim.Core.Doctor;

namespace LaneShim.Cli.Doctor;

/// <summary>All of the doctor's reading of the host, in the caller's network namespace.</summary>
internal static class HostReader
{
    /// <summary>Reads the host; with no destinations, the default route's path.</summary>
    public static HostSnapshot Read(IReadOnlyList<string> destinations, ProcSys proc)
    {
        string release = proc.Read("kernel.osrelease") ?? "";
        var sysctls = new Dictionary<string, string>(StringComparer.Ordinal);
        var readOnly = new HashSet<string>(StringComparer.Ordinal);
        foreach (string key in SysctlKeys.All)
        {
            if (proc.Read(key) is string value)
            {
                sysctls[key] = value;
                if (proc.IsReadOnly(key))
                {
                    readOnly.Add(key);
                }
            }
        }

        EgressPath[] routes = destinations.Count == 0
            ? [RouteLookup.Default()]
            : destinations.Select(RouteLookup.Get).ToArray();
        var qdiscKinds = new HashSet<string>(StringComparer.Ordinal);
        EgressPath[] paths = routes.Select(p => WithDevice(p, qdiscKinds)).ToArray();
        FqSupport fq = qdiscKinds.Contains("fq") ? FqSupport.BuiltIn : KernelConfig.Fq(release);
        return new HostSnapshot
        {
            KernelRelease = release,
            InitialNetworkNamespace = InitialNamespace(),
            Sysctls = sysctls,
            ReadOnlySysctls = readOnly,
            Paths = paths,
            Fq = fq,
        };
    }

    private static EgressPath WithDevice(EgressPath path, HashSet<string> qdiscKinds)
    {
        if (path.Device is not string dev)
        {
            return path;
        }

        (string? root, IReadOnlyList<string> children, IReadOnlyList<string> all) = QdiscReader.Read(dev);
        qdiscKinds.UnionWith(all);
        long? speed = ReadLong(dev, "speed");
        return path with
        {
            Mtu = ReadLong(dev, "mtu") is long mtu ? (int)mtu : null,
            TxQueueLen = ReadLong(dev, "tx_queue_len"),
            SpeedMbps = speed > 0 ? speed : null,
            RootQdisc = root,
            ChildQdiscs = children,
        };
    }

    // Devices without a link speed (virtual, or a link that is down) fail the read with EINVAL or report -1.
    private static long? ReadLong(string dev, string attribute)
    {
        try
        {
            string text = File.ReadAllText($"/sys/class/net/{dev}/{attribute}").Trim();
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The namespace links compare when both are readable; inside `ip netns exec` /proc/1 often is not, but
    // net.core.netdev_max_backlog exists only in the initial namespace.
    private static bool? InitialNamespace()
    {
        try
        {
            FileSystemInfo? self = new FileInfo("/proc/self/ns/net").ResolveLinkTarget(false);
            FileSystemInfo? init = new FileInfo("/proc/1/ns/net").ResolveLinkTarget(false);
            if (self is not null && init is not null)
            {
                return self.Name == init.Name;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return File.Exists("/proc/sys/net/core/netdev_max_backlog");
    }
}
