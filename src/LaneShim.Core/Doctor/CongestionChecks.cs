// CongestionChecks.cs - per lane: is the lane's congestion control available, and may an unprivileged program set it?
namespace LaneShim.Core.Doctor;

/// <summary>Available vs allowed vs default congestion control, for one lane.</summary>
internal static class CongestionChecks
{
    /// <summary>The congestion-control finding for <paramref name="lane"/>.</summary>
    public static Finding Check(DoctorLane lane, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(lane);
        ArgumentNullException.ThrowIfNull(host);
        const string id = "congestion-control";
        string scope = $"lane {lane.Name}";
        string[] available = host.GetWords(SysctlKeys.TcpAvailableCongestionControl);
        string[] allowed = host.GetWords(SysctlKeys.TcpAllowedCongestionControl);
        string byDefault = host.Get(SysctlKeys.TcpCongestionControl) ?? "unknown";
        string availableText = available.Length > 0 ? string.Join(' ', available) : "unknown";
        string allowedText = allowed.Length > 0 ? string.Join(' ', allowed) : "unknown";
        string cc = lane.Congestion;

        if (cc.Length == 0)
        {
            return new Finding
            {
                Id = id,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = byDefault,
                Needed = "default",
                Why = $"the lane leaves congestion control at the system default, {byDefault} " +
                    $"(available: {availableText}; unprivileged programs may choose: {allowedText})",
            };
        }

        if (available.Length == 0)
        {
            return new Finding
            {
                Id = id,
                Scope = scope,
                Severity = Severity.Warn,
                Measured = "unknown",
                Needed = cc,
                Why = $"could not read {SysctlKeys.TcpAvailableCongestionControl}, so whether {cc} exists is unknown",
            };
        }

        if (!available.Contains(cc, StringComparer.Ordinal))
        {
            return new Finding
            {
                Id = id,
                Scope = scope,
                Severity = Severity.Warn,
                Measured = availableText,
                Needed = cc,
                Why = $"{cc} is not in tcp_available_congestion_control ({availableText}): LaneShim leaves the lane at the default, {byDefault}; " +
                    $"if the kernel has {cc} as a module, loading it makes it available",
                Fix = $"modprobe tcp_{cc}",
            };
        }

        if (cc == byDefault || allowed.Contains(cc, StringComparer.Ordinal))
        {
            return new Finding
            {
                Id = id,
                Scope = scope,
                Severity = Severity.Ok,
                Measured = allowedText,
                Needed = cc,
                Why = cc == byDefault
                    ? $"{cc} is the system default, so every program gets it"
                    : $"{cc} is available and unprivileged programs may set it (tcp_allowed_congestion_control = {allowedText}; the default is {byDefault})",
            };
        }

        var change = new SysctlChange(SysctlKeys.TcpAllowedCongestionControl, string.Join(' ', allowed.Append(cc)));
        return new Finding
        {
            Id = id,
            Scope = scope,
            Severity = Severity.Warn,
            Measured = allowedText,
            Needed = change.Value,
            Why = $"{cc} is available but not in tcp_allowed_congestion_control ({allowedText}): setsockopt(TCP_CONGESTION) fails with EPERM " +
                $"for programs without CAP_NET_ADMIN, so their lane sockets keep the default, {byDefault}" +
                BufferChecks.ReadOnlyNote(host, SysctlKeys.TcpAllowedCongestionControl),
            Fix = change.Command,
            Change = change,
        };
    }
}
