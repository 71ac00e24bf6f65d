// HostSysctls.cs - the broker host's socket buffer limits and congestion controls, read from /proc/sys.
using System.Globalization;
using LaneShim.Core;

namespace LaneShim.Broker.Bpf;

/// <summary>Reads the limits the kernel applies to bpf_setsockopt (the sockets' host is the broker's host).</summary>
public static class HostSysctls
{
    /// <summary>The limits now (unknown values are Linux's defaults); privileged is false: the kernel cannot FORCE buffers.</summary>
    public static HostLimits Read() =>
        new HostLimits(Number("net/core/rmem_max"), Number("net/core/wmem_max"), Third("net/ipv4/tcp_rmem"), Third("net/ipv4/tcp_wmem"), false)
        {
            CongestionAvailable = Text("net/ipv4/tcp_available_congestion_control").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        }.WithUnknownFrom(HostLimits.LinuxDefaults);

    /// <summary>The system's default congestion control ("" when unreadable).</summary>
    public static string DefaultCongestion => Text("net/ipv4/tcp_congestion_control");

    /// <summary>The same limits as the wire message carries them.</summary>
    public static Protocol.V1.HostLimits ToWire(HostLimits host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var wire = new Protocol.V1.HostLimits
        {
            RmemMax = host.RmemMax,
            WmemMax = host.WmemMax,
            TcpRmemMax = host.TcpRmemMax,
            TcpWmemMax = host.TcpWmemMax,
            Privileged = host.Privileged,
        };
        wire.CongestionAvailable.AddRange(host.CongestionAvailable);
        return wire;
    }

    private static string Text(string name)
    {
        try
        {
            return File.ReadAllText("/proc/sys/" + name).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static long Number(string name) => long.TryParse(Text(name), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : -1;

    private static long Third(string name)
    {
        string[] parts = Text(name).Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : -1;
    }
}
