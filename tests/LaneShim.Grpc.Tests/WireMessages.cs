// WireMessages.cs - what the scripted HTTP/2 servers put on the wire: length-prefixed messages and percent-encoded grpc-message.
using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;

namespace LaneShim.Grpc.Tests;

/// <summary>The test servers' side of gRPC message framing (the product leaves framing to Grpc.Net.Client and Grpc.AspNetCore).</summary>
internal static class GrpcFraming
{
    /// <summary>One uncompressed message with its 5-byte prefix.</summary>
    public static byte[] Encode(IMessage message)
    {
        byte[] frame = new byte[5 + message.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(frame.Length - 5));
        message.WriteTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>The message of one uncompressed frame.</summary>
    public static T Decode<T>(ReadOnlySpan<byte> buffer, MessageParser<T> parser)
        where T : IMessage<T>
    {
        Assert.IsGreaterThanOrEqualTo(5, buffer.Length, "a gRPC message needs its 5-byte prefix");
        Assert.AreEqual(0, buffer[0], "compressed flag");
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer[1..]);
        Assert.AreEqual(buffer.Length - 5, length, "the prefix's length");
        return parser.ParseFrom(buffer[5..]);
    }
}

/// <summary>grpc-message as the spec writes it: percent-encoding outside printable ASCII and '%'.</summary>
internal static class GrpcStatusMessage
{
    public static string Encode(string message)
    {
        var text = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            text.Append(b is >= 0x20 and <= 0x7E and not (byte)'%' ? ((char)b).ToString() : $"%{b:X2}");
        }

        return text.ToString();
    }
}
