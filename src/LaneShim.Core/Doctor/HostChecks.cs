// HostChecks.cs - host-wide TCP settings: adv_win_scale, shrink_window, MTU probing, input backlog, MPTCP.
namespace LaneShim.Core.Doctor;

/// <summary>Checks that do not depend on one lane (only on the fastest lane and the egress MTUs).</summary>
internal static class HostChecks
{
    /// <summary>The time of line-rate input netdev_max_backlog should absorb.</summary>
    public static readonly TimeSpan BacklogBurst = TimeSpan.FromMilliseconds(10);

    private const string Scope = "host";
    private const int StandardMtu = 1500;

    /// <summary>The host findings, given the lanes (for the fastest rate) and the snapshot's paths (for MTUs).</summary>
    public static IReadOnlyList<Finding> Check(IReadOnlyList<DoctorLane> lanes, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<Finding>();
        if (host.GetLong(SysctlKeys.TcpAdvWinScale) is long scale)
        {
            findings.Add(AdvWinScale(host, scale));
        }

        if (host.GetLong(SysctlKeys.TcpShrinkWindow) is long shrink)
        {
            findings.Add(ShrinkWindow(shrink));
        }

        findings.Add(MtuProbing(host));
        findings.Add(Backlog(lanes, host));
        findings.Add(Mptcp(host));
        return findings;
    }

