// ReceiveWindowShare.cs - how much of a receive buffer the kernel offers as window: 1/2, or tcp_adv_win_scale's share before 6.6.
using System.Globalization;

namespace LaneShim.Core.Doctor;

/// <summary>
/// The share of a receive buffer that is offered to the peer as window. Before Linux 6.6 it came from
/// tcp_adv_win_scale (n &gt; 0: 1 - 1/2^n; n &lt;= 0: 1/2^-n); since 6.6 the kernel measures each socket's
/// overhead itself, and LaneShim (like the kernel's defaults) counts on half.
/// </summary>
/// <param name="Numerator">Share numerator.</param>
/// <param name="Denominator">Share denominator, a power of two.</param>
/// <param name="FromSysctl">True when tcp_adv_win_scale decides it (a kernel before 6.6).</param>
internal readonly record struct ReceiveWindowShare(long Numerator, long Denominator, bool FromSysctl)
{
    /// <summary>Half: what buffer sizing assumes.</summary>
    public static ReceiveWindowShare Half { get; } = new(1, 2, false);

    /// <summary>The share on <paramref name="host"/>.</summary>
    public static ReceiveWindowShare For(HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.KernelAtLeast(6, 6) != false || host.GetLong(SysctlKeys.TcpAdvWinScale) is not long scale)
        {
            return Half;
        }

        int n = (int)Math.Clamp(scale, -30, 30);
        return n > 0 ? new((1L << n) - 1, 1L << n, true) : new(1, 1L << -n, true);
    }

    /// <summary>True when the share is less than half, which LaneShim's sizing assumes.</summary>
    public bool LessThanHalf => Numerator * 2 < Denominator;

    /// <summary>The window a buffer of <paramref name="bufferBytes"/> (kernel-accounted) offers, rounded down.</summary>
    public long WindowOf(long bufferBytes) => (long)((Int128)bufferBytes * Numerator / Denominator);

    /// <summary>The kernel-accounted buffer that offers <paramref name="windowBytes"/>, rounded up.</summary>
    public long BufferFor(long windowBytes) => (long)(((Int128)windowBytes * Denominator + Numerator - 1) / Numerator);

    /// <summary>"half", "3/4", "1/4".</summary>
    public string Describe() => Numerator * 2 == Denominator
        ? "half"
        : Numerator == Denominator ? "all" : string.Create(CultureInfo.InvariantCulture, $"{Numerator}/{Denominator}");
}
