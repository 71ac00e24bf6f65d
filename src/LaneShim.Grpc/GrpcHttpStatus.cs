// GrpcHttpStatus.cs - what a non-200 HTTP status means to a gRPC client (grpc/doc/http-grpc-status-mapping.md).
namespace LaneShim.Grpc;

/// <summary>Maps HTTP statuses and HTTP/2 stream errors to gRPC status codes, as gRPC clients do.</summary>
public static class GrpcHttpStatus
{
    /// <summary>The gRPC code for an HTTP status other than 200, when the response carries no usable grpc-status.</summary>
    public static GrpcStatusCode ToStatusCode(int httpStatus) => httpStatus switch
    {
        400 => GrpcStatusCode.Internal,
        401 => GrpcStatusCode.Unauthenticated,
        403 => GrpcStatusCode.PermissionDenied,
        404 => GrpcStatusCode.Unimplemented,
        429 or 502 or 503 or 504 => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    /// <summary>The gRPC code for an HTTP/2 RST_STREAM or GOAWAY error code (gRPC over HTTP/2, "Errors").</summary>
    public static GrpcStatusCode FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => GrpcStatusCode.Unavailable,        // REFUSED_STREAM: not processed, safe to retry
        0x8 => GrpcStatusCode.Cancelled,          // CANCEL
        0xB => GrpcStatusCode.ResourceExhausted,  // ENHANCE_YOUR_CALM
        0xC => GrpcStatusCode.PermissionDenied,   // INADEQUATE_SECURITY
        _ => GrpcStatusCode.Internal,             // NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
    };
}
