// BufferChecks.cs - per lane: do tcp_wmem/tcp_rmem, wmem_max/rmem_max, window scaling and receive autotuning allow the BDP?
namespace LaneShim.Core.Doctor;

/// <summary>
/// The buffer checks for one lane, judged the way LaneShim sizes buffers (<see cref="BufferPlanner"/>) for an
/// unprivileged program that sets no buffer of its own: autotuning when tcp_{w,r}mem max covers 2 x BDP, else
/// SO_SNDBUF/SO_RCVBUF up to net.core.{w,r}mem_max.
/// </summary>
internal static class BufferChecks
{
    /// <summary>The kernel's own defaults, used (and reported as unknown) when a sysctl cannot be read.</summary>
    private static readonly long[] KernelTcpWmem = [4096, 16384, 4 * 1024 * 1024];

    private static readonly long[] KernelTcpRmem = [4096, 131072, 6 * 1024 * 1024];

    private const long KernelCoreMax = 212_992;

    /// <summary>The buffer findings for <paramref name="lane"/>, and what each direction reaches.</summary>
    public static (IReadOnlyList<Finding> Findings, DirectionLimit Send, DirectionLimit Receive) Check(DoctorLane lane, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(lane);
        ArgumentNullException.ThrowIfNull(host);
        string scope = $"lane {lane.Name}";
        long bdp = lane.BdpBytes;
        TimeSpan rtt = lane.Rtt.Rtt;
        long[]? wmem = host.GetTriple(SysctlKeys.TcpWmem);
        long[]? rmem = host.GetTriple(SysctlKeys.TcpRmem);
        long? wmemMax = host.GetLong(SysctlKeys.WmemMax);
        long? rmemMax = host.GetLong(SysctlKeys.RmemMax);
        var limits = new HostLimits(rmemMax ?? KernelCoreMax, wmemMax ?? KernelCoreMax, (rmem ?? KernelTcpRmem)[2], (wmem ?? KernelTcpWmem)[2], false);
        var send = new BufferSide
        {
            Direction = BufferDirection.Send,
            Bdp = bdp,
            Mem = wmem ?? KernelTcpWmem,
            MemKnown = wmem is not null,
            Cap = limits.WmemMax,
            CapKnown = wmemMax is not null,
            Plan = BufferPlanner.Plan(BufferDirection.Send, bdp, null, limits),
            Share = ReceiveWindowShare.Half,
        };
        var receive = new BufferSide
        {
            Direction = BufferDirection.Receive,
            Bdp = bdp,
            Mem = rmem ?? KernelTcpRmem,
            MemKnown = rmem is not null,
            Cap = limits.RmemMax,
            CapKnown = rmemMax is not null,
            Plan = BufferPlanner.Plan(BufferDirection.Receive, bdp, null, limits),
            Share = ReceiveWindowShare.For(host),
        };
        long? scaling = host.GetLong(SysctlKeys.TcpWindowScaling);
        long? moderate = host.GetLong(SysctlKeys.TcpModerateRcvbuf);

        var findings = new List<Finding>
        {
            MemFinding(lane, send, scope),
            CapFinding(lane, send, host, scope),
            MemFinding(lane, receive, scope),
            CapFinding(lane, receive, host, scope),
        };
        if (moderate is long m)
        {
            findings.Add(ModerateFinding(lane, receive, m, scope));
        }

        findings.Add(ScalingFinding(lane, scaling, scope));
        if (bdp > GrantPlanner.MaxTcpWindowBytes)
        {
            findings.Add(new Finding
            {
                Id = "tcp-max-window",
                Scope = scope,
                Severity = Severity.LimitsThroughput,
                Measured = WindowMath.Digits(GrantPlanner.MaxTcpWindowBytes),
                Needed = WindowMath.Digits(bdp),
                Why = $"{lane.DescribeBdp()}, more than TCP's largest window, 65,535 x 2^14 = {Units.FormatSize(GrantPlanner.MaxTcpWindowBytes)}: " +
                    $"a single stream tops out at {WindowMath.AboutRate(GrantPlanner.MaxTcpWindowBytes, rtt)}; use parallel streams (iperf3 -P, GridFTP -p)",
            });
        }

        bool scalingOff = scaling == 0;
        return (findings, Reach(lane, send, scalingOff, moderate != 0), Reach(lane, receive, scalingOff, moderate != 0));
    }

