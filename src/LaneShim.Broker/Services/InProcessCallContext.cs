// InProcessCallContext.cs - the ServerCallContext of a call made in the broker's own process (embedding, benchmarks, tests).
using Grpc.Core;
using LaneShim.Broker.Identity;

namespace LaneShim.Broker.Services;

/// <summary>
/// Calls a <see cref="LaneBrokerService"/> method directly, without a transport: the caller's identity is given
/// (what the identity interceptor would have found), the deadline and cancellation are the caller's. No interceptor
/// runs, so nothing is audited, logged or counted for such calls beyond what the method does itself.
/// </summary>
public sealed class InProcessCallContext : ServerCallContext
{
    private readonly Dictionary<object, object> _userState = new();
    private readonly string _method;
    private readonly DateTime _deadline;
    private readonly CancellationToken _cancellationToken;
    private Metadata _trailers = new();
    private Status _status;

    /// <summary>A call of <paramref name="method"/> by <paramref name="credentials"/> (null: anonymous).</summary>
    public InProcessCallContext(string method, PeerCredentials? credentials = null, DateTime? deadline = null, CancellationToken cancellationToken = default)
        : this(method, CallerIdentity.Of(credentials, certificate: null, credentials is null ? "in-process" : "unix:"), deadline, cancellationToken)
    {
    }

    private InProcessCallContext(string method, CallerIdentity caller, DateTime? deadline, CancellationToken cancellationToken)
    {
        _method = method;
        _deadline = deadline ?? DateTime.MaxValue;
        _cancellationToken = cancellationToken;
        _userState[CallerIdentity.Key] = caller;
    }

    /// <summary>A call of <paramref name="method"/> by <paramref name="caller"/> (for instance a kernel-reported socket's owner).</summary>
    public static InProcessCallContext For(string method, CallerIdentity caller, DateTime? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return new InProcessCallContext(method, caller, deadline, cancellationToken);
    }

    /// <inheritdoc/>
    protected override string MethodCore => _method;

    /// <inheritdoc/>
    protected override string HostCore => "localhost";

    /// <inheritdoc/>
    protected override string PeerCore => "in-process";

    /// <inheritdoc/>
    protected override DateTime DeadlineCore => _deadline;

    /// <inheritdoc/>
    protected override Metadata RequestHeadersCore { get; } = new();

    /// <inheritdoc/>
    protected override CancellationToken CancellationTokenCore => _cancellationToken;

    /// <inheritdoc/>
    protected override Metadata ResponseTrailersCore => _trailers;

    /// <inheritdoc/>
    protected override Status StatusCore { get => _status; set => _status = value; }

    /// <inheritdoc/>
    protected override WriteOptions? WriteOptionsCore { get; set; }

    /// <inheritdoc/>
    protected override AuthContext AuthContextCore { get; } = new(null, new Dictionary<string, List<AuthProperty>>());

    /// <inheritdoc/>
    protected override IDictionary<object, object> UserStateCore => _userState;

    /// <inheritdoc/>
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("in-process calls do not propagate");

    /// <inheritdoc/>
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
