// Http2Exception.cs - a failure of the connection or the stream below gRPC, with whether the call may be retried.
using Grpc.Core;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// The HTTP/2 layer failed a call: the peer broke the protocol, reset the stream, went away, or the socket failed.
/// <see cref="Http2CallHandler"/> hands it to Grpc.Net.Client as the status it means (a reset stream as the
/// <see cref="System.Net.Http.HttpProtocolException"/> SocketsHttpHandler would raise, so the client maps its code).
/// </summary>
internal sealed class Http2Exception : Exception
{
    public Http2Exception(StatusCode status, string message, bool notProcessed = false, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        NotProcessed = notProcessed;
    }

    /// <summary>The gRPC status a transport failure means (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL).</summary>
    public StatusCode Status { get; }

    /// <summary>The peer's RST_STREAM error code when it reset the stream; null otherwise.</summary>
    public uint? ResetCode { get; init; }

    /// <summary>
    /// The server certainly did not act on the request (GOAWAY below our stream, REFUSED_STREAM, or the connection
    /// was found closed before the request was written), so a fresh connection may carry it again.
    /// </summary>
    public bool NotProcessed { get; }
}
