// NetnsId.cs - names a network namespace by its nsfs inode, the number `ip netns identify` and /proc/PID/ns/net show.
using System.Globalization;

namespace LaneShim.Broker.Liveness;

/// <summary>A network namespace: the inode of its nsfs file (every namespace file lives on the one nsfs).</summary>
public readonly record struct NetnsId(ulong Inode)
{
    /// <summary>Reads the namespace of nsfs link text <c>net:[4026531840]</c>; null for anything else.</summary>
    public static NetnsId? Parse(ReadOnlySpan<char> link) =>
        link.StartsWith("net:[", StringComparison.Ordinal) && link.EndsWith("]", StringComparison.Ordinal)
        && ulong.TryParse(link[5..^1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) ? new NetnsId(inode) : null;

    /// <summary>As the kernel writes it: net:[inode].</summary>
    public override string ToString() => $"net:[{Inode.ToString(CultureInfo.InvariantCulture)}]";
}
