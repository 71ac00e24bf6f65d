// RequestHeaderBlock.cs - the HPACK header block of one request, from what Grpc.Net.Client put on the HttpRequestMessage.
using System.Net.Http.Headers;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// Encodes request headers without touching the peer's dynamic table (static-table names, literals without indexing,
/// no Huffman), so the encoder keeps no state between calls or connections. Connection-specific fields (RFC 9113
/// section 8.2.2) are left out; <c>te: trailers</c> is the one allowed.
/// </summary>
internal static class RequestHeaderBlock
{
    /// <summary>
    /// Writes the pseudo-headers, every request and content header (names lower-cased), and <paramref name="grpcTimeout"/>
    /// when given (replacing any the request carries) into <paramref name="buffer"/>, growing it as needed; returns the length.
    /// </summary>
    public static int Build(HttpRequestMessage request, string? grpcTimeout, ref byte[] buffer)
    {
        Uri uri = request.RequestUri ?? throw new ArgumentException("the request has no URI", nameof(request));
        while (true)
        {
            int length = 0;
            Span<byte> span = buffer;
            if (HpackEncoder.TryWriteIndexed(HpackStaticTable.MethodPost, span, out int n) && Advance(ref length, n)
                && HpackEncoder.TryWriteIndexed(HpackStaticTable.SchemeHttp, span[length..], out n) && Advance(ref length, n)
                && HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, uri.PathAndQuery, span[length..], out n) && Advance(ref length, n)
                && HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Authority, uri.Authority, span[length..], out n) && Advance(ref length, n)
                && TryWriteHeaders(request.Headers, grpcTimeout is not null, span, ref length)
                && (request.Content is null || TryWriteHeaders(request.Content.Headers, grpcTimeout is not null, span, ref length))
                && (grpcTimeout is null || (HpackEncoder.TryWriteLiteralWithoutIndexing("grpc-timeout", grpcTimeout, span[length..], out n) && Advance(ref length, n))))
            {
                return length;
            }

            buffer = new byte[buffer.Length * 2];
        }
    }

    private static bool TryWriteHeaders(HttpHeaders headers, bool skipTimeout, Span<byte> span, ref int length)
    {
        foreach (KeyValuePair<string, HeaderStringValues> header in headers.NonValidated)
        {
            string name = header.Key.ToLowerInvariant();
            if (name is "host" or "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade"
                || (skipTimeout && name == "grpc-timeout"))
            {
                continue;
            }

            foreach (string value in header.Value)
            {
                if (!HpackEncoder.TryWriteLiteralWithoutIndexing(name, value, span[length..], out int n))
                {
                    return false;
                }

                length += n;
            }
        }

        return true;
    }

    private static bool Advance(ref int length, int n)
    {
        length += n;
        return true;
    }
}
