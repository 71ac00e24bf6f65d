// Http2Exception.cs - a failure of the connection or the stream below gRPC, with whether the call may be retried.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// The HTTP/2 layer failed a call: the peer broke the protocol, reset the stream, went away, or the socket failed.
/// <see cref="GrpcClient"/> maps it to a gRPC status.
/// </summary>
internal sealed class Http2Exception : Exception
{
    public Http2Exception(GrpcStatusCode status, string message, bool notProcessed = false, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
        NotProcessed = notProcessed;
    }

    /// <summary>The gRPC status this failure means.</summary>
    public GrpcStatusCode Status { get; }

    /// <summary>
    /// The server certainly did not act on the request (GOAWAY below our stream, REFUSED_STREAM, or the connection
    /// was found closed before the request was written), so a fresh connection may carry it again.
    /// </summary>
    public bool NotProcessed { get; }
}
