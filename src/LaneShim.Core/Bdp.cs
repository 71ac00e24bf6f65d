// Bdp.cs - the bandwidth-delay product: how many bytes a path holds in flight, and what a window allows.
namespace LaneShim.Core;

/// <summary>
/// Bandwidth-delay product arithmetic in exact integer math (128-bit intermediates, no floating point),
/// so 1 Gbit/s x 40 ms is exactly 5,000,000 bytes.
/// </summary>
public static class Bdp
{
    private const ulong BitTicksPerByteSecond = 8UL * TimeSpan.TicksPerSecond;

    /// <summary>
    /// Bytes in flight on a path of <paramref name="rateBitsPerSecond"/> and <paramref name="rtt"/>:
    /// rate x RTT / 8, rounded up (a buffer one byte short still caps the rate). Saturates at <see cref="long.MaxValue"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The RTT is negative.</exception>
    public static long Bytes(ulong rateBitsPerSecond, TimeSpan rtt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rtt, TimeSpan.Zero);
        UInt128 bitTicks = (UInt128)rateBitsPerSecond * (ulong)rtt.Ticks;
        UInt128 bytes = (bitTicks + BitTicksPerByteSecond - 1) / BitTicksPerByteSecond;
        return bytes > long.MaxValue ? long.MaxValue : (long)bytes;
    }

    /// <summary>
    /// The most a window of <paramref name="windowBytes"/> can carry per RTT, in bits per second, rounded down:
    /// window x 8 / RTT. A 64 KiB window at 40 ms gives 13,107,200 bit/s (about 13.1 Mbit/s).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The window is negative or the RTT is not positive.</exception>
    public static ulong ThroughputBitsPerSecond(long windowBytes, TimeSpan rtt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(windowBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rtt, TimeSpan.Zero);
        UInt128 bits = (UInt128)(ulong)windowBytes * BitTicksPerByteSecond / (ulong)rtt.Ticks;
        return bits > ulong.MaxValue ? ulong.MaxValue : (ulong)bits;
    }
}
