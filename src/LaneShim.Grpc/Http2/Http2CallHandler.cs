// Http2CallHandler.cs - the project's own HTTP/2 connection as an HttpMessageHandler under GrpcChannel: the caller's thread does the I/O.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// Sends each request on a pooled <see cref="Http2UnaryConnection"/> (one call per connection at a time, so no stream
/// multiplexing is needed) and answers with the complete response: headers, body and trailers already read. Everything
/// happens on the calling thread and the returned task is already complete, so a blocking Grpc.Net.Client call inside
/// connect() involves no thread-pool hop, no socket-engine thread and no timer. Grpc.Net.Client does the rest: message
/// framing, status and metadata. Only for unary calls with a request body the client writes at once.
/// </summary>
/// <remarks>
/// The deadline comes from <see cref="CallDeadline"/> (sent as <c>grpc-timeout</c>), else from the request's own
/// <c>grpc-timeout</c>; every wait of the call is bounded by it. Transport failures surface as the
/// <see cref="RpcException"/> whose status they mean (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL), a
/// stream reset as <see cref="HttpProtocolException"/> with its HTTP/2 error code, which Grpc.Net.Client maps as it does
/// for SocketsHttpHandler.
/// </remarks>
internal sealed class Http2CallHandler : HttpMessageHandler
{
    private const int MaxIdleConnections = 4;

    // Shorter than Kestrel's 130 s keep-alive: an idle connection is closed before the server does.
    private static readonly long IdleLimit = 60 * Stopwatch.Frequency;

    private readonly EndPoint _endPoint;
    private readonly int _maxResponseBytes;
    private readonly ConcurrentStack<Http2UnaryConnection> _idle = new();
    private volatile bool _disposed;

