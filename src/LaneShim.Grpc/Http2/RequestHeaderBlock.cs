// RequestHeaderBlock.cs - the HPACK header block of a unary gRPC request: fixed per method, plus the call's grpc-timeout.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// Encodes request headers without touching the peer's dynamic table (static-table names, literals without indexing,
/// no Huffman), so a block is built once per method and reused on every connection.
/// </summary>
internal static class RequestHeaderBlock
{
    /// <summary>Room <see cref="WithTimeout"/> needs beyond the fixed part.</summary>
    public const int TimeoutRoom = 32;

    /// <summary>The fixed part: :method POST, :scheme http, :path, :authority, content-type, te, user-agent.</summary>
    public static byte[] Build(string path, string authority, string userAgent)
    {
        byte[] buffer = new byte[64 + (2 * (path.Length + authority.Length + userAgent.Length))];
        int length = 0;
        Append(HpackEncoder.TryWriteIndexed(HpackStaticTable.MethodPost, buffer.AsSpan(length), out int n), n, ref length);
        Append(HpackEncoder.TryWriteIndexed(HpackStaticTable.SchemeHttp, buffer.AsSpan(length), out n), n, ref length);
        Append(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, path, buffer.AsSpan(length), out n), n, ref length);
        Append(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Authority, authority, buffer.AsSpan(length), out n), n, ref length);
        Append(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.ContentType, "application/grpc", buffer.AsSpan(length), out n), n, ref length);
        Append(HpackEncoder.TryWriteLiteralWithoutIndexing("te", "trailers", buffer.AsSpan(length), out n), n, ref length);
        Append(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.UserAgent, userAgent, buffer.AsSpan(length), out n), n, ref length);
        return buffer[..length];
    }

    /// <summary>
    /// Writes the fixed part and, when given, grpc-timeout (at most 8 digits and a unit) into <paramref name="destination"/>,
    /// which has <see cref="TimeoutRoom"/> bytes more than the fixed part; returns the length.
    /// </summary>
    public static int WithTimeout(byte[] fixedPart, string? timeout, Span<byte> destination)
    {
        fixedPart.CopyTo(destination);
        int length = fixedPart.Length;
        if (timeout is not null)
        {
            Append(HpackEncoder.TryWriteLiteralWithoutIndexing("grpc-timeout", timeout, destination[length..], out int n), n, ref length);
        }

        return length;
    }

    private static void Append(bool written, int bytes, ref int length)
    {
        if (!written)
        {
            throw new InvalidOperationException("request header block buffer too small");
        }

        length += bytes;
    }
}
