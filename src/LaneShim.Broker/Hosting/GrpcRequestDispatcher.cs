// GrpcRequestDispatcher.cs - turns one HTTP/2 request from Kestrel into one unary gRPC call and its framed answer.
using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using LaneShim.Grpc;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Hosting;

/// <summary>The Kestrel application: validates the request, finds the method, runs it within the deadline, writes status and message.</summary>
internal sealed class GrpcRequestDispatcher : IHttpApplication<HttpContext>
{
    private const string GrpcContentType = "application/grpc";

    private readonly GrpcServiceDefinition _services;
    private readonly GrpcHostOptions _options;
    private readonly ILogger _logger;

    public GrpcRequestDispatcher(GrpcServiceDefinition services, GrpcHostOptions options, ILogger logger)
    {
        _services = services;
        _options = options;
        _logger = logger;
    }

    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    public void DisposeContext(HttpContext context, Exception? exception)
    {
    }

    public async Task ProcessRequestAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        string path = request.Path.Value ?? string.Empty;

        if (HttpMethods.IsGet(request.Method) && path == "/healthz")
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/plain";
            await response.WriteAsync("ok\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            WriteStatusOnly(response, StatusCodes.Status405MethodNotAllowed, GrpcStatusCode.Internal, $"method {request.Method} is not allowed; gRPC calls use POST");
            return;
        }

        if (!IsGrpcContentType(request.ContentType))
        {
            WriteStatusOnly(response, StatusCodes.Status415UnsupportedMediaType, GrpcStatusCode.Internal, $"content-type '{request.ContentType}' is not application/grpc");
            return;
        }

        UnaryMethod? method = _services.Find(path);
        if (method is null)
        {
            WriteStatusOnly(response, StatusCodes.Status200OK, GrpcStatusCode.Unimplemented, $"unknown method {path}");
            return;
        }

