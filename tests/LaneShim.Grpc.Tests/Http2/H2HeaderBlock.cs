// H2HeaderBlock.cs - writes response header blocks with the repo's HPACK pieces, including what our request encoder never uses (Huffman, indexing).
using System.Text;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>
/// A fluent HPACK (RFC 7541) block builder for scripted servers. <see cref="Indexing"/> adds the field to the client's
/// dynamic table (0x40 pattern), so a later block can refer to it by index 62 and up, as real servers do.
/// </summary>
internal sealed class H2HeaderBlock
{
    /// <summary>The first dynamic-table index (the newest entry).</summary>
    public const int Dynamic = HpackStaticTable.Count + 1;

    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    /// <summary>The usual gRPC response headers: :status 200 (static index 8) and content-type application/grpc.</summary>
    public static H2HeaderBlock OkHeaders(bool huffman = false) => new H2HeaderBlock()
        .Indexed(HpackStaticTable.Status200)
        .Literal("content-type", "application/grpc", huffman);

    /// <summary>OK trailers: grpc-status 0.</summary>
    public static H2HeaderBlock OkTrailers(bool huffman = false) => new H2HeaderBlock().Literal("grpc-status", "0", huffman);

    /// <summary>An indexed field (section 6.1): a static entry (1..61) or a dynamic one (62..).</summary>
    public H2HeaderBlock Indexed(int index)
    {
        Span<byte> buffer = stackalloc byte[8];
        Check(HpackInteger.TryEncode(index, 7, 0x80, buffer, out int n));
        return Raw(buffer[..n]);
    }

    /// <summary>A literal without indexing (section 6.2.2) with a literal name.</summary>
    public H2HeaderBlock Literal(string name, string value, bool huffman = false) => Field(0x00, name, value, huffman);

    /// <summary>A literal with incremental indexing (section 6.2.1): the client's table gains the field.</summary>
    public H2HeaderBlock Indexing(string name, string value, bool huffman = false) => Field(0x40, name, value, huffman);

    /// <summary>A dynamic table size update (section 6.3).</summary>
    public H2HeaderBlock TableSize(int size)
    {
        Span<byte> buffer = stackalloc byte[8];
        Check(HpackInteger.TryEncode(size, 5, 0x20, buffer, out int n));
        return Raw(buffer[..n]);
    }

    public H2HeaderBlock Raw(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    private H2HeaderBlock Field(byte pattern, string name, string value, bool huffman)
    {
        _bytes.Add(pattern); // name index 0: the name follows as a string
        String(name, huffman);
        String(value, huffman);
        return this;
    }

    private void String(string text, bool huffman)
    {
        byte[] octets = Encoding.Latin1.GetBytes(text);
        byte[] buffer = new byte[16 + (octets.Length * 4)];
        int n;
        if (huffman)
        {
            // H bit set, the length counts the encoded octets.
            Check(HpackInteger.TryEncode(HpackHuffman.GetEncodedLength(octets), 7, 0x80, buffer, out int head));
            Check(HpackHuffman.TryEncode(octets, buffer.AsSpan(head), out int body));
            n = head + body;
        }
        else
        {
            Check(HpackEncoder.TryWriteString(text, buffer, out n));
        }

        Raw(buffer.AsSpan(0, n));
    }

    private static void Check(bool written)
    {
        if (!written)
        {
            throw new InvalidOperationException("H2HeaderBlock buffer too small");
        }
    }
}
