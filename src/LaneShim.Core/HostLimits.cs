// HostLimits.cs - the socket-buffer ceilings and privileges of the host a flow runs on.
namespace LaneShim.Core;

/// <summary>
/// The host's buffer ceilings, as the agent reads them from /proc/sys in the flow's network namespace.
/// </summary>
/// <param name="RmemMax">net.core.rmem_max: the largest value SO_RCVBUF accepts (before the kernel doubles it).</param>
/// <param name="WmemMax">net.core.wmem_max: the largest value SO_SNDBUF accepts (before the kernel doubles it).</param>
/// <param name="TcpRmemMax">Third field of net.ipv4.tcp_rmem: the receive autotuning ceiling, in kernel-accounted (doubled) bytes.</param>
/// <param name="TcpWmemMax">Third field of net.ipv4.tcp_wmem: the send autotuning ceiling, in kernel-accounted (doubled) bytes.</param>
/// <param name="Privileged">CAP_NET_ADMIN: may use SO_SNDBUFFORCE/SO_RCVBUFFORCE and SO_MARK.</param>
public sealed record HostLimits(long RmemMax, long WmemMax, long TcpRmemMax, long TcpWmemMax, bool Privileged)
{
    /// <summary>
    /// A stock Linux host: rmem_max = wmem_max = 212992, tcp_rmem max 6 MiB, tcp_wmem max 4 MiB, unprivileged,
    /// only cubic and reno known.
    /// </summary>
    public static HostLimits LinuxDefaults { get; } = new(212_992, 212_992, 6 * 1024 * 1024, 4 * 1024 * 1024, false)
    {
        CongestionAvailable = ["reno", "cubic"],
    };

    /// <summary>Congestion control algorithms the host offers to this process (empty: none reported).</summary>
    public IReadOnlyList<string> CongestionAvailable { get; init; } = [];

    /// <summary>
    /// This record with every limit that is zero or negative (not reported) taken from <paramref name="defaults"/>.
    /// </summary>
    public HostLimits WithUnknownFrom(HostLimits defaults) => this with
    {
        RmemMax = RmemMax > 0 ? RmemMax : defaults.RmemMax,
        WmemMax = WmemMax > 0 ? WmemMax : defaults.WmemMax,
        TcpRmemMax = TcpRmemMax > 0 ? TcpRmemMax : defaults.TcpRmemMax,
        TcpWmemMax = TcpWmemMax > 0 ? TcpWmemMax : defaults.TcpWmemMax,
    };
}
