// GrpcClient.cs - a unary gRPC client over HttpClient: prior-knowledge HTTP/2 cleartext to a Unix socket or TCP port, strict deadlines.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace LaneShim.Grpc;

/// <summary>
/// Calls unary gRPC methods on one endpoint over a single HTTP/2 connection (re-established when it breaks).
/// Every failure of a call is a <see cref="GrpcException"/>: transport failures are <see cref="GrpcStatusCode.Unavailable"/>,
/// a passed deadline is <see cref="GrpcStatusCode.DeadlineExceeded"/>, the caller's token is <see cref="GrpcStatusCode.Cancelled"/>.
/// Thread-safe; create one per endpoint and keep it.
/// </summary>
public sealed partial class GrpcClient : IDisposable
{
    /// <summary>Deadlines at or above this (and <see cref="Timeout.InfiniteTimeSpan"/>) mean "no deadline".</summary>
    public static readonly TimeSpan NoDeadlineThreshold = TimeSpan.FromDays(24);

    private readonly HttpClient _http;
    private readonly GrpcClientOptions _options;
    private readonly string _authority;
    private readonly string _authorityHost;
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    /// <summary>Creates a client for <paramref name="address"/>. Nothing is connected until the first call.</summary>
    /// <exception cref="ArgumentException">A TCP address with port 0 (which only a server can use).</exception>
    public GrpcClient(BrokerAddress address, GrpcClientOptions? options = null)
        : this(address, options, handler: null)
    {
    }

    /// <summary>Test seam: <paramref name="handler"/> replaces the socket handler (to simulate a stack that ignores cancellation).</summary>
    internal GrpcClient(BrokerAddress address, GrpcClientOptions? options, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Kind == BrokerAddressKind.Tcp && address.Port == 0)
        {
            throw new ArgumentException($"cannot call {address.ToListenString()}: port 0 is only valid for listening", nameof(address));
        }

