// GrpcFraming.cs - the fake broker's side of gRPC message framing: a 5-byte prefix (compressed flag, length) and the message.
using System.Buffers.Binary;
using Google.Protobuf;

namespace LaneShim.Fuzz;

/// <summary>Frames the fuzzer's answers; the product leaves framing to Grpc.Net.Client.</summary>
internal static class GrpcFraming
{
    /// <summary>The prefix's length.</summary>
    public const int HeaderLength = 5;

    /// <summary>One uncompressed message with its prefix.</summary>
    public static byte[] Encode(IMessage message)
    {
        byte[] frame = new byte[HeaderLength + message.CalculateSize()];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(frame.Length - HeaderLength));
        message.WriteTo(frame.AsSpan(HeaderLength));
        return frame;
    }
}
