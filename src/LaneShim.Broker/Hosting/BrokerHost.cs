// BrokerHost.cs - serves the LaneBroker service and grpc.health.v1 with Grpc.AspNetCore on a Unix socket or a TCP port (optionally mutual TLS).
using System.Net;
using Grpc.AspNetCore.Server;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Services;
using LaneShim.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Hosting;

/// <summary>
/// A running broker endpoint: an ASP.NET Core application with Kestrel (HTTP/2 only) mapping the generated
/// <c>LaneBroker</c> service and the standard health service, behind the identity interceptor (who calls) and the
/// outcome interceptor (audit, log, metrics). Unix sockets get their parent directory created, a stale socket file
/// replaced, and mode 0666 (callers are identified by SO_PEERCRED, not by file permissions). A TCP listener with
/// <see cref="BrokerHostOptions.Tls"/> completes a mutual-TLS handshake before any HTTP/2 frame.
/// </summary>
public sealed class BrokerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BrokerHostOptions _options;
    private readonly string? _socketPath;
    private int _stopped;

    private BrokerHost(WebApplication app, BrokerHostOptions options, BrokerAddress address, string? socketPath)
    {
        _app = app;
        _options = options;
        Address = address;
        _socketPath = socketPath;
    }

    /// <summary>Where clients reach this server: <c>unix:/path</c>, or <c>http(s)://IP:PORT</c> with the port actually bound.</summary>
    public BrokerAddress Address { get; }

    /// <summary>Starts serving <paramref name="service"/> on <paramref name="listen"/>.</summary>
    /// <param name="listen"><c>unix:/path</c>, <c>tcp:IP:PORT</c> (port 0 for any free port) or <c>http://IP:PORT</c>.</param>
    /// <param name="service">The LaneBroker service.</param>
    /// <param name="options">Limits, socket mode and TLS.</param>
    /// <param name="loggers">Where Kestrel and handler failures are logged.</param>
    /// <param name="cancellationToken">Abandons start-up.</param>
    /// <returns>The running host; dispose it to stop.</returns>
    /// <exception cref="IOException">Another process serves on the Unix socket, a non-socket file is in the way, or binding failed.</exception>
    /// <exception cref="ArgumentException">A TCP host that is not an IP address or <c>localhost</c>.</exception>
    public static async Task<BrokerHost> StartAsync(BrokerAddress listen, LaneBrokerService service, BrokerHostOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);

        string? socketPath = null;
        if (listen.Kind == BrokerAddressKind.Unix)
        {
            socketPath = listen.UnixPath!;
            await UnixSocketFile.PrepareAsync(socketPath, cancellationToken).ConfigureAwait(false);
        }

        // An empty builder: no configuration files, no environment-driven settings, no default logging providers.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(service);
        builder.Services.AddSingleton<IdentityInterceptor>();
        builder.Services.AddSingleton<OutcomeInterceptor>();
        var health = new HealthServiceImpl();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus(Protocol.V1.LaneBroker.Descriptor.FullName, HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);
        foreach (IBrokerHostService extra in options.Services)
        {
            extra.AddTo(builder.Services);
        }

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.EnableDetailedErrors = false;
            // Outermost first: who calls, then what the call decided.
            grpc.Interceptors.Add<IdentityInterceptor>();
            grpc.Interceptors.Add<OutcomeInterceptor>();
        });

        ListenOptions? bound = null;
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (socketPath is not null)
            {
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
        });

        WebApplication app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<LaneBrokerService>();
        app.MapGrpcService<HealthServiceImpl>();
        foreach (IBrokerHostService extra in options.Services)
        {
            extra.MapTo(app);
        }

        // A RequestDelegate, not a lambda with inferred parameters: that overload binds by reflection, which NativeAOT cannot.
        app.MapGet("/healthz", context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("ok\n");
        });
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
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

            return new BrokerHost(app, options, address, socketPath);
        }
        catch
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops accepting, lets calls in flight finish (up to <see cref="BrokerHostOptions.ShutdownTimeout"/>), and removes the socket file.</summary>
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
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
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