    /// <summary>
    /// For the broker: why a buffer plan was clamped, with the arithmetic and the fix, or null when it was not.
    /// "1 Gbit/s x 40 ms = 5.00 MB; net.core.wmem_max is 4 MiB, so a single stream tops out at about 839 Mbit/s
    /// (4 MiB x 8 / 40 ms); fix: sysctl -w net.core.wmem_max=5000000, or give the program CAP_NET_ADMIN".
    /// </summary>
    /// <param name="plan">A plan from <see cref="BufferPlanner"/> (as in <see cref="GrantPlan.Send"/>/<see cref="GrantPlan.Receive"/>).</param>
    /// <param name="rateBps">The lane rate.</param>
    /// <param name="rtt">The RTT the plan was sized for.</param>
    /// <param name="host">The limits the plan was made with.</param>
    public static string? ExplainClamp(BufferPlan plan, ulong rateBps, RttChoice rtt, HostLimits host)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(host);
        if (!plan.Clamped || plan.Mode == BufferMode.Autotune)
        {
            return null;
        }

        bool send = plan.Direction == BufferDirection.Send;
        string capKey = send ? SysctlKeys.WmemMax : SysctlKeys.RmemMax;
        long cap = send ? host.WmemMax : host.RmemMax;
        string bdpText = $"{Units.FormatRate(rateBps)} x {rtt.Describe()} = {Units.FormatSize(plan.NeedBytes)}";
        if (plan.Mode == BufferMode.Set && plan.Bytes == cap)
        {
            var fix = new SysctlChange(capKey, WindowMath.Digits(plan.NeedBytes));
            return $"{bdpText}; {capKey} is {Units.FormatSize(cap)}, so a single stream tops out at {WindowMath.AboutRate(cap, rtt.Rtt)}; " +
                $"fix: {fix.Command}, or give the program CAP_NET_ADMIN";
        }

