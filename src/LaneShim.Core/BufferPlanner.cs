// BufferPlanner.cs - decides per direction whether to leave autotuning on, set the buffer, or force it past the host cap.
namespace LaneShim.Core;

/// <summary>
/// Sizes socket buffers for a bandwidth-delay product on a given host.
/// </summary>
/// <remarks>
/// The value passed to setsockopt is the BDP itself: the kernel doubles it, and the second half pays for
/// skb overhead, so the usable window is about the BDP. Rules, per direction:
/// <list type="number">
/// <item>Autotune when the program did not set the buffer itself and the autotuning ceiling
/// (tcp_wmem/tcp_rmem max, kernel-accounted) is at least 2 x BDP.</item>
/// <item>Otherwise Set max(BDP, the program's own value): the program's larger buffer is never shrunk.</item>
/// <item>Above net.core.wmem_max/rmem_max: Force when privileged, else clamp to the cap with a note.</item>
/// <item>Never above INT_MAX/2, the most the kernel accepts before doubling.</item>
/// </list>
/// </remarks>
internal static class BufferPlanner
{
    /// <summary>The largest value the kernel accepts for SO_SNDBUF/SO_RCVBUF(FORCE): INT_MAX / 2 (it doubles it into an int).</summary>
    public const long KernelMaxBytes = int.MaxValue / 2;

    /// <summary>Plans both buffers for <paramref name="needBytes"/> (the BDP).</summary>
    public static (BufferPlan Send, BufferPlan Receive) PlanBoth(long needBytes, HostLimits host, AppBuffers app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return (Plan(BufferDirection.Send, needBytes, app.Sndbuf, host), Plan(BufferDirection.Receive, needBytes, app.Rcvbuf, host));
    }

    /// <summary>Plans one buffer.</summary>
    /// <param name="direction">Send or receive.</param>
    /// <param name="needBytes">The BDP the buffer must cover.</param>
    /// <param name="appBytes">What the program passed to setsockopt for this buffer, or null when it did not.</param>
    /// <param name="host">The host's ceilings; every limit must be known (see <see cref="HostLimits.WithUnknownFrom"/>).</param>
    public static BufferPlan Plan(BufferDirection direction, long needBytes, long? appBytes, HostLimits host)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfNegative(needBytes);
        if (appBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(appBytes), appBytes, "must not be negative");
        }

        bool send = direction == BufferDirection.Send;
        string option = send ? "sndbuf" : "rcvbuf";
        string buffer = send ? "send buffer" : "receive buffer";
        long ceiling = send ? host.TcpWmemMax : host.TcpRmemMax;
        string ceilingName = send ? "net.ipv4.tcp_wmem" : "net.ipv4.tcp_rmem";
        long cap = send ? host.WmemMax : host.RmemMax;
        string capName = send ? "net.core.wmem_max" : "net.core.rmem_max";
        long kernelAccounted = needBytes > long.MaxValue / 2 ? long.MaxValue : needBytes * 2;
        var notes = new List<string>();

        if (appBytes is null && ceiling >= kernelAccounted)
        {
            return new BufferPlan(direction, BufferMode.Autotune, 0, needBytes, ceiling, false, notes);
        }

        long value = needBytes;
        bool clamped = false;
        if (appBytes is long app)
        {
            if (app > needBytes)
            {
                value = app;
                notes.Add($"program's own {option} {Units.FormatSize(app)} kept (more than the {Units.FormatSize(needBytes)} needed)");
            }
            else if (app < needBytes)
            {
                notes.Add($"program's own {option} {Units.FormatSize(app)} raised to {Units.FormatSize(needBytes)}");
            }
        }
        else
        {
            notes.Add($"{buffer} autotuning ceiling {ceilingName} max = {Units.FormatSize(ceiling)} would clamp " +
                $"(need {Units.FormatSize(kernelAccounted)} kernel-accounted); setting it instead");
        }

        if (value > KernelMaxBytes)
        {
            notes.Add($"{buffer} capped at {Units.FormatSize(KernelMaxBytes)}, the most the kernel accepts (need {Units.FormatSize(value)})");
            value = KernelMaxBytes;
            clamped = true;
        }

        BufferMode mode = BufferMode.Set;
        if (value > cap)
        {
            if (host.Privileged)
            {
                mode = BufferMode.Force;
            }
            else if (appBytes is null && cap * 2 < ceiling)
            {
                // Setting the buffer would lock it at the cap, below what autotuning reaches on its own.
                notes.Add($"{buffer} left to autotuning: its ceiling {ceilingName} max = {Units.FormatSize(ceiling)} beats setting it at {capName} = " +
                    $"{Units.FormatSize(cap)} (need {Units.FormatSize(kernelAccounted)} kernel-accounted; run as root or raise the sysctls)");
                return new BufferPlan(direction, BufferMode.Autotune, 0, needBytes, ceiling, true, notes);
            }
            else
            {
                notes.Add($"{buffer} clamped to {capName} = {Units.FormatSize(cap)} (need {Units.FormatSize(value)}; run as root or raise the sysctl)");
                value = cap;
                clamped = true;
            }
        }

        return new BufferPlan(direction, mode, value, needBytes, ceiling, clamped, notes);
    }
}
