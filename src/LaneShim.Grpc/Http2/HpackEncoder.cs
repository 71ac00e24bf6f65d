// HpackEncoder.cs - writes the few HPACK representations a gRPC request needs, without touching any dynamic table.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// Writes request header fields as HPACK (RFC 7541) without ever adding to the peer's dynamic table: static-table
/// indexed fields and literals without indexing, strings raw (no Huffman). That keeps the encoder stateless, so a
/// client can build a method's header block once and send it on any connection.
/// </summary>
/// <remarks>
/// Each method returns false, having written nothing usable, when <c>destination</c> is too small; the caller
/// grows its buffer and tries again. Names and values are Latin-1: a char above U+00FF, an upper-case or empty name,
/// or NUL, CR or LF anywhere are caller bugs and throw <see cref="ArgumentException"/>.
/// </remarks>
internal static class HpackEncoder
{
    /// <summary>Writes an indexed field (section 6.1) for a static-table entry, e.g. <see cref="HpackStaticTable.MethodPost"/>.</summary>
    public static bool TryWriteIndexed(int staticIndex, Span<byte> destination, out int bytesWritten)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(staticIndex, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(staticIndex, HpackStaticTable.Count);
        return HpackInteger.TryEncode(staticIndex, 7, 0x80, destination, out bytesWritten);
    }

    /// <summary>
    /// Writes a literal without indexing (section 6.2.2) whose name is static-table entry <paramref name="nameIndex"/>,
    /// e.g. <see cref="HpackStaticTable.Path"/> with the method's path.
    /// </summary>
    public static bool TryWriteLiteralWithoutIndexing(int nameIndex, string value, Span<byte> destination, out int bytesWritten)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nameIndex, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nameIndex, HpackStaticTable.Count);
        ArgumentNullException.ThrowIfNull(value);
        CheckValue(value);
        bytesWritten = 0;
        if (!HpackInteger.TryEncode(nameIndex, 4, 0x00, destination, out int head)
            || !TryWriteString(value, destination[head..], out int valueLength))
        {
            return false;
        }

        bytesWritten = head + valueLength;
        return true;
    }

    /// <summary>Writes a literal without indexing (section 6.2.2) with a literal name, e.g. <c>te: trailers</c>.</summary>
    public static bool TryWriteLiteralWithoutIndexing(string name, string value, Span<byte> destination, out int bytesWritten)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        CheckValue(value);
        bytesWritten = 0;
        if (destination.IsEmpty)
        {
            return false;
        }

        destination[0] = 0x00; // 0000 pattern, name index 0: the name follows
        if (!TryWriteString(name, destination[1..], out int nameLength)
            || !TryWriteString(value, destination[(1 + nameLength)..], out int valueLength))
        {
            return false;
        }

        bytesWritten = 1 + nameLength + valueLength;
        return true;
    }

    /// <summary>Writes a string literal (section 5.2) raw, H = 0: the length with a 7-bit prefix, then one octet per char.</summary>
    public static bool TryWriteString(string value, Span<byte> destination, out int bytesWritten)
    {
        ArgumentNullException.ThrowIfNull(value);
        bytesWritten = 0;
        if (!HpackInteger.TryEncode(value.Length, 7, 0x00, destination, out int head)
            || destination.Length - head < value.Length)
        {
            return false;
        }

        Span<byte> octets = destination.Slice(head, value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c > '\u00FF')
            {
                throw new ArgumentException($"char U+{(int)c:X4} at {i} is not Latin-1; HPACK strings here are one octet per char", nameof(value));
            }

            octets[i] = (byte)c;
        }

        bytesWritten = head + value.Length;
        return true;
    }

    private static void CheckName(string name)
    {
        // The decoder on the other side rejects these (RFC 9113 section 8.2.1); failing here points at the caller.
        if (name.Length == 0)
        {
            throw new ArgumentException("a header name cannot be empty", nameof(name));
        }

        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c <= ' ' || c >= '\u007F' || c is >= 'A' and <= 'Z' || (c == ':' && i > 0))
            {
                throw new ArgumentException($"header name '{name}' has '{c}' at {i}; HTTP/2 names are lower-case ASCII tokens", nameof(name));
            }
        }
    }

    private static void CheckValue(string value)
    {
        int bad = value.AsSpan().IndexOfAny('\0', '\r', '\n');
        if (bad >= 0)
        {
            throw new ArgumentException($"header value has U+{(int)value[bad]:X4} at {bad}, which HTTP/2 forbids", nameof(value));
        }
    }
}
