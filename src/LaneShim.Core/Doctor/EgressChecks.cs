// EgressChecks.cs - per destination and egress interface: the route, link speed, MTU, txqueuelen and pacing qdisc.
namespace LaneShim.Core.Doctor;

/// <summary>Checks of the interfaces lanes leave by.</summary>
internal static class EgressChecks
{
    /// <summary>From this rate on, MTU 1500 costs enough packets per second to suggest jumbo frames.</summary>
    public const ulong JumboRateBps = 10_000_000_000;

    /// <summary>The txqueuelen below which a queueing qdisc drops ordinary bursts (the kernel default is 1000).</summary>
    public const long MinTxQueueLen = 1000;

    private const int JumboMtu = 9000;

    /// <summary>A route finding per path, then link speed, MTU, txqueuelen and pacing once per interface.</summary>
    public static IReadOnlyList<Finding> Check(IReadOnlyList<DoctorLane> lanes, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<Finding>();
        foreach (EgressPath path in host.Paths)
        {
            findings.Add(Route(path));
        }

        foreach (EgressPath path in host.Paths.Where(p => p.Device is not null).DistinctBy(p => p.Device, StringComparer.Ordinal))
        {
            findings.Add(LinkSpeed(path, lanes));
            findings.Add(Mtu(path, lanes));
            findings.Add(TxQueueLen(path, lanes));
            findings.Add(Pacing(path, lanes, host));
        }

        return findings;
    }

    /// <summary>The slowest known link speed among the egress interfaces, bits/s; null when none reports one.</summary>
    public static ulong? SlowestLinkBps(HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(host);
        long? mbps = host.Paths.Where(p => p.SpeedMbps > 0).Select(p => p.SpeedMbps).Min();
        return mbps is long m ? (ulong)m * 1_000_000 : null;
    }

    private static Finding Route(EgressPath path)
    {
        if (path.Device is null)
        {
            bool isDefault = path.Destination == EgressPath.DefaultRoute;
            return new Finding
            {
                Id = "route",
                Scope = isDefault ? "default route" : $"to {path.Destination}",
                Severity = isDefault ? Severity.Warn : Severity.LimitsThroughput,
                Measured = path.Error ?? "no route",
                Needed = "a route",
                Why = isDefault
                    ? "there is no default route, so which interface lanes leave by is unknown; pass --dest ADDRESS for each peer"
                    : $"no route to {path.Destination}: connections to it fail",
            };
        }

        string measured = $"{path.Destination} dev {path.Device}" + (path.Gateway is null ? "" : $" via {path.Gateway}") + (path.Source is null ? "" : $" src {path.Source}");
        return new Finding
        {
            Id = "route",
            Scope = path.Device,
            Severity = Severity.Ok,
            Measured = measured,
            Needed = "a route",
            Why = $"{Capitalize(path.DescribeDestination())} leaves by {path.Device}" + (path.Gateway is null ? " on a local link" : $" via {path.Gateway}"),
        };
    }

    private static Finding LinkSpeed(EgressPath path, IReadOnlyList<DoctorLane> lanes)
    {
        string dev = path.Device!;
        ulong fastest = lanes.Count == 0 ? 0 : lanes.Max(l => l.RateBps);
        if (path.SpeedMbps is not > 0)
        {
            return new Finding
            {
                Id = "link-speed",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = "unknown",
                Needed = Units.FormatRate(fastest),
                Why = $"{dev} reports no link speed (a virtual or tunnel device): the physical interface beneath it sets the real limit",
            };
        }

        ulong speed = (ulong)path.SpeedMbps.Value * 1_000_000;
        DoctorLane[] faster = lanes.Where(l => l.RateBps > speed).ToArray();
        if (faster.Length == 0)
        {
            return new Finding
            {
                Id = "link-speed",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = Units.FormatRate(speed),
                Needed = Units.FormatRate(fastest),
                Why = $"{dev} runs at {Units.FormatRate(speed)}, enough for the fastest lane ({Units.FormatRate(fastest)})",
            };
        }

        string names = string.Join(", ", faster.Select(l => $"{l.Name} ({Units.FormatRate(l.RateBps)})"));
        return new Finding
        {
            Id = "link-speed",
            Scope = dev,
            Severity = Severity.LimitsThroughput,
            Measured = Units.FormatRate(speed),
            Needed = Units.FormatRate(fastest),
            Why = $"{dev} runs at {Units.FormatRate(speed)}, slower than lane {names}: a stream through it tops out at {Units.FormatRate(speed)}; " +
                "a faster interface or a lane rate at most the link speed fixes it",
        };
    }

    private static Finding Mtu(EgressPath path, IReadOnlyList<DoctorLane> lanes)
    {
        string dev = path.Device!;
        ulong fastest = lanes.Count == 0 ? 0 : lanes.Max(l => l.RateBps);
        if (path.EffectiveMtu is not int mtu || mtu <= 0)
        {
            return new Finding
            {
                Id = "mtu",
                Scope = dev,
                Severity = Severity.Warn,
                Measured = "unknown",
                Needed = "1500",
                Why = $"could not read /sys/class/net/{dev}/mtu",
            };
        }

        string source = path.RouteMtu is not null ? " (the route's MTU)" : "";
        ulong pps = PacketsPerSecond(fastest, mtu);
        if (fastest < JumboRateBps || mtu >= JumboMtu)
        {
            return new Finding
            {
                Id = "mtu",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(mtu),
                Needed = WindowMath.Digits(mtu),
                Why = $"MTU {mtu}{source}: {Units.FormatRate(fastest)} is about {WindowMath.Count(pps)} packets/s each way",
            };
        }

        return new Finding
        {
            Id = "mtu",
            Scope = dev,
            Severity = Severity.Warn,
            Measured = WindowMath.Digits(mtu),
            Needed = WindowMath.Digits(JumboMtu),
            Why = $"MTU {mtu}{source}: {Units.FormatRate(fastest)} is about {WindowMath.Count(pps)} packets/s each way; jumbo frames cut that to about " +
                $"{WindowMath.Count(PacketsPerSecond(fastest, JumboMtu))} and the per-packet CPU cost with it, but only if every hop to the peer carries 9000-byte frames",
            Fix = $"ip link set dev {dev} mtu {JumboMtu}",
        };
    }

