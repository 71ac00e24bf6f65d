// HpackInteger.cs - HPACK's N-bit-prefix integers (RFC 7541 section 5.1), with the overflow checks a hostile peer needs.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// Integers with an N-bit prefix (RFC 7541 section 5.1): the value fills the low N bits of the first byte,
/// or, when it does not fit, the prefix is all ones and the rest follows in 7-bit groups, least significant first.
/// </summary>
internal static class HpackInteger
{
    // Five groups of 7 bits after the prefix cover int.MaxValue with every prefix; a sixth can only be padding or overflow.
    private const int MaxContinuationBytes = 5;

    /// <summary>
    /// Decodes the integer that starts at <paramref name="position"/> (whose low <paramref name="prefixBits"/> bits
    /// are the prefix) and moves <paramref name="position"/> past it.
    /// </summary>
    /// <exception cref="HpackException">The input ends inside the integer, it has more than 5 continuation bytes, or it exceeds int.MaxValue.</exception>
    public static int Decode(ReadOnlySpan<byte> source, ref int position, int prefixBits)
    {
        int pos = position;
        if ((uint)pos >= (uint)source.Length)
        {
            throw new HpackException("header block ends where an integer should start");
        }

        int mask = (1 << prefixBits) - 1;
        long value = source[pos++] & mask;
        if (value == mask)
        {
            int shift = 0;
            while (true)
            {
                if (pos >= source.Length)
                {
                    throw new HpackException("header block ends inside a multi-byte integer");
                }

                if (shift == 7 * MaxContinuationBytes)
                {
                    throw new HpackException($"integer has more than {MaxContinuationBytes} continuation bytes");
                }

                byte b = source[pos++];
                value += (long)(b & 0x7F) << shift;
                if (value > int.MaxValue)
                {
                    throw new HpackException("integer exceeds 2^31-1");
                }

                if ((b & 0x80) == 0)
                {
                    break;
                }

                shift += 7;
            }
        }

        position = pos;
        return (int)value;
    }

    /// <summary>
    /// Writes <paramref name="value"/> with a <paramref name="prefixBits"/>-bit prefix; the bits of
    /// <paramref name="firstByteFlags"/> above the prefix (the representation's pattern) go into the first byte.
    /// Returns false when <paramref name="destination"/> is too small.
    /// </summary>
    public static bool TryEncode(int value, int prefixBits, byte firstByteFlags, Span<byte> destination, out int bytesWritten)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixBits, 8);

        bytesWritten = 0;
        if (destination.IsEmpty)
        {
            return false;
        }

        int mask = (1 << prefixBits) - 1;
        byte flags = (byte)(firstByteFlags & ~mask);
        if (value < mask)
        {
            destination[0] = (byte)(flags | value);
            bytesWritten = 1;
            return true;
        }

        destination[0] = (byte)(flags | mask);
        int rest = value - mask;
        int written = 1;
        while (rest >= 0x80)
        {
            if (written == destination.Length)
            {
                return false;
            }

            destination[written++] = (byte)((rest & 0x7F) | 0x80);
            rest >>= 7;
        }

        if (written == destination.Length)
        {
            return false;
        }

        destination[written++] = (byte)rest;
        bytesWritten = written;
        return true;
    }
}
