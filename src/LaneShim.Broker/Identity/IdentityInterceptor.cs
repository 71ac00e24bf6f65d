// IdentityInterceptor.cs - who is calling, from the connection (SO_PEERCRED, the verified client certificate), once per call.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LaneShim.Broker.Identity;

/// <summary>
/// The outermost interceptor: reads the caller's identity from the transport and leaves it in
/// <see cref="ServerCallContext.UserState"/> as a <see cref="CallerIdentity"/> for every later step. On a Unix socket the
/// kernel's SO_PEERCRED (read once per connection, through Kestrel's socket feature); on a TLS listener the client
/// certificate the handshake verified; otherwise nobody. It never refuses: what an anonymous caller may do is decided
/// by the service.
/// </summary>
internal sealed class IdentityInterceptor : Interceptor
{
    private static readonly object CredentialsKey = new();

    /// <inheritdoc/>
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        context.UserState[CallerIdentity.Key] = Identify(context.GetHttpContext());
        return continuation(request, context);
    }

    /// <summary>The caller of one HTTP/2 request.</summary>
    public static CallerIdentity Identify(HttpContext http) =>
        CallerIdentity.Of(ReadCredentials(http), http.Connection.ClientCertificate, DescribePeer(http));

    private static PeerCredentials? ReadCredentials(HttpContext context)
    {
        // SO_PEERCRED is fixed when the client connects: read it once per connection, not per call.
        IDictionary<object, object?>? items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is not null && items.TryGetValue(CredentialsKey, out object? known))
        {
            return (PeerCredentials?)known;
        }

        Socket? socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        PeerCredentials? read = socket is not null && PeerCredentials.TryRead(socket, out PeerCredentials credentials) ? credentials : null;
        if (items is not null)
        {
            items[CredentialsKey] = read;
        }

        return read;
    }

    private static string DescribePeer(HttpContext context)
    {
        IPAddress? ip = context.Connection.RemoteIpAddress;
        if (ip is null)
        {
            // Kestrel has no remote IP for Unix-socket connections.
            return "unix:";
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        string port = context.Connection.RemotePort.ToString(CultureInfo.InvariantCulture);
        return ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"ipv6:[{ip}]:{port}" : $"ipv4:{ip}:{port}";
    }
}
