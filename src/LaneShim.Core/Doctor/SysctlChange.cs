// SysctlChange.cs - one sysctl key and the value a fix sets it to.
namespace LaneShim.Core.Doctor;

/// <summary>A sysctl assignment that fixes a finding: what `--apply` writes and loads.</summary>
/// <param name="Key">The dotted name, e.g. net.core.wmem_max.</param>
/// <param name="Value">The value, words separated by single spaces, e.g. "4096 16384 10000000".</param>
public sealed record SysctlChange(string Key, string Value)
{
    /// <summary>The command a person would type: <c>sysctl -w net.ipv4.tcp_wmem="4096 16384 10000000"</c>.</summary>
    public string Command => Value.Contains(' ', StringComparison.Ordinal)
        ? $"sysctl -w {Key}=\"{Value}\""
        : $"sysctl -w {Key}={Value}";

    /// <summary>The path under /proc/sys: net.core.wmem_max is net/core/wmem_max.</summary>
    public static string ProcPath(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Replace('.', '/');
    }
}
