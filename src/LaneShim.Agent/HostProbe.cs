// HostProbe.cs - the host facts a grant depends on: buffer ceilings, congestion controls, privilege.
using LaneShim.Protocol.V1;

namespace LaneShim.Agent;

/// <summary>Reads /proc once per process; the values are per network namespace, which a process rarely leaves.</summary>
internal static class HostProbe
{
    private const int CapNetAdmin = 12;
    private static HostLimits? _limits;

    /// <summary>The host's limits as the broker needs them in a request.</summary>
    public static HostLimits Limits => _limits ??= Read();

    private static HostLimits Read()
    {
        var limits = new HostLimits
        {
            RmemMax = ReadLong("/proc/sys/net/core/rmem_max"),
            WmemMax = ReadLong("/proc/sys/net/core/wmem_max"),
            TcpRmemMax = ReadThird("/proc/sys/net/ipv4/tcp_rmem"),
            TcpWmemMax = ReadThird("/proc/sys/net/ipv4/tcp_wmem"),
            Privileged = HasCapability(CapNetAdmin),
        };
        // Unprivileged sockets may only pick from the allowed list.
        string ccFile = limits.Privileged
            ? "/proc/sys/net/ipv4/tcp_available_congestion_control"
            : "/proc/sys/net/ipv4/tcp_allowed_congestion_control";
        limits.CongestionAvailable.AddRange(ReadWords(ccFile));
        return limits;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long ReadLong(string path) => long.TryParse(ReadText(path)?.Trim(), out long v) ? v : 0;

    private static long ReadThird(string path)
    {
        string[] words = ReadWords(path);
        return words.Length >= 3 && long.TryParse(words[2], out long v) ? v : 0;
    }

    private static string[] ReadWords(string path) =>
        (ReadText(path) ?? "").Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);

    private static bool HasCapability(int bit)
    {
        foreach (string line in (ReadText("/proc/self/status") ?? "").Split('\n'))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal) &&
                ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, null, out ulong caps))
            {
                return (caps & (1UL << bit)) != 0;
            }
        }
        return false;
    }
}
