// BrokerPrivilege.cs - whether this broker process holds CAP_NET_ADMIN, so it may apply FORCE buffers, SO_MARK and high SO_PRIORITY.
namespace LaneShim.Broker.Identity;

/// <summary>Reads the broker's own effective capabilities once.</summary>
internal static class BrokerPrivilege
{
    private const int CapNetAdmin = 12;
    private const int CapSysAdmin = 21;
    private static readonly Lazy<bool> NetAdmin = new(() => HasCapability(CapNetAdmin));
    private static readonly Lazy<bool> SysAdmin = new(() => HasCapability(CapSysAdmin));

    /// <summary>True when the broker may set privileged socket options on a proven socket.</summary>
    public static bool HasNetAdmin => NetAdmin.Value;

    /// <summary>True when the broker may enter other network namespaces (setns), as the connection watcher does.</summary>
    public static bool HasSysAdmin => SysAdmin.Value;

    private static bool HasCapability(int bit)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal) &&
                    ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, null, out ulong caps))
                {
                    return (caps & (1UL << bit)) != 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return false;
    }
}
