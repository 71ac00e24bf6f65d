// GrpcFraming.cs - gRPC length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian length, then the protobuf bytes.
using System.Buffers.Binary;
using Google.Protobuf;

namespace LaneShim.Grpc;

/// <summary>
/// Encodes and decodes the gRPC length-prefixed message (gRPC over HTTP/2, "Length-Prefixed-Message").
/// A unary body carries exactly one; anything else is an error reported as a <see cref="GrpcException"/>.
/// Compression is not supported: a compressed message fails with <see cref="GrpcStatusCode.Internal"/>
/// (no <c>grpc-encoding</c>) or <see cref="GrpcStatusCode.Unimplemented"/> (an encoding we do not speak).
/// </summary>
public static class GrpcFraming
{
    /// <summary>Bytes before the message: flag and length.</summary>
    public const int HeaderLength = 5;

    /// <summary>The default limit on a received message, as in other gRPC implementations.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Encodes one message into a new frame.</summary>
    public static byte[] Encode(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int size = message.CalculateSize();
        byte[] frame = new byte[HeaderLength + size];
        frame[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)size);
        message.WriteTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    /// <summary>Decodes a buffer that must hold exactly one frame, and parses its message.</summary>
    /// <exception cref="GrpcException">Truncated or trailing bytes, an unsupported compressed message or a parse failure
    /// (<see cref="GrpcStatusCode.Internal"/>), or a message over <paramref name="maxMessageSize"/> (<see cref="GrpcStatusCode.ResourceExhausted"/>).</exception>
    public static T Decode<T>(ReadOnlySpan<byte> buffer, MessageParser<T> parser, int maxMessageSize = DefaultMaxMessageSize, string? grpcEncoding = null)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return ParseMessage(DecodePayload(buffer, maxMessageSize, grpcEncoding), parser);
    }

    /// <summary>Checks a buffer that must hold exactly one frame and returns the message bytes inside it.</summary>
    /// <exception cref="GrpcException">As for <see cref="Decode{T}"/>, except parsing.</exception>
    public static ReadOnlySpan<byte> DecodePayload(ReadOnlySpan<byte> buffer, int maxMessageSize = DefaultMaxMessageSize, string? grpcEncoding = null)
    {
        if (buffer.Length < HeaderLength)
        {
            throw new GrpcException(GrpcStatusCode.Internal, buffer.IsEmpty
                ? "no message: the body is empty"
                : $"truncated message: {buffer.Length} bytes, fewer than the {HeaderLength}-byte frame header");
        }

        int length = ReadHeader(buffer[..HeaderLength], maxMessageSize, grpcEncoding);
        long available = buffer.Length - HeaderLength;
        if (available < length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"truncated message: header says {length} bytes, {available} arrived");
        }

        if (available > length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"{available - length} unexpected bytes after the message; a unary body holds exactly one");
        }

        return buffer.Slice(HeaderLength, length);
    }

    /// <summary>Parses message bytes, mapping a protobuf failure to <see cref="GrpcStatusCode.Internal"/>.</summary>
    public static T ParseMessage<T>(ReadOnlySpan<byte> payload, MessageParser<T> parser)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"failed to parse the message: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the single frame of a unary body from <paramref name="stream"/> through to its end.
    /// Returns null when the body is empty (a status-only answer). An oversized frame fails as soon as its header
    /// arrives, without reading the rest.
    /// </summary>
    /// <exception cref="GrpcException">Framing errors as for <see cref="DecodePayload"/>.</exception>
    public static async Task<byte[]?> ReadSingleMessageAsync(Stream stream, int maxMessageSize, string? grpcEncoding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = new byte[HeaderLength];
        int got = await ReadAtMostAsync(stream, header, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < HeaderLength)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"truncated message: the body ended after {got} bytes of the {HeaderLength}-byte frame header");
        }

        int length = ReadHeader(header, maxMessageSize, grpcEncoding);
        byte[] payload = length == 0 ? [] : new byte[length];
        got = await ReadAtMostAsync(stream, payload, cancellationToken).ConfigureAwait(false);
        if (got < length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"truncated message: header says {length} bytes, {got} arrived");
        }

        // Reading to the end also lets HTTP trailers arrive; anything more is a second message.
        int extra = await stream.ReadAsync(header.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
        if (extra != 0)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "unexpected bytes after the message; a unary body holds exactly one");
        }

        return payload;
    }

    /// <summary>Checks a 5-byte frame header (compressed flag, length within <paramref name="maxMessageSize"/>) and returns the length.</summary>
    /// <exception cref="GrpcException">INTERNAL or UNIMPLEMENTED for a flag we cannot decode, RESOURCE_EXHAUSTED for a length past the limit.</exception>
    public static int ReadHeader(ReadOnlySpan<byte> header, int maxMessageSize, string? grpcEncoding)
    {
        byte flag = header[0];
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..HeaderLength]);
        if (flag > 1)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"invalid compressed flag {flag} in the frame header");
        }

        if (flag == 1)
        {
            bool identity = string.IsNullOrEmpty(grpcEncoding) || string.Equals(grpcEncoding, "identity", StringComparison.OrdinalIgnoreCase);
            throw identity
                ? new GrpcException(GrpcStatusCode.Internal, "compressed flag set but no grpc-encoding was given")
                : new GrpcException(GrpcStatusCode.Unimplemented, $"compression '{grpcEncoding}' is not supported; only identity");
        }

        if (length > (uint)Math.Max(0, maxMessageSize))
        {
            throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"message of {length} bytes exceeds the limit of {maxMessageSize} bytes");
        }

        return (int)length;
    }

    private static async ValueTask<int> ReadAtMostAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
