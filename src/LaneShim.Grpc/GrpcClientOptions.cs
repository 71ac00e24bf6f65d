// GrpcClientOptions.cs - the knobs of a GrpcClient: message size limit, connect timeout, user agent.
namespace LaneShim.Grpc;

/// <summary>Settings for a <see cref="GrpcClient"/>.</summary>
public sealed class GrpcClientOptions
{
    /// <summary>The largest response message accepted; a larger one fails with <see cref="GrpcStatusCode.ResourceExhausted"/>. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcFraming.DefaultMaxMessageSize;

    /// <summary>
    /// How long one connection attempt may take, independently of any call's deadline (each call also gives up at its own deadline).
    /// Default 5 seconds.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The user-agent header. Default <c>laneshim-grpc/1</c>.</summary>
    public string UserAgent { get; init; } = "laneshim-grpc/1";
}
