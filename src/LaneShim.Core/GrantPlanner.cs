// GrantPlanner.cs - turns a lane class, an RTT and the host's limits into the settings a grant carries.
using System.Globalization;
using System.Text;

namespace LaneShim.Core;

/// <summary>Computes a <see cref="GrantPlan"/>: BDP, buffer plans, congestion control, pacing, marking, and the reason.</summary>
public static class GrantPlanner
{
    /// <summary>TCP's largest window: 65535 shifted by the maximum window scale of 14 (RFC 7323).</summary>
    public const long MaxTcpWindowBytes = 65_535L << 14;

    /// <summary>Plans the settings for one flow.</summary>
    /// <param name="laneClass">The granted class.</param>
    /// <param name="rtt">The RTT to size for (the class's fixed RTT, a learned one, or the fallback).</param>
    /// <param name="host">The host's limits, every one known.</param>
    /// <param name="app">What the program set itself.</param>
    public static GrantPlan Plan(LaneClass laneClass, RttChoice rtt, HostLimits host, AppBuffers app)
    {
        ArgumentNullException.ThrowIfNull(laneClass);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(app);

        long bdp = Bdp.Bytes(laneClass.RateBps, rtt.Rtt);
        (BufferPlan send, BufferPlan receive) = BufferPlanner.PlanBoth(bdp, host, app);
        var notes = new List<string>(send.Notes);
        notes.AddRange(receive.Notes);
        // The doctor's arithmetic, so a clamped grant says what the clamp costs and how to lift it.
        foreach (BufferPlan plan in new[] { send, receive })
        {
            if (Doctor.BufferChecks.ExplainClamp(plan, laneClass.RateBps, rtt, host) is string why)
            {
                notes.Add(why);
            }
        }

        if (bdp > MaxTcpWindowBytes)
        {
            notes.Add($"BDP {Units.FormatSize(bdp)} exceeds TCP's largest window ({Units.FormatSize(MaxTcpWindowBytes)}); " +
                "one flow cannot fill this lane, use parallel streams");
        }

        string congestion = laneClass.Congestion;
        if (congestion.Length > 0 && !host.CongestionAvailable.Contains(congestion, StringComparer.Ordinal))
        {
            string offered = host.CongestionAvailable.Count == 0 ? "none reported" : "has " + string.Join(", ", host.CongestionAvailable);
            notes.Add($"cc {congestion} not available on this host ({offered}); left at the system default");
            congestion = string.Empty;
        }

        uint mark = laneClass.Mark;
        if (mark != 0 && !host.Privileged)
        {
            notes.Add($"mark 0x{mark.ToString("x", CultureInfo.InvariantCulture)} not applied: SO_MARK needs CAP_NET_ADMIN");
            mark = 0;
        }

        int priority = laneClass.Priority;
        if (priority > LaneClass.MaxUnprivilegedPriority && !host.Privileged)
        {
            notes.Add($"priority {priority} not applied: SO_PRIORITY above {LaneClass.MaxUnprivilegedPriority} needs CAP_NET_ADMIN");
            priority = 0;
        }

        ulong pacing = laneClass.PacingBytesPerSecond;
        var reason = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"class {laneClass.Name}: {Units.FormatRate(laneClass.RateBps)} x {rtt.Describe()}")
            .Append(CultureInfo.InvariantCulture, $" = {Units.FormatSize(bdp)} BDP; {send.Describe()}; {receive.Describe()}")
            .Append(CultureInfo.InvariantCulture, $"; cc {(congestion.Length > 0 ? congestion : "default")}")
            .Append(CultureInfo.InvariantCulture, $"; pacing {Units.FormatByteRate(pacing)}");
        if (laneClass.Dscp != 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; dscp {laneClass.Dscp}");
        }

        if (mark != 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; mark 0x{mark:x}");
        }

        if (priority != 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; priority {priority}");
        }

        if (laneClass.NotsentLowat > 0)
        {
            reason.Append(CultureInfo.InvariantCulture, $"; notsent_lowat {Units.FormatSize(laneClass.NotsentLowat)}");
        }

        if (laneClass.Bulk)
        {
            reason.Append("; bulk");
        }

        foreach (string note in notes)
        {
            reason.Append("; note: ").Append(note);
        }

        return new GrantPlan
        {
            ClassName = laneClass.Name,
            RateBps = laneClass.RateBps,
            Rtt = rtt,
            BdpBytes = bdp,
            Send = send,
            Receive = receive,
            Congestion = congestion,
            PacingBytesPerSecond = pacing,
            Dscp = laneClass.Dscp,
            Mark = mark,
            Priority = priority,
            NotsentLowat = laneClass.NotsentLowat,
            Bulk = laneClass.Bulk,
            Notes = notes,
            Reason = reason.ToString(),
        };
    }
}
