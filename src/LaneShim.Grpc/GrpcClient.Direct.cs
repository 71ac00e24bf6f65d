// GrpcClient.Direct.cs - blocking unary calls on pooled HTTP/2 connections of our own, for cleartext Unix-socket and IP endpoints.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc;

/// <summary>
/// The synchronous path. A caller blocked in connect() must not wait on thread-pool hops: HttpClient's HTTP/2 stack
/// hands each call to a writer task and each answer to a reader task, which costs more than the broker takes to decide.
/// Here the caller's thread writes the request and reads the answer itself, on a connection from a small pool (one call
/// per connection at a time, so no stream multiplexing is needed). TLS endpoints, host names and cancellable calls keep
/// the HttpClient path.
/// </summary>
public sealed partial class GrpcClient
{
    private const int MaxIdleConnections = 4;

    // Shorter than Kestrel's 130 s keep-alive, as for the HttpClient pool: an idle connection is closed before the server does.
    private static readonly long IdleLimit = 60 * Stopwatch.Frequency;

    private readonly ConcurrentStack<Http2UnaryConnection> _idle = new();
    private readonly ConcurrentDictionary<string, byte[]> _headerBlocks = new(StringComparer.Ordinal);
    private EndPoint? _directEndPoint;

    /// <summary>The endpoint the direct path connects to, or null when calls go through HttpClient.</summary>
    internal EndPoint? DirectEndPoint => _directEndPoint;

    /// <summary>How many direct connections wait in the pool (for tests).</summary>
    internal int IdleConnections => _idle.Count;

    private void InitDirect(bool customHandler)
    {
        if (customHandler || Address.Tls)
        {
            return;
        }

        if (Address.Kind == BrokerAddressKind.Unix)
        {
            _directEndPoint = new UnixDomainSocketEndPoint(Address.UnixPath!);
        }
        else if (IPAddress.TryParse(Address.Host, out IPAddress? ip))
        {
            _directEndPoint = new IPEndPoint(ip, Address.Port);
        }
    }

