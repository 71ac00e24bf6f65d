// SysctlKeys.cs - the sysctls the doctor reads, by their dotted names.
namespace LaneShim.Core.Doctor;

/// <summary>Sysctl names the checks use; <see cref="All"/> is what a host reader collects.</summary>
public static class SysctlKeys
{
    /// <summary>Largest SO_RCVBUF an unprivileged program may set (global on most kernels).</summary>
    public const string RmemMax = "net.core.rmem_max";

    /// <summary>Largest SO_SNDBUF an unprivileged program may set (global on most kernels).</summary>
    public const string WmemMax = "net.core.wmem_max";

    /// <summary>Per-CPU input queue length, packets (global: visible only in the initial network namespace).</summary>
    public const string NetdevMaxBacklog = "net.core.netdev_max_backlog";

    /// <summary>Receive buffer min, default and autotuning max.</summary>
    public const string TcpRmem = "net.ipv4.tcp_rmem";

    /// <summary>Send buffer min, default and autotuning max.</summary>
    public const string TcpWmem = "net.ipv4.tcp_wmem";

    /// <summary>RFC 7323 window scaling.</summary>
    public const string TcpWindowScaling = "net.ipv4.tcp_window_scaling";

    /// <summary>Receive-buffer overhead share (obsolete since Linux 6.6).</summary>
    public const string TcpAdvWinScale = "net.ipv4.tcp_adv_win_scale";

    /// <summary>Whether the receiver may shrink its advertised window (Linux 6.5+).</summary>
    public const string TcpShrinkWindow = "net.ipv4.tcp_shrink_window";

    /// <summary>Receive autotuning on or off.</summary>
    public const string TcpModerateRcvbuf = "net.ipv4.tcp_moderate_rcvbuf";

    /// <summary>Congestion controls the kernel has.</summary>
    public const string TcpAvailableCongestionControl = "net.ipv4.tcp_available_congestion_control";

    /// <summary>Congestion controls unprivileged programs may choose.</summary>
    public const string TcpAllowedCongestionControl = "net.ipv4.tcp_allowed_congestion_control";

    /// <summary>The default congestion control.</summary>
    public const string TcpCongestionControl = "net.ipv4.tcp_congestion_control";

    /// <summary>Packetization-layer path MTU discovery (RFC 4821).</summary>
    public const string TcpMtuProbing = "net.ipv4.tcp_mtu_probing";

    /// <summary>Whether IPPROTO_MPTCP sockets can be created.</summary>
    public const string MptcpEnabled = "net.mptcp.enabled";

    /// <summary>Every key the doctor reads.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        RmemMax, WmemMax, NetdevMaxBacklog, TcpRmem, TcpWmem, TcpWindowScaling, TcpAdvWinScale, TcpShrinkWindow,
        TcpModerateRcvbuf, TcpAvailableCongestionControl, TcpAllowedCongestionControl, TcpCongestionControl,
        TcpMtuProbing, MptcpEnabled,
    ];
}
