// FuzzCase.cs - one generated broker answer: HTTP status, headers, body and trailers, as the agent would receive them.
namespace LaneShim.Fuzz;

/// <summary>A broker answer to feed through the agent's reply path.</summary>
/// <param name="HttpStatus">The HTTP :status.</param>
/// <param name="ContentType">The content-type header; null leaves it out.</param>
/// <param name="GrpcEncoding">The grpc-encoding header; null leaves it out.</param>
/// <param name="Body">The response body (gRPC frames, or anything).</param>
/// <param name="HeaderStatus">grpc-status in the headers (a trailers-only answer); null leaves it out.</param>
/// <param name="TrailerStatus">grpc-status in the trailers; null leaves it out.</param>
/// <param name="StatusMessage">grpc-message next to whichever status is sent; null leaves it out.</param>
public sealed record FuzzCase(int HttpStatus, string? ContentType, string? GrpcEncoding, byte[] Body, string? HeaderStatus, string? TrailerStatus, string? StatusMessage)
{
    /// <summary>A reproducible description for a failure report.</summary>
    public override string ToString() =>
        $"http {HttpStatus}, content-type {ContentType ?? "(none)"}, grpc-encoding {GrpcEncoding ?? "(none)"}, " +
        $"header status {HeaderStatus ?? "(none)"}, trailer status {TrailerStatus ?? "(none)"}, message {(StatusMessage is null ? "(none)" : StatusMessage.Length + " chars")}, " +
        $"body {Convert.ToHexString(Body.AsSpan(0, Math.Min(Body.Length, 256)))}{(Body.Length > 256 ? "…" : "")} ({Body.Length} bytes)";
}