    private static Finding TxQueueLen(EgressPath path, IReadOnlyList<DoctorLane> lanes)
    {
        string dev = path.Device!;
        ulong fastest = lanes.Count == 0 ? 0 : lanes.Max(l => l.RateBps);
        if (path.TxQueueLen is not long queue)
        {
            return new Finding
            {
                Id = "txqueuelen",
                Scope = dev,
                Severity = Severity.Warn,
                Measured = "unknown",
                Needed = WindowMath.Digits(MinTxQueueLen),
                Why = $"could not read /sys/class/net/{dev}/tx_queue_len",
            };
        }

        int mtu = path.EffectiveMtu is > 0 ? path.EffectiveMtu.Value : 1500;
        long queueBytes = queue * mtu;
        string drains = fastest == 0 ? "" : $", {Units.FormatDuration(TimeSpan.FromTicks((long)((UInt128)(ulong)queueBytes * 8 * TimeSpan.TicksPerSecond / fastest)))} at {Units.FormatRate(fastest)}";
        if (path.RootQdisc == "noqueue")
        {
            return new Finding
            {
                Id = "txqueuelen",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(queue),
                Needed = "any",
                Why = $"{dev} has no queue (noqueue qdisc): packets go straight to the device, so txqueuelen does not apply",
            };
        }

        string held = $"{WindowMath.Count(queue)} packets ({Units.FormatSize(queueBytes)} at MTU {mtu}{drains})";
        if (queue >= MinTxQueueLen)
        {
            return new Finding
            {
                Id = "txqueuelen",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = WindowMath.Digits(queue),
                Needed = WindowMath.Digits(MinTxQueueLen),
                Why = $"the queue holds {held}",
            };
        }

        return new Finding
        {
            Id = "txqueuelen",
            Scope = dev,
            Severity = Severity.Warn,
            Measured = WindowMath.Digits(queue),
            Needed = WindowMath.Digits(MinTxQueueLen),
            Why = $"the queue holds only {held}: a longer burst is dropped at the sender and the stream backs off",
            Fix = $"ip link set dev {dev} txqueuelen {MinTxQueueLen}",
        };
    }

    private static Finding Pacing(EgressPath path, IReadOnlyList<DoctorLane> lanes, HostSnapshot host)
    {
        string dev = path.Device!;
        string pace = string.Join(", ", lanes.Select(l => $"{Units.FormatByteRate(l.RateBps / 8)} for lane {l.Name}"));
        const string needed = "fq, or TCP internal pacing";
        if (path.RootQdisc is not string root)
        {
            return new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Warn,
                Measured = "unknown",
                Needed = needed,
                Why = $"could not read the root qdisc of {dev} (is tc installed?)",
            };
        }

        string measured = path.ChildQdiscs.Count == 0 ? root : $"{root}: {string.Join(' ', path.ChildQdiscs)}";
        bool fq = root == "fq" || (root is "mq" or "mqprio" && path.ChildQdiscs.Count > 0 && path.ChildQdiscs.All(k => k == "fq"));
        if (fq)
        {
            return new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = needed,
                Why = $"fq paces each lane socket at its SO_MAX_PACING_RATE ({pace})",
            };
        }

        bool fqExists = host.Fq is FqSupport.BuiltIn or FqSupport.Module;
        string fix = $"tc qdisc replace dev {dev} root fq";
        if (host.KernelAtLeast(4, 13) == false)
        {
            return new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Warn,
                Measured = measured,
                Needed = "fq",
                Why = $"the root qdisc is {root}, not fq, and this kernel is older than 4.13 (no TCP internal pacing): SO_MAX_PACING_RATE has no effect, " +
                    "so lanes send in line-rate bursts",
                Fix = fqExists ? fix : null,
            };
        }

        string why = $"the root qdisc is {root}, not fq; since Linux 4.13 TCP paces each socket itself (a high-resolution timer per socket), " +
            $"so SO_MAX_PACING_RATE still holds lanes to their rate ({pace})";
        return host.Fq switch
        {
            FqSupport.BuiltIn or FqSupport.Module => new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Warn,
                Measured = measured,
                Needed = "fq",
                Why = why + "; fq, which this kernel has, does the same with less CPU per packet",
                Fix = fix,
            },
            FqSupport.Absent => new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = needed,
                Why = why + "; this kernel has no fq (CONFIG_NET_SCH_FQ is not set), so internal pacing is the way",
            },
            _ => new Finding
            {
                Id = "pacing",
                Scope = dev,
                Severity = Severity.Ok,
                Measured = measured,
                Needed = needed,
                Why = why + $"; where the kernel has fq, '{fix}' does the same with less CPU per packet",
            },
        };
    }

    private static ulong PacketsPerSecond(ulong rateBps, int mtu)
    {
        ulong bits = (ulong)mtu * 8;
        return (rateBps + bits - 1) / bits;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
