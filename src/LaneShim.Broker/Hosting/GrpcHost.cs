// GrpcHost.cs - serves a GrpcServiceDefinition with Kestrel over prior-knowledge HTTP/2 on a Unix socket or TCP port (optionally mutual TLS).
using System.Net;
using LaneShim.Grpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LaneShim.Broker.Hosting;

/// <summary>
/// A running gRPC server. Built on a bare <see cref="KestrelServer"/> (no generic host, no DI container), HTTP/2 only,
/// so it starts in milliseconds. Unix sockets get their parent directory created, a stale socket file replaced,
/// and mode 0666 (callers are identified by SO_PEERCRED, not by file permissions). A TCP listener with
/// <see cref="GrpcHostOptions.Tls"/> completes a mutual-TLS handshake before any HTTP/2 frame.
/// </summary>
public sealed class GrpcHost : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private readonly GrpcHostOptions _options;
    private readonly string? _socketPath;
    private int _stopped;

    private GrpcHost(KestrelServer server, GrpcHostOptions options, BrokerAddress address, string? socketPath)
    {
        _server = server;
        _options = options;
        Address = address;
        _socketPath = socketPath;
    }

    /// <summary>Where clients reach this server: <c>unix:/path</c>, or <c>http://IP:PORT</c> with the port actually bound.</summary>
    public BrokerAddress Address { get; }

    /// <summary>Starts serving <paramref name="services"/> on <paramref name="listen"/> with default options.</summary>
    /// <inheritdoc cref="StartAsync(BrokerAddress, GrpcServiceDefinition, GrpcHostOptions, ILoggerFactory?, CancellationToken)"/>
    public static Task<GrpcHost> StartAsync(BrokerAddress listen, GrpcServiceDefinition services, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
        => StartAsync(listen, services, new GrpcHostOptions(), loggers, cancellationToken);

    /// <summary>Starts serving <paramref name="services"/> on <paramref name="listen"/>.</summary>
    /// <param name="listen"><c>unix:/path</c>, <c>tcp:IP:PORT</c> (port 0 for any free port) or <c>http://IP:PORT</c>.</param>
    /// <param name="services">The methods to serve.</param>
    /// <param name="options">Limits and socket mode.</param>
    /// <param name="loggers">Where Kestrel and handler failures are logged; null for nowhere.</param>
    /// <param name="cancellationToken">Abandons start-up.</param>
    /// <returns>The running host; dispose it to stop.</returns>
    /// <exception cref="IOException">Another process serves on the Unix socket, a non-socket file is in the way, or binding failed.</exception>
    /// <exception cref="ArgumentException">A TCP host that is not an IP address or <c>localhost</c>.</exception>
    public static async Task<GrpcHost> StartAsync(BrokerAddress listen, GrpcServiceDefinition services, GrpcHostOptions options, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ILoggerFactory loggerFactory = loggers ?? NullLoggerFactory.Instance;

        var kestrel = new KestrelServerOptions { AddServerHeader = false };

        // The dispatcher enforces its own limit from the frame header, with a gRPC status instead of a bare 413.
        kestrel.Limits.MaxRequestBodySize = null;

        ListenOptions? bound = null;
        string? socketPath = null;
        if (listen.Kind == BrokerAddressKind.Unix)
        {
            socketPath = listen.UnixPath!;
            await UnixSocketFile.PrepareAsync(socketPath, cancellationToken).ConfigureAwait(false);
            kestrel.ListenUnixSocket(socketPath, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                bound = o;
            });
        }
        else
        {
            kestrel.Listen(ListenIp(listen.Host!), listen.Port, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                if (options.Tls is TlsListenerOptions tls)
                {
                    // The handshake itself rejects a client without a certificate from the client CA.
                    o.Use(TlsConnectionMiddleware.Create(tls));
                }

                bound = o;
            });
        }

        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var server = new KestrelServer(Options.Create(kestrel), transport, loggerFactory);
        var dispatcher = new GrpcRequestDispatcher(services, options, loggerFactory.CreateLogger(typeof(GrpcHost).FullName!));
        try
        {
            await server.StartAsync(dispatcher, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        try
        {
            BrokerAddress address;
            if (socketPath is not null)
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(socketPath, options.UnixSocketMode);
                }

                address = BrokerAddress.Unix(socketPath);
            }
            else
            {
                // Kestrel writes the bound port back into the listen options (it differs from 0 when we asked for any).
                IPEndPoint endPoint = bound!.IPEndPoint!;
                address = BrokerAddress.Tcp(ClientIp(endPoint.Address).ToString(), endPoint.Port, tls: options.Tls is not null);
            }

            return new GrpcHost(server, options, address, socketPath);
        }
        catch
        {
            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
            server.Dispose();
            throw;
        }
    }

    /// <summary>Stops accepting, lets calls in flight finish (up to <see cref="GrpcHostOptions.ShutdownTimeout"/>), and removes the socket file.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.ShutdownTimeout);
        try
        {
            await _server.StopAsync(grace.Token).ConfigureAwait(false);
        }
        finally
        {
            _server.Dispose();
            if (_socketPath is not null)
            {
                UnixSocketFile.Remove(_socketPath);
            }
        }
    }

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static IPAddress ListenIp(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? ip))
        {
            return ip;
        }

        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : throw new ArgumentException($"cannot listen on host '{host}': give an IP address (0.0.0.0 for all) or localhost", nameof(host));
    }

    // A wildcard listener is reached through loopback.
    private static IPAddress ClientIp(IPAddress bound) =>
        bound.Equals(IPAddress.Any) ? IPAddress.Loopback
        : bound.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
        : bound;
}
