// TestHosts.cs - host snapshots for the doctor's unit tests: a well-tuned host, and ways to spoil one setting at a time.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

/// <summary>Snapshot builders.</summary>
internal static class TestHosts
{
    /// <summary>1 Gbit/s x 40 ms: BDP 5,000,000 bytes.</summary>
    public static DoctorLane GigabitAt40ms(string congestion = "") =>
        new("dmz", 1_000_000_000, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), congestion);

    /// <summary>A host that lets a 1 Gbit/s x 40 ms lane through on every count.</summary>
    public static HostSnapshot Tuned() => new()
    {
        KernelRelease = "6.18.44",
        InitialNetworkNamespace = true,
        Sysctls = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SysctlKeys.RmemMax] = "16777216",
            [SysctlKeys.WmemMax] = "16777216",
            [SysctlKeys.NetdevMaxBacklog] = "1000",
            [SysctlKeys.TcpRmem] = "4096 131072 33554432",
            [SysctlKeys.TcpWmem] = "4096 16384 33554432",
            [SysctlKeys.TcpWindowScaling] = "1",
            [SysctlKeys.TcpAdvWinScale] = "1",
            [SysctlKeys.TcpShrinkWindow] = "0",
            [SysctlKeys.TcpModerateRcvbuf] = "1",
            [SysctlKeys.TcpAvailableCongestionControl] = "reno cubic bbr",
            [SysctlKeys.TcpAllowedCongestionControl] = "reno cubic",
            [SysctlKeys.TcpCongestionControl] = "cubic",
            [SysctlKeys.TcpMtuProbing] = "0",
            [SysctlKeys.MptcpEnabled] = "1",
        },
        Paths =
        [
            new EgressPath
            {
                Destination = EgressPath.DefaultRoute,
                Device = "eth0",
                Gateway = "192.0.2.1",
                Mtu = 1500,
                TxQueueLen = 1000,
                SpeedMbps = 10_000,
                RootQdisc = "fq",
            },
        ],
        Fq = FqSupport.BuiltIn,
    };

    /// <summary>The snapshot with sysctls set (a null value removes the key).</summary>
    public static HostSnapshot With(this HostSnapshot host, params (string Key, string? Value)[] sysctls)
    {
        var copy = new Dictionary<string, string>(host.Sysctls, StringComparer.Ordinal);
        foreach ((string key, string? value) in sysctls)
        {
            if (value is null)
            {
                copy.Remove(key);
            }
            else
            {
                copy[key] = value;
            }
        }

        return host with { Sysctls = copy };
    }

    /// <summary>The snapshot's first path changed by <paramref name="change"/>.</summary>
    public static HostSnapshot WithPath(this HostSnapshot host, Func<EgressPath, EgressPath> change) =>
        host with { Paths = [change(host.Paths[0]), .. host.Paths.Skip(1)] };

    /// <summary>The one finding with this id (and scope, when given).</summary>
    public static Finding Single(this IEnumerable<Finding> findings, string id, string? scope = null)
    {
        Finding[] hits = findings.Where(f => f.Id == id && (scope is null || f.Scope == scope)).ToArray();
        Assert.HasCount(1, hits, $"findings with id {id}: {string.Join(", ", findings.Select(f => f.Id))}");
        return hits[0];
    }
}