        Address = address;
        _options = options ?? new GrpcClientOptions();
        _authority = address.Kind == BrokerAddressKind.Unix ? "http://localhost" : address.ToString();
        _authorityHost = address.Kind == BrokerAddressKind.Unix ? "localhost" : new Uri(_authority).Authority;
        InitDirect(customHandler: handler is not null);
        _http = new HttpClient(handler ?? CreateHandler(address, _options), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The endpoint this client calls.</summary>
    public BrokerAddress Address { get; }

    /// <summary>
    /// Calls a unary method. The whole call, connection set-up included, ends by <paramref name="deadline"/>
    /// (relative to now; <see cref="Timeout.InfiniteTimeSpan"/> for none): at the deadline the task completes with
    /// <see cref="GrpcStatusCode.DeadlineExceeded"/> and the request is cancelled on the wire.
    /// </summary>
    /// <param name="methodPath">The full path, e.g. <see cref="LaneBrokerMethods.RequestLane"/>.</param>
    /// <param name="request">The request message.</param>
    /// <param name="parser">Parses the response message.</param>
    /// <param name="deadline">How long the call may take.</param>
    /// <param name="cancellationToken">Cancels the call (status <see cref="GrpcStatusCode.Cancelled"/>).</param>
    /// <returns>The response message.</returns>
    /// <exception cref="GrpcException">Any failure, and nothing else: a server status, a transport failure, the deadline,
    /// cancellation, or invalid arguments (<see cref="GrpcStatusCode.InvalidArgument"/>).</exception>
    public async Task<TResponse> CallUnaryAsync<TRequest, TResponse>(string methodPath, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        long started = Stopwatch.GetTimestamp();
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        DeadlineTimer? timer = HasDeadline(deadline) ? new DeadlineTimer(DeadlineTimer.TimestampAfter(started, deadline), cts) : null;
        Task<TResponse> call = CallCoreAsync(methodPath, request, parser, deadline, started, cancellationToken, cts.Token);
        try
        {
            if (timer is null && !cancellationToken.CanBeCanceled)
            {
                return await call.ConfigureAwait(false);
            }

            if (!call.IsCompleted)
            {
                // The call cancels itself at the deadline, but the caller does not wait for the HTTP stack to notice.
                await WhenCompletedExpiredOrCancelledAsync(call, timer, cancellationToken).ConfigureAwait(false);
            }

            return call.IsCompleted
                ? await call.ConfigureAwait(false)
                : throw (cancellationToken.IsCancellationRequested ? Cancelled() : DeadlineExceeded(deadline));
        }
        finally
        {
            timer?.Dispose();
            Release(call, cts);
        }
    }

    /// <summary>
    /// Calls a unary method and blocks until it ends. The caller is released at <paramref name="deadline"/> (measured with
    /// <see cref="Stopwatch"/>, typically within 1 ms), even when the asynchronous machinery underneath does not respond.
    /// Called from a thread of its own (not the thread pool's), without a cancellable token, on a cleartext Unix-socket or
    /// IP-address endpoint, the call runs on the caller's thread over a pooled connection of our own (GrpcClient.Direct.cs);
    /// otherwise it goes through HttpClient.
    /// </summary>
    /// <inheritdoc cref="CallUnaryAsync{TRequest, TResponse}(string, TRequest, MessageParser{TResponse}, TimeSpan, CancellationToken)"/>
    public TResponse CallUnary<TRequest, TResponse>(string methodPath, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, CancellationToken cancellationToken = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        long started = Stopwatch.GetTimestamp();
        // Not on pool threads: a blocking recv there is invisible to the pool's starvation control (Task.Wait is not), and
        // an in-process server on the same pool would wait for the very thread we hold.
        if (_directEndPoint is not null && !cancellationToken.CanBeCanceled && !Thread.CurrentThread.IsThreadPoolThread)
        {
            return CallDirect(methodPath, request, parser, deadline, started);
        }

        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bool hasDeadline = HasDeadline(deadline);
        long due = hasDeadline ? DeadlineTimer.TimestampAfter(started, deadline) : long.MaxValue;
        DeadlineTimer? timer = hasDeadline ? new DeadlineTimer(due, cts) : null;
        Task<TResponse> call = CallCoreAsync(methodPath, request, parser, deadline, started, cancellationToken, cts.Token);
        try
        {
            return WaitUntil(call, due, cancellationToken)
                ? call.GetAwaiter().GetResult()
                : throw (cancellationToken.IsCancellationRequested ? Cancelled() : DeadlineExceeded(deadline));
        }
        finally
        {
            timer?.Dispose();
            Release(call, cts);
        }
    }

    /// <summary>Closes the connection; calls in flight and later calls fail with <see cref="GrpcStatusCode.Unavailable"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        DisposeDirect();
        _http.Dispose();
    }

