// WindowMath.cs - the arithmetic phrases findings share: what a window carries per RTT, in words.
using System.Globalization;

namespace LaneShim.Core.Doctor;

/// <summary>Throughput of a window, and the words that show the sum.</summary>
internal static class WindowMath
{
    /// <summary>The largest window without scaling: 65,535 bytes.</summary>
    public const long UnscaledMaxWindow = 65_535;

    /// <summary>What a window carries per RTT, bits/s, never more than <paramref name="capBps"/>.</summary>
    public static ulong TopsOut(long windowBytes, TimeSpan rtt, ulong capBps = ulong.MaxValue) =>
        rtt <= TimeSpan.Zero ? capBps : Math.Min(capBps, Bdp.ThroughputBitsPerSecond(Math.Max(0, windowBytes), rtt));

    /// <summary>"about 839 Mbit/s (4 MiB x 8 / 40 ms)".</summary>
    public static string AboutRate(long windowBytes, TimeSpan rtt) =>
        $"about {Units.FormatRate(TopsOut(windowBytes, rtt))} ({Units.FormatSize(windowBytes)} x 8 / {Units.FormatDuration(rtt)})";

    /// <summary>A count with thousands separators: 65,535.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A count with thousands separators.</summary>
    public static string Count(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Plain digits for sysctl values: 10000000.</summary>
    public static string Digits(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Division rounded up, for "needed" values.</summary>
    public static long CeilDiv(long numerator, long denominator) =>
        (long)(((Int128)numerator + denominator - 1) / denominator);
}