        TimeSpan? timeout = null;
        string? timeoutHeader = request.Headers[GrpcTimeout.HeaderName];
        if (!string.IsNullOrEmpty(timeoutHeader))
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out TimeSpan parsed))
            {
                WriteStatusOnly(response, StatusCodes.Status200OK, GrpcStatusCode.Internal, $"malformed grpc-timeout '{timeoutHeader}'");
                return;
            }

            timeout = parsed;
        }

        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        DateTimeOffset? deadline = null;
        DeadlineTimer? timer = null;
        if (timeout is { } t)
        {
            deadline = DateTimeOffset.UtcNow + t;
            // CancelAfter is jiffy-coarse and could end the call before the client's own deadline.
            timer = DeadlineTimer.After(t < GrpcClient.NoDeadlineThreshold ? t : GrpcClient.NoDeadlineThreshold, call);
        }

        using (timer)
        {
            await InvokeAsync(context, method, path, timeout, deadline, call).ConfigureAwait(false);
        }
    }

    // Reads the one request message, runs the handler until it answers or the call ends, and writes status and message.
    private async Task InvokeAsync(HttpContext context, UnaryMethod method, string path, TimeSpan? timeout, DateTimeOffset? deadline, CancellationTokenSource call)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;

        Task<IMessage>? handler = null;
        try
        {
            byte[] payload = await ReadMessageAsync(request.BodyReader, _options.MaxReceiveMessageSize, request.Headers["grpc-encoding"], call.Token).ConfigureAwait(false);

            var callContext = new ServerCallContext(path, DescribePeer(context), ReadCredentials(context), deadline, call.Token)
            {
                // Kestrel hands the certificate over only after the listener's validation accepted it.
                ClientCertificate = context.Connection.ClientCertificate,
            };
            handler = method.Invoke(payload, callContext);

            // A handler that ignores its token must not hold the answer past the deadline.
            IMessage reply = await handler.WaitAsync(call.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the handler for {path} returned null");

            // Into the body pipe without a flush: Kestrel sends headers, message and trailers together when the call ends,
            // so the client reads its answer in one piece.
            int size = reply.CalculateSize();
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = GrpcContentType;
            Span<byte> frame = response.BodyWriter.GetSpan(GrpcFraming.HeaderLength + size);
            frame[0] = 0;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)size);
            reply.WriteTo(frame.Slice(GrpcFraming.HeaderLength, size));
            response.BodyWriter.Advance(GrpcFraming.HeaderLength + size);
            response.AppendTrailer(GrpcStatusMessage.StatusHeader, "0");
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (or reset the stream): nobody to answer.
            Observe(handler);
        }
        catch (Exception) when (call.IsCancellationRequested)
        {
            Observe(handler);
            WriteStatus(response, GrpcStatusCode.DeadlineExceeded, $"deadline of {timeout?.TotalMilliseconds:0.###} ms exceeded on the server");
        }
        catch (GrpcException e)
        {
            WriteStatus(response, e.StatusCode, e.Detail, e.Metadata);
        }
        catch (InvalidProtocolBufferException e)
        {
            WriteStatus(response, GrpcStatusCode.Internal, $"malformed request: {e.Message}");
        }
        catch (Exception e)
        {
            _logger.LogError(e, "gRPC handler for {Method} failed", path);
            WriteStatus(response, GrpcStatusCode.Internal, "internal error");
        }
    }

    // The whole body in as few reads as it arrived in (a unary request is usually one DATA frame with END_STREAM), then
    // exactly one length-prefixed message out of it; a body past the limit is refused before it is all buffered.
    private static async ValueTask<byte[]> ReadMessageAsync(PipeReader reader, int maxMessageSize, string? grpcEncoding, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!result.IsCompleted && !result.IsCanceled)
            {
                if (buffer.Length > (long)maxMessageSize + GrpcFraming.HeaderLength)
                {
                    reader.AdvanceTo(buffer.End);
                    throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"request larger than the limit of {maxMessageSize} bytes");
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            try
            {
                if (buffer.IsEmpty)
                {
                    throw new GrpcException(GrpcStatusCode.Internal, "the request carries no message");
                }

                if (buffer.Length > (long)maxMessageSize + GrpcFraming.HeaderLength)
                {
                    // Its header names a size past the limit, or more follows one message.
                    Span<byte> header = stackalloc byte[GrpcFraming.HeaderLength];
                    buffer.Slice(0, GrpcFraming.HeaderLength).CopyTo(header);
                    _ = GrpcFraming.ReadHeader(header, maxMessageSize, grpcEncoding);
                    throw new GrpcException(GrpcStatusCode.Internal, "unexpected bytes after the message; a unary body holds exactly one");
                }

                return GrpcFraming.DecodePayload(buffer.ToArray(), maxMessageSize, grpcEncoding).ToArray();
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }
        }
    }

    private static bool IsGrpcContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        ReadOnlySpan<char> mediaType = contentType.AsSpan();
        int semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals(GrpcContentType, StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/grpc+proto", StringComparison.OrdinalIgnoreCase);
    }

    private static readonly Dictionary<string, string> EmptyMetadata = new();

    // Before the response started, the status goes in the only HEADERS frame (Trailers-Only); afterwards, in trailers.
    private static void WriteStatus(HttpResponse response, GrpcStatusCode status, string detail, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!response.HasStarted)
        {
            WriteStatusOnly(response, StatusCodes.Status200OK, status, detail);
            foreach ((string name, string value) in metadata ?? EmptyMetadata)
            {
                response.Headers[name] = value;
            }
            return;
        }

        foreach ((string name, string value) in metadata ?? EmptyMetadata)
        {
            response.AppendTrailer(name, value);
        }

        response.AppendTrailer(GrpcStatusMessage.StatusHeader, ((int)status).ToString(CultureInfo.InvariantCulture));
        response.AppendTrailer(GrpcStatusMessage.MessageHeader, GrpcStatusMessage.Encode(detail));
    }

    private static void WriteStatusOnly(HttpResponse response, int httpStatus, GrpcStatusCode status, string detail)
    {
        response.StatusCode = httpStatus;
        response.ContentType = GrpcContentType;
        response.Headers[GrpcStatusMessage.StatusHeader] = ((int)status).ToString(CultureInfo.InvariantCulture);
        response.Headers[GrpcStatusMessage.MessageHeader] = GrpcStatusMessage.Encode(detail);
    }

    private static string? DescribePeer(HttpContext context)
    {
        IHttpConnectionFeature? connection = context.Features.Get<IHttpConnectionFeature>();
        IPAddress? ip = connection?.RemoteIpAddress;
        if (ip is null)
        {
            // Kestrel has no remote IP for Unix-socket connections.
            return "unix:";
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        string port = connection!.RemotePort.ToString(CultureInfo.InvariantCulture);
        return ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"ipv6:[{ip}]:{port}" : $"ipv4:{ip}:{port}";
    }

    private static readonly object CredentialsKey = new();

    private static PeerCredentials? ReadCredentials(HttpContext context)
    {
        // SO_PEERCRED is fixed when the client connects: read it once per connection, not per call.
        IDictionary<object, object?>? items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is not null && items.TryGetValue(CredentialsKey, out object? known))
        {
            return (PeerCredentials?)known;
        }

        PeerCredentials? read = ReadCredentialsFromSocket(context);
        if (items is not null)
        {
            items[CredentialsKey] = read;
        }

        return read;
    }

    private static PeerCredentials? ReadCredentialsFromSocket(HttpContext context)
    {
        // Kestrel's socket transport exposes the connection's Socket; SO_PEERCRED is only meaningful on Unix sockets.
        Socket? socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        return socket is not null && PeerCredentials.TryRead(socket, out PeerCredentials credentials) ? credentials : null;
    }

    private static void Observe(Task? handler)
    {
        handler?.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
