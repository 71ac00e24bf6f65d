// BrokerChannel.cs - a GrpcChannel and the generated LaneBroker client for one broker address, on the chosen transport.
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using LaneShim.Grpc.Http2;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc;

/// <summary>
/// Everything that calls a broker (the agent, <c>laneshim status</c>, the broker's own warm-up, the benchmarks and the
/// tests) calls it through the generated <see cref="LaneBroker.LaneBrokerClient"/> on the <see cref="GrpcChannel"/> made
/// here: <c>unix:/path</c> through a connect callback, <c>http://host:port</c> in cleartext, <c>https://host:port</c>
/// with mutual TLS (<see cref="BrokerChannelOptions.ClientCertificate"/>). Programs that inherit HTTP_PROXY never send
/// broker traffic through it. Create one per broker and keep it.
/// </summary>
public sealed class BrokerChannel : IDisposable
{
    private readonly Http2CallHandler? _direct;

    private BrokerChannel(BrokerAddress address, GrpcChannel channel, Http2CallHandler? direct)
    {
        Address = address;
        Channel = channel;
        _direct = direct;
        Client = new LaneBroker.LaneBrokerClient(channel);
    }

    /// <summary>The broker this channel calls.</summary>
    public BrokerAddress Address { get; }

    /// <summary>The channel (for other services of the same broker, such as <c>grpc.health.v1.Health</c>).</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The generated LaneBroker client on <see cref="Channel"/>.</summary>
    public LaneBroker.LaneBrokerClient Client { get; }

    /// <summary>How many direct connections wait in the pool (for tests).</summary>
    internal int IdleConnections => _direct?.IdleConnections ?? 0;

    /// <summary>The transport actually used (an <c>https://</c> or host-name broker always uses <see cref="BrokerTransport.Sockets"/>).</summary>
    public BrokerTransport Transport => _direct is null ? BrokerTransport.Sockets : BrokerTransport.Direct;

    /// <summary>Makes the channel. Nothing is connected until the first call (or <see cref="Warm"/>).</summary>
    /// <exception cref="ArgumentException">A TCP address with port 0 (which only a server can use).</exception>
    public static BrokerChannel Open(BrokerAddress address, BrokerChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        options ??= new BrokerChannelOptions();
        if (address.Kind == BrokerAddressKind.Tcp && address.Port == 0)
        {
            throw new ArgumentException($"cannot call {address.ToListenString()}: port 0 is only valid for listening", nameof(address));
        }

        Uri authority = new(address.Kind == BrokerAddressKind.Unix ? "http://localhost" : address.ToString());
        EndPoint? endPoint = options.Transport == BrokerTransport.Direct && !address.Tls ? DirectEndPoint(address) : null;
        if (endPoint is not null)
        {
            var direct = new Http2CallHandler(endPoint, options.MaxReceiveMessageSize);
            // An HttpClient of our own keeps Grpc.Net.Client's balancer (and its resolver tasks) out of the call.
            var http = new HttpClient(direct, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            return new BrokerChannel(address, GrpcChannel.ForAddress(authority, new GrpcChannelOptions
            {
                HttpClient = http,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            }), direct);
        }

        // As an HttpClient too: given a SocketsHttpHandler, Grpc.Net.Client puts its balancer in front (a resolver, a
        // subchannel that connects its own socket, a picker the call waits on), which one fixed broker address does not
        // need, and whose wait released a call 12-15 ms after its deadline against a broker whose connect() hangs
        // (HttpClient alone: within 1-3 ms).
        var sockets = new HttpClient(SocketsHandler(address, options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        return new BrokerChannel(address, GrpcChannel.ForAddress(authority, new GrpcChannelOptions
        {
            HttpClient = sockets,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
        }), null);
    }

    /// <summary>
    /// Direct transport: opens one connection ahead of the first call, off any connect() path. False when the broker
    /// could not be reached within <paramref name="timeout"/>. The sockets transport connects on its first call: true.
    /// </summary>
    public bool Warm(TimeSpan timeout) => _direct?.Warm(timeout) ?? true;

    /// <summary>
    /// Runs one blocking call that ends by <paramref name="timeout"/> from now (<see cref="Timeout.InfiniteTimeSpan"/>
    /// for none): through <see cref="CallDeadline"/> on the direct transport (no timer), as <c>CallOptions.Deadline</c>
    /// otherwise.
    /// </summary>
    public TResponse Call<TResponse>(Func<LaneBroker.LaneBrokerClient, CallOptions, TResponse> call, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return call(Client, new CallOptions(cancellationToken: cancellationToken));
        }

        if (_direct is not null)
        {
            using CallDeadline.Scope scope = CallDeadline.After(timeout);
            return call(Client, new CallOptions(cancellationToken: cancellationToken));
        }

        return call(Client, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken));
    }

    /// <summary>Closes the connections; later calls fail.</summary>
    public void Dispose() => Channel.Dispose();

    private static EndPoint? DirectEndPoint(BrokerAddress address) => address.Kind == BrokerAddressKind.Unix
        ? new UnixDomainSocketEndPoint(address.UnixPath!)
        : IPAddress.TryParse(address.Host, out IPAddress? ip) ? new IPEndPoint(ip, address.Port) : null;

    private static SocketsHttpHandler SocketsHandler(BrokerAddress address, BrokerChannelOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Programs we are loaded into may set HTTP_PROXY; broker traffic must never go through it.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Shorter than Kestrel's 130 s keep-alive: the client closes an idle connection before the server does.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ConnectTimeout = options.ConnectTimeout > TimeSpan.Zero ? options.ConnectTimeout : Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            // No traceparent headers and no Activity work inside host programs.
            ActivityHeadersPropagator = null,
        };
        if (address.Kind == BrokerAddressKind.Unix)
        {
            var endPoint = new UnixDomainSocketEndPoint(address.UnixPath!);
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        if (address.Tls)
        {
            handler.SslOptions = ClientTls.SslOptions(options);
        }

        return handler;
    }
}
