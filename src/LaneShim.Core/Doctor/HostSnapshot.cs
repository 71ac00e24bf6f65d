// HostSnapshot.cs - the host facts the doctor judges: sysctls, kernel, egress paths; read once, checked purely.
using System.Globalization;

namespace LaneShim.Core.Doctor;

/// <summary>Everything the checks need to know about the host, as read in one network namespace.</summary>
public sealed record HostSnapshot
{
    /// <summary>uname -r, e.g. "6.18.44"; empty when unknown.</summary>
    public string KernelRelease { get; init; } = string.Empty;

    /// <summary>True in the initial network namespace, false in another, null when unknown.</summary>
    public bool? InitialNetworkNamespace { get; init; }

    /// <summary>Sysctl values by dotted name, words separated by single spaces; a key that could not be read is absent.</summary>
    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Keys that exist but cannot be written here (global sysctls seen from a network namespace).</summary>
    public IReadOnlySet<string> ReadOnlySysctls { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The egress path for each destination (or the default route).</summary>
    public IReadOnlyList<EgressPath> Paths { get; init; } = [];

    /// <summary>Whether the fq qdisc exists in this kernel.</summary>
    public FqSupport Fq { get; init; } = FqSupport.Unknown;

    /// <summary>The raw value of a sysctl, or null when absent.</summary>
    public string? Get(string key) => Sysctls.TryGetValue(key, out string? v) ? v : null;

    /// <summary>A single-number sysctl, or null when absent or not a number.</summary>
    public long? GetLong(string key) =>
        Get(key) is string v && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : null;

    /// <summary>A three-number sysctl (tcp_rmem, tcp_wmem), or null when absent or malformed.</summary>
    public long[]? GetTriple(string key)
    {
        string[] words = GetWords(key);
        if (words.Length != 3)
        {
            return null;
        }

        var result = new long[3];
        for (int i = 0; i < 3; i++)
        {
            if (!long.TryParse(words[i], NumberStyles.None, CultureInfo.InvariantCulture, out result[i]))
            {
                return null;
            }
        }

        return result;
    }

    /// <summary>The words of a list sysctl (congestion control names); empty when absent.</summary>
    public string[] GetWords(string key) =>
        Get(key)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>True when the kernel release is at least <paramref name="major"/>.<paramref name="minor"/>; null when unknown.</summary>
    public bool? KernelAtLeast(int major, int minor)
    {
        string[] parts = KernelRelease.Split('.', '-');
        if (parts.Length < 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int maj)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int min))
        {
            return null;
        }

        return maj > major || (maj == major && min >= minor);
    }

    /// <summary>Normalizes a value as /proc/sys prints it: tabs, newlines and runs of spaces become single spaces.</summary>
    public static string Normalize(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return string.Join(' ', raw.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
    }
}
