// ServerCallContext.cs - what a server-side handler knows about the call it is serving.
namespace LaneShim.Grpc;

/// <summary>Per-call facts handed to a unary handler.</summary>
public sealed class ServerCallContext
{
    /// <summary>Creates the context; the host builds one per call.</summary>
    public ServerCallContext(string method, string? peer, PeerCredentials? credentials, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        Method = method;
        Peer = peer;
        Credentials = credentials;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, e.g. <c>/laneshim.v1.LaneBroker/RequestLane</c>.</summary>
    public string Method { get; }

    /// <summary>The remote endpoint in words ("unix:" or "ipv4:1.2.3.4:5"), when known.</summary>
    public string? Peer { get; }

    /// <summary>Kernel-reported credentials of a Unix-socket caller; null on TCP.</summary>
    public PeerCredentials? Credentials { get; }

    /// <summary>The client certificate a TLS listener verified against its client CA; null on Unix sockets and cleartext TCP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>When the client gives up (from grpc-timeout); null when it sent none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Cancelled when the client goes away or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }
}
