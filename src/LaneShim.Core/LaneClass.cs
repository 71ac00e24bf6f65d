// LaneClass.cs - a named kind of lane: its rate, RTT, congestion control, marking and lease length.
namespace LaneShim.Core;

/// <summary>
/// A lane class from the policy: what a flow granted this class gets.
/// </summary>
/// <remarks>
/// Pacing is always the granted rate (<see cref="RateBps"/> / 8 bytes per second via SO_MAX_PACING_RATE).
/// <see cref="NotsentLowat"/> defaults to 0 (leave the kernel's setting): lanes are for bulk throughput, and a small
/// TCP_NOTSENT_LOWAT trades throughput for latency on fast paths, so it is opt-in per class.
/// </remarks>
public sealed record LaneClass
{
    /// <summary>The fallback RTT of a learning class when the policy names none.</summary>
    public static readonly TimeSpan DefaultFallbackRtt = TimeSpan.FromMilliseconds(100);

    /// <summary>The lease length when the policy names none.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    /// <summary>The class name, as rules refer to it.</summary>
    public required string Name { get; init; }

    /// <summary>The granted rate, bits per second; also the pacing rate.</summary>
    public required ulong RateBps { get; init; }

    /// <summary>Fixed RTT, or learn per destination.</summary>
    public RttMode RttMode { get; init; } = RttMode.Fixed;

    /// <summary>The fixed RTT (<see cref="RttMode.Fixed"/>) or the fallback until a sample exists (<see cref="RttMode.Learn"/>).</summary>
    public TimeSpan Rtt { get; init; } = DefaultFallbackRtt;

    /// <summary>TCP congestion control (TCP_CONGESTION); empty leaves the system default.</summary>
    public string Congestion { get; init; } = string.Empty;

    /// <summary>DSCP code point, 0-63 (IP_TOS/IPV6_TCLASS carry it shifted left by 2).</summary>
    public int Dscp { get; init; }

    /// <summary>SO_MARK for policy routing; 0 none. Applied only on privileged hosts.</summary>
    public uint Mark { get; init; }

    /// <summary>
    /// SO_PRIORITY (0 leaves the kernel's). Values above 6 need CAP_NET_ADMIN; the broker applies those itself
    /// on a socket it has proven belongs to the caller.
    /// </summary>
    public int Priority { get; init; }

    /// <summary>Bulk receivers: listening sockets of this class get their receive buffer before listen().</summary>
    public bool Bulk { get; init; }

    /// <summary>TCP_NOTSENT_LOWAT in bytes; 0 leaves the kernel's setting.</summary>
    public long NotsentLowat { get; init; }

    /// <summary>Lease length; agents renew before it runs out.</summary>
    public TimeSpan Ttl { get; init; } = DefaultTtl;

    /// <summary>The lowest rate a counter-offer makes when the class has less than asked free.</summary>
    public static readonly ulong DefaultMinRateBps = 1_000_000;

    /// <summary>
    /// Total rate all live leases of this class may hold at once, bits per second; 0 is unbounded. It acts as a
    /// virtual link every lease of the class crosses, so admission works on a host without a topology.
    /// </summary>
    public ulong CapacityBps { get; init; }

    /// <summary>The lowest rate worth granting: a counter-offer below it is not made.</summary>
    public ulong MinRateBps { get; init; } = DefaultMinRateBps;

    /// <summary>Pacing rate in bytes per second: the granted rate.</summary>
    public ulong PacingBytesPerSecond => RateBps / 8;

    /// <summary>The longest RTT (fixed or fallback) a class may name.</summary>
    public static TimeSpan MaxRtt { get; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest SO_PRIORITY a class may name (TC_PRIO_MAX).</summary>
    public const int MaxPriority = 15;

    /// <summary>The largest SO_PRIORITY a program may set without CAP_NET_ADMIN (TC_PRIO_INTERACTIVE).</summary>
    public const int MaxUnprivilegedPriority = 6;

    /// <summary>The shortest lease.</summary>
    public static TimeSpan MinTtl { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest lease.</summary>
    public static TimeSpan MaxTtl { get; } = TimeSpan.FromDays(1);

    /// <summary>Letters, digits, '_', '-', '.'; starting with a letter or digit; at most 64 characters.</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 64 && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    /// <summary>A kernel congestion control name: lower-case letters, digits and '_', at most 15 (TCP_CA_NAME_MAX is 16 with the NUL).</summary>
    public static bool IsValidCongestionName(string name) =>
        name.Length is >= 1 and <= 15 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    /// <summary>The first thing wrong with this class, in words, or null when it is usable.</summary>
    public string? Validate()
    {
        string rttName = RttMode == RttMode.Learn ? "fallback rtt" : "rtt";
        return this switch
        {
            _ when !IsValidName(Name) => $"bad class name '{Name}' (letters, digits, '_', '-', '.'; starting with a letter or digit; at most 64)",
            { RateBps: 0 } => "rate must be more than 0",
            _ when Rtt <= TimeSpan.Zero || Rtt > MaxRtt => $"{rttName} {Units.FormatDuration(Rtt)} is out of range (more than 0, at most 10 s)",
            { Dscp: < 0 or > 63 } => $"dscp {Dscp} is not 0-63",
            { Priority: < 0 or > MaxPriority } => $"priority {Priority} is not 0-{MaxPriority}",
            _ when Congestion.Length > 0 && !IsValidCongestionName(Congestion) =>
                $"bad cc '{Congestion}' (a kernel congestion control name such as cubic or bbr, at most 15 characters)",
            { NotsentLowat: < 0 or > uint.MaxValue } => $"notsent_lowat {NotsentLowat} is out of range (0 to {uint.MaxValue})",
            _ when Ttl < MinTtl || Ttl > MaxTtl => $"ttl {Units.FormatDuration(Ttl)} is out of range (1 s to 1 d)",
            { MinRateBps: 0 } => "min_rate must be more than 0",
            { CapacityBps: > 0 } when CapacityBps < MinRateBps =>
                $"capacity {Units.FormatRate(CapacityBps)} is below min_rate {Units.FormatRate(MinRateBps)}: no lane could ever be granted",
            _ => null,
        };
    }
}
