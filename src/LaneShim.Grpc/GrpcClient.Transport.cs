// GrpcClient.Transport.cs - how GrpcClient opens its socket, and how transport failures become gRPC statuses.
using System.Net;
using System.Net.Sockets;

namespace LaneShim.Grpc;

public sealed partial class GrpcClient
{
    private SocketsHttpHandler CreateHandler(BrokerAddress address, GrpcClientOptions options)
    {
        SocketsHttpHandler handler = CreatePlainHandler(address, options);
        if (address.Tls)
        {
            handler.SslOptions = ClientTls.SslOptions(options);
        }

        return handler;
    }

    private SocketsHttpHandler CreatePlainHandler(BrokerAddress address, GrpcClientOptions options) => new()
    {
        // Programs we are loaded into may set HTTP_PROXY; broker traffic must never go through it.
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        // Shorter than Kestrel's 130 s keep-alive, so the client closes an idle connection before the server does
        // and a call never races a server-side close.
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        EnableMultipleHttp2Connections = false,
        ConnectTimeout = options.ConnectTimeout > TimeSpan.Zero ? options.ConnectTimeout : Timeout.InfiniteTimeSpan,
        // No traceparent headers and no Activity work inside host programs.
        ActivityHeadersPropagator = null,
        ConnectCallback = address.Kind == BrokerAddressKind.Unix ? ConnectUnixAsync : ConnectTcpAsync,
    };

    private async ValueTask<Stream> ConnectUnixAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Address.UnixPath!), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async ValueTask<Stream> ConnectTcpAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        // Dual-mode where IPv6 exists, so a DnsEndPoint can resolve to either family.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private GrpcException MapFailure(Exception e)
    {
        // A stream reset carries an HTTP/2 error code that gRPC maps to a status.
        HttpProtocolException? reset = Find<HttpProtocolException>(e);
        if (reset is not null)
        {
            return new GrpcException(GrpcHttpStatus.FromHttp2ErrorCode(reset.ErrorCode),
                $"HTTP/2 error 0x{reset.ErrorCode:X} from {Address}: {reset.Message}", e);
        }

        SocketException? socketError = Find<SocketException>(e);
        if (socketError is not null)
        {
            return new GrpcException(GrpcStatusCode.Unavailable, $"cannot reach the broker at {Address}: {socketError.Message}", e);
        }

        return e switch
        {
            HttpRequestException or IOException => new GrpcException(GrpcStatusCode.Unavailable, $"connection to {Address} failed: {Describe(e)}", e),
            // Not our deadline nor the caller's token: the connect timeout.
            OperationCanceledException => new GrpcException(GrpcStatusCode.Unavailable, $"connecting to {Address} timed out", e),
            ObjectDisposedException => Disposed(),
            _ => new GrpcException(GrpcStatusCode.Internal, $"unexpected client failure calling {Address}: {e.GetType().Name}: {e.Message}", e),
        };
    }

    // "An error occurred while sending the request" says little; the innermost cause says what happened.
    private static string Describe(Exception e)
    {
        Exception root = e;
        while (root.InnerException is not null)
        {
            root = root.InnerException;
        }

        return ReferenceEquals(root, e) ? e.Message : $"{e.Message} ({root.Message})";
    }

    private static T? Find<T>(Exception e)
        where T : Exception
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }
}
