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

    /// <summary>For an <c>https://</c> broker: the client certificate (with its key) the broker identifies this client by; null sends none.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>
    /// For an <c>https://</c> broker: the CA certificates the broker's certificate must chain to. Null trusts the system's roots.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedAuthorities { get; init; }

    /// <summary>The user-agent header. Default <c>laneshim-grpc/1</c>.</summary>
    public string UserAgent { get; init; } = "laneshim-grpc/1";
}
