// H2Frame.cs - one HTTP/2 frame a scripted server received from the client, as recorded for assertions.
namespace LaneShim.Grpc.Tests.Http2;

/// <summary>A frame from the client: which connection (0-based, in accept order) it came on, its header fields and payload.</summary>
internal sealed record H2Frame(int Connection, byte Type, byte Flags, int Stream, byte[] Payload)
{
    public const byte Data = 0x0;
    public const byte Headers = 0x1;
    public const byte RstStream = 0x3;
    public const byte Settings = 0x4;
    public const byte Ping = 0x6;
    public const byte GoAway = 0x7;
    public const byte WindowUpdate = 0x8;
    public const byte Continuation = 0x9;

    /// <summary>The 32-bit big-endian value at the start of the payload (RST_STREAM's error code, WINDOW_UPDATE's increment).</summary>
    public uint FirstWord => Payload.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Payload) & (Type == WindowUpdate ? 0x7FFFFFFFu : uint.MaxValue) : 0;

    public bool HasFlag(byte flag) => (Flags & flag) != 0;

    public override string ToString() => $"conn {Connection} type 0x{Type:X} flags 0x{Flags:X} stream {Stream} length {Payload.Length}";
}