        return $"{bdpText}; the kernel takes at most {Units.FormatSize(BufferPlanner.KernelMaxBytes)} per buffer, so a single stream tops out at " +
            $"{WindowMath.AboutRate(BufferPlanner.KernelMaxBytes, rtt.Rtt)}; use parallel streams";
    }

    /// <summary>tcp_wmem / tcp_rmem: does autotuning reach the BDP?</summary>
    private static Finding MemFinding(DoctorLane lane, BufferSide side, string scope)
    {
        long ceiling = side.Mem[2];
        long needed = side.CeilingNeeded;
        string neededTriple = $"{side.Mem[0]} {side.Mem[1]} {Math.Max(ceiling, needed)}";
        string neededWords = side.Share == ReceiveWindowShare.Half ? $"2 x {Units.FormatSize(side.Bdp)}" : Units.FormatSize(needed);
        TimeSpan rtt = lane.Rtt.Rtt;
        if (!side.MemKnown)
        {
            return Unreadable(side.MemKey, scope, neededTriple);
        }

        string measured = string.Join(' ', side.Mem);
        if (ceiling >= needed)
        {
            return new Finding
            {
                Id = side.MemKey,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = neededTriple,
                Why = $"{lane.DescribeBdp()}; {side.Word} autotuning may grow the buffer to {side.MemKey} max = {Units.FormatSize(ceiling)}, " +
                    $"at least {neededWords} (the kernel counts overhead as well as data), so LaneShim leaves {side.Word} autotuning on",
            };
        }

        long autoWindow = side.Share.WindowOf(ceiling);
        bool setReaches = side.WindowWhenSet(Math.Min(side.Bdp, side.Cap)) >= side.Bdp;
        string then = setReaches
            ? $". LaneShim sets {side.Option} to {Units.FormatSize(side.Bdp)} instead ({side.CapKey} allows it), which turns autotuning off " +
              "for the socket; programs run without LaneShim stay at the lower rate"
            : side.Cap < side.CapNeeded
                ? $". LaneShim then sets {side.Option} instead, but {side.CapKey} = {Units.FormatSize(side.Cap)} caps that too"
                : $". Setting {side.Option} to the BDP instead does not help: only {side.Share.Describe()} of a buffer carries data ({SysctlKeys.TcpAdvWinScale})";
        var change = new SysctlChange(side.MemKey, neededTriple);
        return new Finding
        {
            Id = side.MemKey,
            Scope = scope,
            Severity = setReaches ? Severity.Warn : Severity.LimitsThroughput,
            Measured = measured,
            Needed = neededTriple,
            Why = $"{lane.DescribeBdp()}; {side.Word} autotuning stops at {side.MemKey} max = {Units.FormatSize(ceiling)}, about {side.Share.Describe()} " +
                $"of which carries data ({Units.FormatSize(autoWindow)}), so an autotuned stream tops out at {WindowMath.AboutRate(autoWindow, rtt)}; " +
                $"the ceiling must be at least {neededWords}{then}",
            Fix = change.Command,
            Change = change,
        };
    }

    /// <summary>wmem_max / rmem_max: can an unprivileged program set a buffer that holds the BDP?</summary>
    private static Finding CapFinding(DoctorLane lane, BufferSide side, HostSnapshot host, string scope)
    {
        long needed = side.CapNeeded;
        if (!side.CapKnown)
        {
            return Unreadable(side.CapKey, scope, WindowMath.Digits(needed));
        }

        if (side.Cap >= needed)
        {
            return new Finding
            {
                Id = side.CapKey,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(side.Cap),
                Needed = WindowMath.Digits(needed),
                Why = $"{lane.DescribeBdp()}; {side.CapKey} = {Units.FormatSize(side.Cap)} lets an unprivileged program set {side.Option} " +
                    $"to the {Units.FormatSize(needed)} the lane needs",
            };
        }

        TimeSpan rtt = lane.Rtt.Rtt;
        long capWindow = side.WindowWhenSet(side.Cap);
        bool autotunes = side.Plan.Mode == BufferMode.Autotune;
        string why = autotunes
            ? $"{lane.DescribeBdp()}; {side.CapKey} is {Units.FormatSize(side.Cap)}: this lane autotunes past it, but a program that sets " +
              $"{side.Option} itself (iperf3 -w, for one) is raised only to {Units.FormatSize(side.Cap)} and tops out at {WindowMath.AboutRate(capWindow, rtt)}"
            : $"{lane.DescribeBdp()}; {side.CapKey} is {Units.FormatSize(side.Cap)}, so a single stream tops out at {WindowMath.AboutRate(capWindow, rtt)}: " +
              $"autotuning cannot reach the BDP ({side.MemKey}), so LaneShim sets {side.Option}, which a program without CAP_NET_ADMIN cannot raise " +
              $"above {side.CapKey} (with it, LaneShim uses {side.Option}FORCE)";
        var change = new SysctlChange(side.CapKey, WindowMath.Digits(needed));
        return new Finding
        {
            Id = side.CapKey,
            Scope = scope,
            Severity = autotunes ? Severity.Warn : Severity.LimitsThroughput,
            Measured = WindowMath.Digits(side.Cap),
            Needed = WindowMath.Digits(needed),
            Why = why + ReadOnlyNote(host, side.CapKey),
            Fix = change.Command,
            Change = change,
        };
    }

    /// <summary>tcp_moderate_rcvbuf: without it, an autotuned receive buffer never grows past tcp_rmem default.</summary>
    private static Finding ModerateFinding(DoctorLane lane, BufferSide receive, long moderate, string scope)
    {
        if (moderate != 0)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpModerateRcvbuf,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(moderate),
                Needed = "1",
                Why = $"receive autotuning is on: buffers grow with the flow up to {SysctlKeys.TcpRmem} max",
            };
        }

        long window = receive.Share.WindowOf(receive.Mem[1]);
        bool autotunes = receive.Plan.Mode == BufferMode.Autotune;
        string then = autotunes
            ? "; LaneShim leaves this lane's receive buffer to autotuning (tcp_rmem max covers the BDP), so its flows are held there too"
            : "; LaneShim sets SO_RCVBUF for this lane, so only programs outside LaneShim are held there";
        var change = new SysctlChange(SysctlKeys.TcpModerateRcvbuf, "1");
        return new Finding
        {
            Id = SysctlKeys.TcpModerateRcvbuf,
            Scope = scope,
            Severity = autotunes ? Severity.LimitsThroughput : Severity.Warn,
            Measured = "0",
            Needed = "1",
            Why = $"tcp_moderate_rcvbuf is 0, so receive buffers stay at {SysctlKeys.TcpRmem} default = {Units.FormatSize(receive.Mem[1])}: " +
                $"a socket that does not set SO_RCVBUF offers about {Units.FormatSize(window)} and tops out at {WindowMath.AboutRate(window, lane.Rtt.Rtt)}{then}",
            Fix = change.Command,
            Change = change,
        };
    }

    /// <summary>tcp_window_scaling: without it no window exceeds 65,535 bytes.</summary>
    private static Finding ScalingFinding(DoctorLane lane, long? scaling, string scope)
    {
        long bdp = lane.BdpBytes;
        if (scaling is null)
        {
            return Unreadable(SysctlKeys.TcpWindowScaling, scope, "1");
        }

        if (scaling != 0 || bdp <= WindowMath.UnscaledMaxWindow)
        {
            return new Finding
            {
                Id = SysctlKeys.TcpWindowScaling,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(scaling.Value),
                Needed = "1",
                Why = scaling != 0
                    ? $"window scaling is on: windows up to {Units.FormatSize(GrantPlanner.MaxTcpWindowBytes)} (65,535 x 2^14) for the lane's {Units.FormatSize(bdp)}"
                    : $"window scaling is off, but the lane's {Units.FormatSize(bdp)} fits in 65,535 bytes",
            };
        }

        TimeSpan rtt = lane.Rtt.Rtt;
        var change = new SysctlChange(SysctlKeys.TcpWindowScaling, "1");
        return new Finding
        {
            Id = SysctlKeys.TcpWindowScaling,
            Scope = scope,
            Severity = Severity.LimitsThroughput,
            Measured = WindowMath.Digits(scaling.Value),
            Needed = "1",
            Why = $"tcp_window_scaling is 0, so no window can exceed 65,535 bytes, whatever the buffers: a single stream tops out at about " +
                $"{Units.FormatRate(WindowMath.TopsOut(WindowMath.UnscaledMaxWindow, rtt))} (65,535 B x 8 / {Units.FormatDuration(rtt)}); " +
                $"{lane.DescribeBdp()} needs window scaling",
            Fix = change.Command,
            Change = change,
        };
    }

    /// <summary>The window one direction gets, and the checks that hold it below the BDP, tightest first.</summary>
    private static DirectionLimit Reach(DoctorLane lane, BufferSide side, bool scalingOff, bool moderate)
    {
        long window;
        var limitedBy = new List<string>();
        if (side.Plan.Mode == BufferMode.Autotune)
        {
            if (!side.IsSend && !moderate)
            {
                window = side.Share.WindowOf(side.Mem[1]);
                limitedBy.Add(SysctlKeys.TcpModerateRcvbuf);
            }
            else
            {
                window = Math.Min(side.Bdp, side.Share.WindowOf(side.Mem[2]));
            }
        }
        else
        {
            window = side.WindowWhenSet(side.Plan.Bytes);
            if (side.Plan.Clamped)
            {
                limitedBy.Add(side.CapKey);
                limitedBy.Add(side.MemKey);
            }
        }

        if (window < side.Bdp && side.Share.LessThanHalf)
        {
            limitedBy.Add(SysctlKeys.TcpAdvWinScale);
        }

        if (scalingOff && window > WindowMath.UnscaledMaxWindow)
        {
            window = WindowMath.UnscaledMaxWindow;
            limitedBy.Insert(0, SysctlKeys.TcpWindowScaling);
        }

        if (window > GrantPlanner.MaxTcpWindowBytes)
        {
            window = GrantPlanner.MaxTcpWindowBytes;
            limitedBy.Insert(0, "tcp-max-window");
        }

        ulong topsOut = WindowMath.TopsOut(window, lane.Rtt.Rtt, lane.RateBps);
        return new DirectionLimit(side.Plan.Mode, window, topsOut, topsOut < lane.RateBps ? limitedBy : []);
    }

    private static Finding Unreadable(string key, string scope, string needed) => new()
    {
        Id = key,
        Scope = scope,
        Severity = Severity.Warn,
        Measured = "unknown",
        Needed = needed,
        Why = $"could not read /proc/sys/{SysctlChange.ProcPath(key)}; the figures assume the kernel's default",
    };

    /// <summary>"; net.core.wmem_max is global ... run the fix in the initial namespace" when this namespace cannot change it.</summary>
    internal static string ReadOnlyNote(HostSnapshot host, string key) => host.ReadOnlySysctls.Contains(key)
        ? $"; {key} is global on this kernel and read-only in this network namespace, so run the fix in the initial namespace"
        : string.Empty;
}