    /// <summary>
    /// Opens one direct connection ahead of the first call, off any connect() path, so the first call pays no
    /// connect and SETTINGS exchange. False when the broker could not be reached within <paramref name="timeout"/>.
    /// </summary>
    public bool Warm(TimeSpan timeout)
    {
        if (_directEndPoint is null)
        {
            return true;
        }
        try
        {
            Return(Http2UnaryConnection.Open(_directEndPoint, DeadlineTimer.TimestampAfter(Stopwatch.GetTimestamp(), timeout)));
            return true;
        }
        catch (Exception e) when (e is SocketException or Http2Exception or IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    private TResponse CallDirect<TRequest, TResponse>(string methodPath, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, long started)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        (byte[] frame, TimeSpan remaining) = PrepareCall(methodPath, request, parser, deadline, started);
        bool hasDeadline = HasDeadline(deadline);
        long due = hasDeadline ? DeadlineTimer.TimestampAfter(started, deadline) : long.MaxValue;

        byte[] fixedPart = _headerBlocks.GetOrAdd(methodPath, static (path, client) => RequestHeaderBlock.Build(path, client._authorityHost, client._options.UserAgent), this);
        Span<byte> block = stackalloc byte[fixedPart.Length + RequestHeaderBlock.TimeoutRoom];
        block = block[..RequestHeaderBlock.WithTimeout(fixedPart, hasDeadline ? GrpcTimeout.Format(remaining) : null, block)];

        for (int attempt = 0; ; attempt++)
        {
            // The retry opens a connection of its own: after REFUSED_STREAM the refusing connection stays in the pool
            // (it is still sound) and would be handed straight back, to refuse again.
            Http2UnaryConnection? connection = attempt == 0 ? RentIdle() : null;
            bool reused = connection is not null;
            try
            {
                connection ??= Http2UnaryConnection.Open(_directEndPoint!, due);
                UnaryReply reply = connection.Reply;
                connection.Call(block, frame, due, _options.MaxReceiveMessageSize, reply);
                try
                {
                    return Interpret(reply, parser);
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
                bool usable = connection?.Usable == true;
                if (usable)
                {
                    Return(connection!);
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

                throw e.Status switch
                {
                    GrpcStatusCode.DeadlineExceeded => DeadlineExceeded(deadline),
                    GrpcStatusCode.Unavailable => new GrpcException(GrpcStatusCode.Unavailable, $"connection to {Address} failed: {e.Message}", e),
                    _ => new GrpcException(e.Status, e.Message, e),
                };
            }
            catch (SocketException e)
            {
                connection?.Dispose();
                throw new GrpcException(GrpcStatusCode.Unavailable, $"cannot reach the broker at {Address}: {e.Message}", e);
            }
            catch (Exception e) when (e is not GrpcException)
            {
                connection?.Dispose();
                throw _disposed ? Disposed() : new GrpcException(GrpcStatusCode.Internal, $"unexpected client failure calling {Address}: {e.GetType().Name}: {e.Message}", e);
            }
        }
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

    private void DisposeDirect()
    {
        while (_idle.TryPop(out Http2UnaryConnection? connection))
        {
            connection.Dispose();
        }
    }

    // The same rules as ReadResponseAsync, over the fields our own connection decoded.
    internal TResponse Interpret<TResponse>(UnaryReply reply, MessageParser<TResponse> parser)
        where TResponse : IMessage<TResponse>
    {
        string? statusText = Find(reply.Headers, ":status");
        if (statusText != "200")
        {
            int httpStatus = int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed : 0;
            string? serverMessage = FindStatus(reply.Headers, out _, out string headerMessage) ? headerMessage : null;
            throw new GrpcException(httpStatus == 0 ? GrpcStatusCode.Internal : GrpcHttpStatus.ToStatusCode(httpStatus),
                (httpStatus == 0 ? $"no valid :status ('{statusText}') from {Address}" : $"HTTP status {httpStatus} from {Address}")
                + (string.IsNullOrEmpty(serverMessage) ? string.Empty : ": " + serverMessage));
        }

        // Trailers-Only: the status came in the only HEADERS frame and there is no body.
        if (FindStatus(reply.Headers, out GrpcStatusCode headerStatus, out string headerDetail))
        {
            throw headerStatus == GrpcStatusCode.OK
                ? new GrpcException(GrpcStatusCode.Internal, "the server answered OK without a response message")
                : new GrpcException(headerStatus, headerDetail) { Metadata = Metadata(reply.Headers) };
        }

        if (reply.TrailersOnly)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "the response ended without a grpc-status");
        }

        string? contentType = Find(reply.Headers, "content-type");
        if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"the server answered with content-type '{contentType}', not application/grpc");
        }

        ReadOnlySpan<byte> payload = reply.BodyLength == 0
            ? default
            : GrpcFraming.DecodePayload(reply.Body.AsSpan(0, reply.BodyLength), _options.MaxReceiveMessageSize, Find(reply.Headers, "grpc-encoding"));
        if (!FindStatus(reply.Trailers, out GrpcStatusCode status, out string detail))
        {
            throw new GrpcException(GrpcStatusCode.Internal, "the response ended without a grpc-status");
        }

        if (status != GrpcStatusCode.OK)
        {
            throw new GrpcException(status, detail) { Metadata = Metadata(reply.Trailers) };
        }

        return reply.BodyLength == 0
            ? throw new GrpcException(GrpcStatusCode.Internal, "the server answered OK without a response message")
            : GrpcFraming.ParseMessage(payload, parser);
    }

    private static string? Find(List<KeyValuePair<string, string>> fields, string name)
    {
        foreach (KeyValuePair<string, string> field in fields)
        {
            if (field.Key == name)
            {
                return field.Value;
            }
        }

        return null;
    }

    private static bool FindStatus(List<KeyValuePair<string, string>> fields, out GrpcStatusCode status, out string detail)
    {
        status = GrpcStatusCode.Unknown;
        detail = string.Empty;
        string? text = Find(fields, GrpcStatusMessage.StatusHeader);
        if (text is null)
        {
            return false;
        }

        (status, detail) = ParseStatus(text, Find(fields, GrpcStatusMessage.MessageHeader));
        return true;
    }

    private static Dictionary<string, string> Metadata(List<KeyValuePair<string, string>> fields)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> field in fields)
        {
            if (field.Key.StartsWith("laneshim-", StringComparison.Ordinal))
            {
                metadata[field.Key] = metadata.TryGetValue(field.Key, out string? earlier) ? earlier + "," + field.Value : field.Value;
            }
        }

        return metadata;
    }
}
