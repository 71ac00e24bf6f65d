// GrpcException.cs - a call that ended with a non-OK gRPC status, on either side of the wire.
namespace LaneShim.Grpc;

/// <summary>
/// A non-OK gRPC status. Server handlers throw it to answer with that status and detail;
/// the client throws it when a call ends with one.
/// </summary>
public sealed class GrpcException : Exception
{
    /// <summary>Creates the exception; the message reads <c>CODE_NAME: detail</c>.</summary>
    public GrpcException(GrpcStatusCode statusCode, string detail, Exception? inner = null)
        : base($"{StatusName(statusCode)}: {detail}", inner)
    {
        StatusCode = statusCode;
        Detail = detail;
    }

    /// <summary>
    /// Extra metadata that travels with the status (lower-case ASCII names starting with <c>laneshim-</c>, ASCII
    /// values), e.g. <c>laneshim-offer-bps</c> on RESOURCE_EXHAUSTED. Empty when there is none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = EmptyMetadata;

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    /// <summary>The status code.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The grpc-message: a reason a person can act on.</summary>
    public string Detail { get; }

    /// <summary>The canonical upper-case name, e.g. RESOURCE_EXHAUSTED.</summary>
    public static string StatusName(GrpcStatusCode code) => code switch
    {
        GrpcStatusCode.OK => "OK",
        GrpcStatusCode.Cancelled => "CANCELLED",
        GrpcStatusCode.Unknown => "UNKNOWN",
        GrpcStatusCode.InvalidArgument => "INVALID_ARGUMENT",
        GrpcStatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        GrpcStatusCode.NotFound => "NOT_FOUND",
        GrpcStatusCode.AlreadyExists => "ALREADY_EXISTS",
        GrpcStatusCode.PermissionDenied => "PERMISSION_DENIED",
        GrpcStatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        GrpcStatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        GrpcStatusCode.Aborted => "ABORTED",
        GrpcStatusCode.OutOfRange => "OUT_OF_RANGE",
        GrpcStatusCode.Unimplemented => "UNIMPLEMENTED",
        GrpcStatusCode.Internal => "INTERNAL",
        GrpcStatusCode.Unavailable => "UNAVAILABLE",
        GrpcStatusCode.DataLoss => "DATA_LOSS",
        GrpcStatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
