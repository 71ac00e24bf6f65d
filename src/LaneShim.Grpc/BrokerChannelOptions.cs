// BrokerChannelOptions.cs - the knobs of a broker channel: transport, message size limit, connect timeout, TLS.
using System.Security.Cryptography.X509Certificates;

namespace LaneShim.Grpc;

/// <summary>Settings for a <see cref="BrokerChannel"/>.</summary>
public sealed class BrokerChannelOptions
{
    /// <summary>The largest response message accepted; a larger one fails with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long one connection attempt may take, independently of any call's deadline. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Which handler carries the calls. Default <see cref="BrokerTransport.Sockets"/>.</summary>
    public BrokerTransport Transport { get; init; } = BrokerTransport.Sockets;

    /// <summary>For an <c>https://</c> broker: the client certificate (with its key) the broker identifies this client by; null sends none.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>For an <c>https://</c> broker: the CA certificates the broker's certificate must chain to. Null trusts the system's roots.</summary>
    public X509Certificate2Collection? TrustedAuthorities { get; init; }
}
