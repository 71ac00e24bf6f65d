// Http2FrameFlags.cs - the frame flag bits of RFC 9113 the unary client uses.
namespace LaneShim.Grpc.Http2;

/// <summary>Flag bits of an HTTP/2 frame header (their meaning depends on the frame type).</summary>
internal static class Http2FrameFlags
{
    /// <summary>DATA, HEADERS: the last frame the sender sends on this stream.</summary>
    public const byte EndStream = 0x1;

    /// <summary>SETTINGS, PING: an acknowledgement.</summary>
    public const byte Ack = 0x1;

    /// <summary>HEADERS, CONTINUATION: the header block is complete.</summary>
    public const byte EndHeaders = 0x4;

    /// <summary>DATA, HEADERS: a pad length byte leads the payload and padding ends it.</summary>
    public const byte Padded = 0x8;

    /// <summary>HEADERS: 5 bytes of priority information follow the pad length.</summary>
    public const byte Priority = 0x20;
}