    private static Finding AdvWinScale(HostSnapshot host, long scale)
    {
        ReceiveWindowShare share = ReceiveWindowShare.For(host);
        string measured = WindowMath.Digits(scale);
        if (!share.FromSysctl)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpAdvWinScale,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = measured,
                Why = "obsolete since Linux 6.6: the kernel measures each socket's overhead itself instead of reserving 1/2^n of the receive buffer",
            };
        }

        if (!share.LessThanHalf)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpAdvWinScale,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = measured,
                Why = $"tcp_adv_win_scale = {scale}: a receive buffer offers {share.Describe()} of itself as window, as LaneShim's sizing assumes (at least half)",
            };
        }

        var change = new SysctlChange(SysctlKeys.TcpAdvWinScale, "1");
        return new Finding
        {
            Id = SysctlKeys.TcpAdvWinScale,
            Scope = Scope,
            Severity = Severity.LimitsThroughput,
            Measured = measured,
            Needed = "1",
            Why = $"tcp_adv_win_scale = {scale}: a receive buffer offers only {share.Describe()} of itself as window; LaneShim sizes receive buffers " +
                "for half, so a receiving stream gets less than its BDP",
            Fix = change.Command,
            Change = change,
        };
    }

    private static Finding ShrinkWindow(long shrink)
    {
        if (shrink == 0)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpShrinkWindow,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = "0",
                Needed = "0",
                Why = "the receiver never shrinks a window it has advertised (the default)",
            };
        }

        var change = new SysctlChange(SysctlKeys.TcpShrinkWindow, "0");
        return new Finding
        {
            Id = SysctlKeys.TcpShrinkWindow,
            Scope = Scope,
            Severity = Severity.Warn,
            Measured = WindowMath.Digits(shrink),
            Needed = "0",
            Why = "the receiver may shrink its advertised window when memory runs short (RFC 7323): under memory pressure a lane's window, " +
                "and so its rate, drops below the BDP",
            Fix = change.Command,
            Change = change,
        };
    }

    private static Finding MtuProbing(HostSnapshot host)
    {
        if (host.GetLong(SysctlKeys.TcpMtuProbing) is not long probing)
        {
            return Unreadable(SysctlKeys.TcpMtuProbing, "1");
        }

        EgressPath? jumbo = host.Paths.Where(p => p.EffectiveMtu > StandardMtu).MaxBy(p => p.EffectiveMtu);
        if (probing != 0 || jumbo is null)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpMtuProbing,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(probing),
                Needed = probing != 0 ? WindowMath.Digits(probing) : "0 or 1",
                Why = probing != 0
                    ? "TCP probes the path MTU itself (RFC 4821) when ICMP 'fragmentation needed' never arrives"
                    : "TCP relies on ICMP for path MTU discovery, which is fine while every egress MTU is 1500",
            };
        }

        var change = new SysctlChange(SysctlKeys.TcpMtuProbing, "1");
        return new Finding
        {
            Id = SysctlKeys.TcpMtuProbing,
            Scope = Scope,
            Severity = Severity.Warn,
            Measured = "0",
            Needed = "1",
            Why = $"{jumbo.Device} has MTU {jumbo.EffectiveMtu}: if a hop drops large frames without sending 'fragmentation needed' " +
                "(a PMTU black hole), connections stall; with tcp_mtu_probing = 1 TCP falls back to a size that works",
            Fix = change.Command,
            Change = change,
        };
    }

    private static Finding Backlog(IReadOnlyList<DoctorLane> lanes, HostSnapshot host)
    {
        ulong rate = lanes.Count == 0 ? 0 : lanes.Max(l => l.RateBps);
        int mtu = host.Paths.Select(p => p.EffectiveMtu).OfType<int>().Where(m => m > 0).DefaultIfEmpty(StandardMtu).Min();
        ulong bitsPerPacket = (ulong)mtu * 8;
        ulong packetsPerSecond = (rate + bitsPerPacket - 1) / bitsPerPacket;
        long needed = Math.Max(1, WindowMath.CeilDiv((long)packetsPerSecond * BacklogBurst.Ticks, TimeSpan.TicksPerSecond));
        string burst = Units.FormatDuration(BacklogBurst);
        string arithmetic = $"{Units.FormatRate(rate)} at MTU {mtu} is {WindowMath.Count(packetsPerSecond)} packets/s, so {burst} of input is {WindowMath.Count(needed)} packets";
        long? backlog = host.GetLong(SysctlKeys.NetdevMaxBacklog);
        if (backlog is null)
        {
            bool hidden = host.InitialNetworkNamespace == false;
            return new Finding
            {
                Id = SysctlKeys.NetdevMaxBacklog,
                Scope = Scope,
                Severity = hidden ? Severity.Ok : Severity.Warn,
                Measured = hidden ? "not visible here" : "unknown",
                Needed = WindowMath.Digits(needed),
                Why = hidden
                    ? $"global, and visible only in the initial network namespace: run laneshim doctor there to check it ({arithmetic})"
                    : $"could not read /proc/sys/net/core/netdev_max_backlog ({arithmetic})",
            };
        }

        if (backlog >= needed)
        {
            return new Finding
            {
                Id = SysctlKeys.NetdevMaxBacklog,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(backlog.Value),
                Needed = WindowMath.Digits(needed),
                Why = $"{arithmetic}; the per-CPU input queue holds {WindowMath.Count(backlog.Value)}",
            };
        }

        var change = new SysctlChange(SysctlKeys.NetdevMaxBacklog, WindowMath.Digits(needed));
        return new Finding
        {
            Id = SysctlKeys.NetdevMaxBacklog,
            Scope = Scope,
            Severity = Severity.Warn,
            Measured = WindowMath.Digits(backlog.Value),
            Needed = WindowMath.Digits(needed),
            Why = $"{arithmetic}; the per-CPU input queue holds only {WindowMath.Count(backlog.Value)}, so a burst while the CPU is busy is dropped " +
                "and the sender backs off" + BufferChecks.ReadOnlyNote(host, SysctlKeys.NetdevMaxBacklog),
            Fix = change.Command,
            Change = change,
        };
    }

    private static Finding Mptcp(HostSnapshot host)
    {
        long? enabled = host.GetLong(SysctlKeys.MptcpEnabled);
        if (enabled is null)
        {
            return new Finding
            {
                Id = SysctlKeys.MptcpEnabled,
                Scope = Scope,
                Severity = Severity.Warn,
                Measured = "absent",
                Needed = "1",
                Why = "this kernel has no MPTCP (no net.mptcp sysctls): programs that ask for IPPROTO_MPTCP get plain TCP or an error",
            };
        }

        if (enabled != 0)
        {
            return new Finding
            {
                Id = SysctlKeys.MptcpEnabled,
                Scope = Scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(enabled.Value),
                Needed = "1",
                Why = "MPTCP sockets (IPPROTO_MPTCP, mptcpize) can be created, and LaneShim gives them lanes like TCP sockets",
            };
        }

        var change = new SysctlChange(SysctlKeys.MptcpEnabled, "1");
        return new Finding
        {
            Id = SysctlKeys.MptcpEnabled,
            Scope = Scope,
            Severity = Severity.Warn,
            Measured = "0",
            Needed = "1",
            Why = "MPTCP is off: programs that ask for IPPROTO_MPTCP (or run under mptcpize) get plain TCP or an error, so they cannot spread a lane over several paths",
            Fix = change.Command,
            Change = change,
        };
    }

    private static Finding Unreadable(string key, string needed) => new()
    {
        Id = key,
        Scope = Scope,
        Severity = Severity.Warn,
        Measured = "unknown",
        Needed = needed,
        Why = $"could not read /proc/sys/{SysctlChange.ProcPath(key)}",
    };
}