    /// <summary>A handler that connects to <paramref name="endPoint"/> (Unix socket or IP endpoint, cleartext).</summary>
    /// <param name="endPoint">Where the server listens.</param>
    /// <param name="maxResponseBytes">The largest response body read; a larger one fails the call with RESOURCE_EXHAUSTED.</param>
    public Http2CallHandler(EndPoint endPoint, int maxResponseBytes)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResponseBytes);
        _endPoint = endPoint;
        _maxResponseBytes = maxResponseBytes;
    }

    /// <summary>How many connections wait in the pool (for tests).</summary>
    internal int IdleConnections => _idle.Count;

    /// <summary>
    /// Opens one connection ahead of the first call, off any connect() path, so the first call pays no connect and
    /// SETTINGS exchange. False when the server could not be reached within <paramref name="timeout"/>.
    /// </summary>
    public bool Warm(TimeSpan timeout)
    {
        try
        {
            Return(Http2UnaryConnection.Open(_endPoint, Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency)));
            return true;
        }
        catch (Http2Exception)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => SendCore(request, cancellationToken);

    /// <inheritdoc/>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult(SendCore(request, cancellationToken));
        }
        catch (Exception e)
        {
            return Task.FromException<HttpResponseMessage>(e);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        while (_idle.TryPop(out Http2UnaryConnection? connection))
        {
            connection.Dispose();
        }

        base.Dispose(disposing);
    }

    private HttpResponseMessage SendCore(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        long due = Due(request, out string? grpcTimeout);
        byte[] body = ReadBody(request, cancellationToken);
        byte[] block = new byte[256];
        int blockLength = RequestHeaderBlock.Build(request, grpcTimeout, ref block);

        for (int attempt = 0; ; attempt++)
        {
            // The retry opens a connection of its own: after REFUSED_STREAM the refusing connection stays in the pool
            // (it is still sound) and would be handed straight back, to refuse again.
            Http2UnaryConnection? connection = attempt == 0 ? RentIdle() : null;
            bool reused = connection is not null;
            try
            {
                connection ??= Http2UnaryConnection.Open(_endPoint, due);
                UnaryReply reply = connection.Reply;
                connection.Call(block.AsSpan(0, blockLength), body, due, _maxResponseBytes, reply);
                try
                {
                    return ToResponse(request, reply);
                }
                finally
                {
                    // The exchange is complete whatever the status says: the connection can carry the next call.
                    reply.Clear();
                    Return(connection);
                    connection = null;
                }
            }
            catch (Http2Exception e)
            {
                if (connection?.Usable == true)
                {
                    Return(connection);
                }
                else
                {
                    connection?.Dispose();
                }

                // Only a request the server certainly never acted on goes again, once, on a fresh connection.
                if (e.NotProcessed && reused && attempt == 0 && Stopwatch.GetTimestamp() < due)
                {
                    continue;
                }

                if (e.ResetCode is uint code)
                {
                    throw new HttpProtocolException(code, e.Message, e);
                }

                throw new RpcException(new Status(e.Status, e.Message, e));
            }
            catch (Exception) when (connection is not null)
            {
                connection.Dispose();
                throw;
            }
        }
    }

    // The scope's deadline wins (and is sent); otherwise the one Grpc.Net.Client sent; otherwise none.
    private static long Due(HttpRequestMessage request, out string? grpcTimeout)
    {
        long now = Stopwatch.GetTimestamp();
        long scoped = CallDeadline.Due;
        if (scoped != 0)
        {
            long remaining = scoped - now;
            if (remaining <= 0)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, "the deadline passed before the call started"));
            }

            grpcTimeout = GrpcTimeout.Format(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
            return scoped;
        }

        grpcTimeout = null;
        if (request.Headers.NonValidated.TryGetValues("grpc-timeout", out HeaderStringValues values))
        {
            foreach (string value in values)
            {
                if (GrpcTimeout.TryParse(value, out TimeSpan timeout))
                {
                    return timeout.TotalSeconds * Stopwatch.Frequency >= long.MaxValue - now ? long.MaxValue : now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
                }
            }
        }

        return long.MaxValue;
    }

    // Grpc.Net.Client's unary content writes the framed message at once; into memory it completes on this thread.
    private static byte[] ReadBody(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is null)
        {
            return [];
        }

        using var buffer = new MemoryStream(256);
        request.Content.CopyToAsync(buffer, cancellationToken).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    internal static HttpResponseMessage ToResponse(HttpRequestMessage request, UnaryReply reply)
    {
        string? statusText = null;
        foreach (KeyValuePair<string, string> field in reply.Headers)
        {
            if (field.Key == ":status")
            {
                statusText = field.Value;
                break;
            }
        }

        if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out int status) || status is < 100 or > 999)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the server's response has no valid :status ('{statusText}')"));
        }

        var response = new HttpResponseMessage((HttpStatusCode)status)
        {
            RequestMessage = request,
            Version = HttpVersion.Version20,
            Content = new ByteArrayContent(reply.Body.AsSpan(0, reply.BodyLength).ToArray()),
        };
        foreach (KeyValuePair<string, string> field in reply.Headers)
        {
            if (field.Key.StartsWith(':'))
            {
                continue;
            }

            if (field.Key.StartsWith("content-", StringComparison.Ordinal))
            {
                response.Content.Headers.TryAddWithoutValidation(field.Key, field.Value);
            }
            else
            {
                response.Headers.TryAddWithoutValidation(field.Key, field.Value);
            }
        }

        foreach (KeyValuePair<string, string> field in reply.Trailers)
        {
            response.TrailingHeaders.TryAddWithoutValidation(field.Key, field.Value);
        }

        return response;
    }

    private Http2UnaryConnection? RentIdle()
    {
        long now = Stopwatch.GetTimestamp();
        while (_idle.TryPop(out Http2UnaryConnection? connection))
        {
            if (now - connection.IdleSince < IdleLimit && connection.Refresh())
            {
                return connection;
            }

            connection.Dispose();
        }

        return null;
    }

    private void Return(Http2UnaryConnection connection)
    {
        if (!connection.Usable || _disposed || _idle.Count >= MaxIdleConnections)
        {
            connection.Dispose();
            return;
        }

        _idle.Push(connection);
        if (_disposed && _idle.TryPop(out Http2UnaryConnection? late))
        {
            late.Dispose();
        }
    }
}