    private async Task<TResponse> CallCoreAsync<TRequest, TResponse>(string methodPath, TRequest request, MessageParser<TResponse> parser, TimeSpan deadline, long started, CancellationToken callerToken, CancellationToken callToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        if (callerToken.IsCancellationRequested && !_disposed && IsValidCall(methodPath, request, parser))
        {
            throw Cancelled();
        }

        (byte[] frame, TimeSpan remaining) = PrepareCall(methodPath, request, parser, deadline, started);
        bool hasDeadline = HasDeadline(deadline);

        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, UriFor(methodPath))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(frame),
            };
            message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
            message.Headers.TryAddWithoutValidation("TE", "trailers");
            message.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            if (hasDeadline)
            {
                message.Headers.TryAddWithoutValidation(GrpcTimeout.HeaderName, GrpcTimeout.Format(remaining));
            }

            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, callToken).ConfigureAwait(false);
            return await ReadResponseAsync(response, parser, callToken).ConfigureAwait(false);
        }
        catch (GrpcException)
        {
            throw;
        }
        catch (Exception) when (callToken.IsCancellationRequested)
        {
            throw callerToken.IsCancellationRequested ? Cancelled() : DeadlineExceeded(deadline);
        }
        catch (Exception e)
        {
            throw _disposed ? Disposed() : MapFailure(e);
        }
    }

    // Internal for the reply fuzzer (tests/LaneShim.Fuzz): every byte a broker sends back goes through here.
    internal async Task<TResponse> ReadResponseAsync<TResponse>(HttpResponseMessage response, MessageParser<TResponse> parser, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        int httpStatus = (int)response.StatusCode;
        if (httpStatus != 200)
        {
            string? serverMessage = TryGetStatus(response.Headers, out _, out string headerMessage) ? headerMessage : null;
            throw new GrpcException(GrpcHttpStatus.ToStatusCode(httpStatus),
                $"HTTP status {httpStatus} {response.ReasonPhrase} from {Address}" + (string.IsNullOrEmpty(serverMessage) ? string.Empty : ": " + serverMessage));
        }

        // Trailers-Only: the status came in the only HEADERS frame and there is no body.
        if (TryGetStatus(response.Headers, out GrpcStatusCode headerStatus, out string headerDetail))
        {
            throw headerStatus == GrpcStatusCode.OK
                ? new GrpcException(GrpcStatusCode.Internal, "the server answered OK without a response message")
                : new GrpcException(headerStatus, headerDetail) { Metadata = ReadMetadata(response.Headers) };
        }

        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"the server answered with content-type '{mediaType}', not application/grpc");
        }

        string? encoding = response.Headers.TryGetValues("grpc-encoding", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[]? payload;
        await using (body.ConfigureAwait(false))
        {
            payload = await GrpcFraming.ReadSingleMessageAsync(body, _options.MaxReceiveMessageSize, encoding, cancellationToken).ConfigureAwait(false);
        }

        if (!TryGetStatus(response.TrailingHeaders, out GrpcStatusCode status, out string detail))
        {
            throw new GrpcException(GrpcStatusCode.Internal, "the response ended without a grpc-status");
        }

        if (status != GrpcStatusCode.OK)
        {
            throw new GrpcException(status, detail) { Metadata = ReadMetadata(response.TrailingHeaders) };
        }

        return payload is null
            ? throw new GrpcException(GrpcStatusCode.Internal, "the server answered OK without a response message")
            : GrpcFraming.ParseMessage(payload, parser);
    }

    // Only our own names: HTTP and gRPC headers are not status metadata.
    private static Dictionary<string, string> ReadMetadata(HttpHeaders headers)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, IEnumerable<string>> header in headers)
        {
            if (header.Key.StartsWith("laneshim-", StringComparison.OrdinalIgnoreCase))
            {
                metadata[header.Key.ToLowerInvariant()] = string.Join(",", header.Value);
            }
        }
        return metadata;
    }

    private static bool TryGetStatus(HttpHeaders headers, out GrpcStatusCode status, out string detail)
    {
        status = GrpcStatusCode.Unknown;
        detail = string.Empty;
        if (!headers.TryGetValues(GrpcStatusMessage.StatusHeader, out IEnumerable<string>? values))
        {
            return false;
        }

        (status, detail) = ParseStatus(values.FirstOrDefault(),
            headers.TryGetValues(GrpcStatusMessage.MessageHeader, out IEnumerable<string>? messages) ? messages.FirstOrDefault() : null);
        return true;
    }

    // grpc-status and grpc-message as both call paths report them.
    private static (GrpcStatusCode Status, string Detail) ParseStatus(string? statusText, string? messageText)
    {
        if (!int.TryParse(statusText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code))
        {
            return (GrpcStatusCode.Internal, $"malformed grpc-status '{statusText}'");
        }

        // Codes outside the known range are reported as UNKNOWN, as the gRPC spec asks.
        return (code is >= 0 and <= 16 ? (GrpcStatusCode)code : GrpcStatusCode.Unknown,
            GrpcStatusMessage.Decode(messageText));
    }

    private static bool IsValidCall(string methodPath, object? request, object? parser) =>
        !string.IsNullOrEmpty(methodPath) && methodPath[0] == '/' && request is not null && parser is not null;

    // What every call checks and builds first, on either path: its arguments, the client, the time left, the message.
    private (byte[] Frame, TimeSpan Remaining) PrepareCall<TRequest>(string methodPath, TRequest request, object? parser, TimeSpan deadline, long started)
        where TRequest : IMessage<TRequest>
    {
        if (!IsValidCall(methodPath, request, parser))
        {
            throw new GrpcException(GrpcStatusCode.InvalidArgument, "a call needs a method path starting with '/', a request and a response parser");
        }

        if (_disposed)
        {
            throw Disposed();
        }

        TimeSpan remaining = HasDeadline(deadline) ? deadline - Stopwatch.GetElapsedTime(started) : Timeout.InfiniteTimeSpan;
        if (HasDeadline(deadline) && remaining <= TimeSpan.Zero)
        {
            throw DeadlineExceeded(deadline);
        }

        try
        {
            return (GrpcFraming.Encode(request), remaining);
        }
        catch (Exception e) when (e is not GrpcException)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"failed to serialize the request: {e.Message}", e);
        }
    }

    private Uri UriFor(string methodPath) => _uris.GetOrAdd(methodPath, static (path, authority) => new Uri(authority + path, UriKind.Absolute), _authority);

    private static bool HasDeadline(TimeSpan deadline) => deadline != Timeout.InfiniteTimeSpan && deadline < NoDeadlineThreshold;

    private static GrpcException DeadlineExceeded(TimeSpan deadline) => new(GrpcStatusCode.DeadlineExceeded,
        $"deadline of {deadline.TotalMilliseconds:0.###} ms exceeded");

    private GrpcException Disposed() => new(GrpcStatusCode.Unavailable, $"the client for {Address} was disposed");

    private static GrpcException Cancelled() => new(GrpcStatusCode.Cancelled, "the call was cancelled by the caller");

    // Blocks until the call completes, the caller cancels, or the Stopwatch passes `due`. Task.Wait tells the thread pool
    // that a pool thread is blocked (so a caller on the pool does not starve the very call it waits for), but it times out
    // by the coarse tick count; so it covers all but the last few milliseconds, and Monitor.Wait (precise) the rest.
    internal static bool WaitUntil(Task call, long due, CancellationToken cancellationToken)
    {
        long coarseUntil = due == long.MaxValue ? long.MaxValue : due - DeadlineTimer.TimestampAfter(0, DeadlineTimer.Lead);
        try
        {
            while (!call.IsCompleted)
            {
                int waitMs;
                if (coarseUntil == long.MaxValue)
                {
                    waitMs = Timeout.Infinite;
                }
                else
                {
                    // A computed wait must never reach Timeout.Infinite (-1): stop at zero.
                    long ms = (coarseUntil - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                    if (ms <= 0)
                    {
                        break;
                    }

                    waitMs = (int)Math.Min(ms, int.MaxValue);
                }

                call.Wait(waitMs, cancellationToken);
            }
        }
        catch (AggregateException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        if (call.IsCompleted)
        {
            return true;
        }

        object gate = new();
        call.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() =>
        {
            lock (gate)
            {
                Monitor.PulseAll(gate);
            }
        });
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static g =>
        {
            lock (g!)
            {
                Monitor.PulseAll(g);
            }
        }, gate);

        lock (gate)
        {
            while (!call.IsCompleted && !cancellationToken.IsCancellationRequested)
            {
                long remaining = due - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return false;
                }

                Monitor.Wait(gate, (int)Math.Min(int.MaxValue, ((remaining * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency));
            }
        }

        return call.IsCompleted;
    }

    private static async Task WhenCompletedExpiredOrCancelledAsync(Task call, DeadlineTimer? timer, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            await Task.WhenAny(call, timer!.Expired).ConfigureAwait(false);
            return;
        }

        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), cancelled);
        await Task.WhenAny(call, timer?.Expired ?? cancelled.Task, cancelled.Task).ConfigureAwait(false);
    }

    // A finished call frees its token source; an abandoned one is cancelled now (off this thread: a registration may block)
    // and freed when it ends, its exception observed so it is never reported as unobserved.
    private static void Release(Task call, CancellationTokenSource cts)
    {
        if (call.IsCompleted)
        {
            cts.Dispose();
            return;
        }

        Task cancelling = cts.CancelAsync();
        Task.WhenAll(call, cancelling).ContinueWith(
            static (t, state) =>
            {
                _ = t.Exception;
                ((CancellationTokenSource)state!).Dispose();
            },
            cts,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
