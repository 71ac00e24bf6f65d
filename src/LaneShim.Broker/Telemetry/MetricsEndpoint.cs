// MetricsEndpoint.cs - serves GET /metrics in Prometheus text format over plain HTTP/1.1, apart from the gRPC socket.
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LaneShim.Broker.Telemetry;

/// <summary>
/// A bare Kestrel server on its own TCP address: scrapers speak HTTP/1.1, and the gRPC listener (HTTP/2 only, often a
/// Unix socket) stays as it is. Only GET /metrics answers; anything else is 404 or 405.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly KestrelServer _server;

    private MetricsEndpoint(KestrelServer server, Uri url)
    {
        _server = server;
        Url = url;
    }

    /// <summary>Where the metrics are, with the port actually bound: http://IP:PORT/metrics.</summary>
    public Uri Url { get; }

    /// <summary>Parses "http://IP:PORT" (port 0: any free port); the error says what is wrong.</summary>
    public static bool TryParse(string text, out IPEndPoint? endPoint, out string error)
    {
        endPoint = null;
        error = "";
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme != "http")
        {
            error = $"'{text}' is not an http://IP:PORT address";
            return false;
        }
        string host = uri.Host.Trim('[', ']');
        IPAddress? ip = host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null;
        if (ip is null)
        {
            error = $"'{uri.Host}' is not an IP address (or localhost)";
            return false;
        }
        if (uri.AbsolutePath is not ("/" or "/metrics"))
        {
            error = $"metrics are served at /metrics, not {uri.AbsolutePath}";
            return false;
        }
        endPoint = new IPEndPoint(ip, uri.Port);
        return true;
    }

    /// <summary>Starts serving <paramref name="render"/>'s text at <paramref name="listen"/>.</summary>
    /// <exception cref="IOException">The address cannot be bound.</exception>
    public static async Task<MetricsEndpoint> StartAsync(IPEndPoint listen, Func<string> render, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(render);
        var kestrel = new KestrelServerOptions { AddServerHeader = false };
        ListenOptions? bound = null;
        kestrel.Listen(listen, o =>
        {
            o.Protocols = HttpProtocols.Http1;
            bound = o;
        });
        var server = new KestrelServer(Options.Create(kestrel), new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers), loggers);
        try
        {
            await server.StartAsync(new Application(render, loggers.CreateLogger<MetricsEndpoint>()), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        IPEndPoint actual = bound!.IPEndPoint!;
        string host = actual.Address.Equals(IPAddress.Any) ? "127.0.0.1" : actual.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{actual.Address}]" : actual.Address.ToString();
        return new MetricsEndpoint(server, new Uri($"http://{host}:{actual.Port}/metrics"));
    }

    /// <summary>Stops serving.</summary>
    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _server.StopAsync(grace.Token).ConfigureAwait(false);
        }
        finally
        {
            _server.Dispose();
        }
    }

    private sealed class Application(Func<string> render, ILogger logger) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }

        public async Task ProcessRequestAsync(HttpContext context)
        {
            HttpResponse response = context.Response;
            if (context.Request.Path.Value != "/metrics")
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                response.ContentType = "text/plain";
                await response.WriteAsync("metrics are at /metrics\n", context.RequestAborted).ConfigureAwait(false);
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return;
            }
            string text;
            try
            {
                text = render();
            }
            catch (Exception e)
            {
                logger.LogError(e, "rendering /metrics failed");
                response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = PrometheusWriter.ContentType;
            await response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
