// H2Request.cs - one complete request a scripted server read: its stream, decoded header fields and body bytes.
using Google.Protobuf;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>A request stream that ended (END_STREAM) on a scripted server's connection.</summary>
internal sealed record H2Request(int Stream, List<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>The value of header <paramref name="name"/>, or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key == name).Value;

    /// <summary>The gRPC message in the body (5-byte prefix, then the protobuf).</summary>
    public T Message<T>(MessageParser<T> parser)
        where T : IMessage<T> => GrpcFraming.Decode(Body, parser);
}
