// UnaryReply.cs - what came back on one stream: the response headers, the body bytes and the trailers.
namespace LaneShim.Grpc.Http2;

/// <summary>One unary exchange's response, before gRPC interprets it. Trailers-only answers have no body and no trailers.</summary>
internal sealed class UnaryReply
{
    /// <summary>The response header fields (pseudo-headers included), in order.</summary>
    public List<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>The trailer fields, empty for a trailers-only answer.</summary>
    public List<KeyValuePair<string, string>> Trailers { get; } = [];

    /// <summary>The DATA bytes of the stream (the gRPC length-prefixed message), <see cref="BodyLength"/> of them.</summary>
    public byte[] Body { get; set; } = [];

    public int BodyLength { get; set; }

    /// <summary>The stream ended with its first HEADERS frame.</summary>
    public bool TrailersOnly { get; set; }

    public void Clear()
    {
        Headers.Clear();
        Trailers.Clear();
        BodyLength = 0;
        TrailersOnly = false;
    }
}
