// BrokerTransport.cs - which HttpMessageHandler carries a broker channel's calls.
namespace LaneShim.Grpc;

/// <summary>The HTTP/2 transport under a <see cref="BrokerChannel"/>.</summary>
public enum BrokerTransport
{
    /// <summary>
    /// SocketsHttpHandler (a Unix socket through its ConnectCallback). Asynchronous I/O on .NET's socket engine: its
    /// own thread, thread-pool continuations. Every client that is not inside someone else's connect() uses it.
    /// </summary>
    Sockets,

    /// <summary>
    /// <see cref="Http2.Http2CallHandler"/>: the caller's thread connects, writes and reads with libc, bounded by
    /// <see cref="CallDeadline"/>. Cleartext Unix-socket or IP-address brokers only; others fall back to <see cref="Sockets"/>.
    /// </summary>
    Direct,
}
