// BrokerAddressKind.cs - the two transports a broker address can name.
namespace LaneShim.Grpc;

/// <summary>How a <see cref="BrokerAddress"/> is reached.</summary>
public enum BrokerAddressKind
{
    /// <summary>A Unix domain socket path (<c>unix:/run/laneshim/broker.sock</c>).</summary>
    Unix,

    /// <summary>A TCP host and port (<c>http://127.0.0.1:50051</c> or the listen form <c>tcp:127.0.0.1:50051</c>).</summary>
    Tcp,
}
