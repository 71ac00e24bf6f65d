// HpackException.cs - a header block that is not valid HPACK, or that breaks one of the decoder's limits.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// A malformed or over-limit HPACK header block (RFC 7541). On a connection this is a COMPRESSION_ERROR
/// (RFC 9113 section 4.3): the decoder's dynamic table may no longer match the peer's, so the connection must be closed.
/// It is the only exception the HPACK decoding paths throw for bad input.
/// </summary>
internal sealed class HpackException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> says what is wrong with the block.</summary>
    public HpackException(string message)
        : base(message)
    {
    }
}
