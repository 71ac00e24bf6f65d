// GrpcStatusCode.cs - the gRPC status codes, as numbered on the wire in grpc-status.
namespace LaneShim.Grpc;

/// <summary>gRPC status codes (grpc/doc/statuscodes.md); the numeric values are the wire values.</summary>
public enum GrpcStatusCode
{
    /// <summary>Not an error.</summary>
    OK = 0,
    /// <summary>The caller cancelled the call.</summary>
    Cancelled = 1,
    /// <summary>An error with no better code, e.g. an unmapped HTTP status.</summary>
    Unknown = 2,
    /// <summary>The request is invalid regardless of system state.</summary>
    InvalidArgument = 3,
    /// <summary>The deadline passed before the call completed.</summary>
    DeadlineExceeded = 4,
    /// <summary>The named entity (a lease, a rule) does not exist.</summary>
    NotFound = 5,
    /// <summary>The entity to create exists already.</summary>
    AlreadyExists = 6,
    /// <summary>The caller may not do this (policy).</summary>
    PermissionDenied = 7,
    /// <summary>Out of capacity, or a message over the size limit.</summary>
    ResourceExhausted = 8,
    /// <summary>The system is not in a state the call needs.</summary>
    FailedPrecondition = 9,
    /// <summary>The call was aborted, typically by a concurrency conflict.</summary>
    Aborted = 10,
    /// <summary>A value past the valid range.</summary>
    OutOfRange = 11,
    /// <summary>The method is not implemented or not served.</summary>
    Unimplemented = 12,
    /// <summary>An invariant broke: malformed frames or messages, a missing status, a server bug.</summary>
    Internal = 13,
    /// <summary>The server cannot be reached now; retrying may work.</summary>
    Unavailable = 14,
    /// <summary>Unrecoverable data loss or corruption.</summary>
    DataLoss = 15,
    /// <summary>The caller has no valid credentials.</summary>
    Unauthenticated = 16,
}
