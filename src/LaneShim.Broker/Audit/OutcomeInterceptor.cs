// OutcomeInterceptor.cs - the one place where a call's outcome becomes its audit record, its log line and its metrics.
using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Core.Interceptors;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Services;
using LaneShim.Broker.Telemetry;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Audit;

/// <summary>
/// Runs inside <see cref="IdentityInterceptor"/>: gives the call a <see cref="CallRecord"/>, lets the handler (and the
/// grant pipeline) fill it with a <see cref="CallOutcome"/>, and when the call ends writes the outcome to the audit log,
/// the broker's log and the metrics (grants by class and result with their latency, renewals, releases).
/// </summary>
internal sealed class OutcomeInterceptor : Interceptor
{
    private static readonly string RequestLane = LaneBroker.Descriptor.FindMethodByName("RequestLane").Name;
    private readonly LaneBrokerService _service;
    private readonly ILogger _logger;

    /// <summary>Records for <paramref name="service"/>, logging as the service does.</summary>
    public OutcomeInterceptor(LaneBrokerService service)
    {
        _service = service;
        _logger = service.Logger;
    }

    /// <inheritdoc/>
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        long started = Stopwatch.GetTimestamp();
        CallRecord record = CallRecord.Of(context);
        StatusCode status = StatusCode.OK;
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
            throw;
        }
        catch (Exception) when (!context.CancellationToken.IsCancellationRequested)
        {
            status = StatusCode.Unknown;
            throw;
        }
        finally
        {
            Write(MethodName(context.Method), context, record.Outcome, status, Stopwatch.GetElapsedTime(started));
        }
    }

    private void Write(string method, ServerCallContext context, CallOutcome? outcome, StatusCode status, TimeSpan elapsed)
    {
        if (method == RequestLane)
        {
            _service.Telemetry.Metrics.Grant(status == StatusCode.OK ? outcome?.Grant?.LaneClass ?? "" : "", status == StatusCode.OK ? "granted" : StatusLabel(status), elapsed);
        }

        if (outcome is null)
        {
            return;
        }

        if (status == StatusCode.OK)
        {
            switch (outcome.Verdict)
            {
                case "renew":
                    _service.Telemetry.Metrics.Renewed();
                    break;
                case "release":
                    _service.Telemetry.Metrics.Released();
                    break;
            }
        }

        if (outcome.Level != LogLevel.None && outcome.Log is not null && _logger.IsEnabled(outcome.Level))
        {
#pragma warning disable CA2254 // the line is composed by the step that decided; structure would not add to it
            _logger.Log(outcome.Level, outcome.Log);
#pragma warning restore CA2254
        }

        if (_service.Security.Audit is AuditLog log)
        {
            log.Write(ToRecord(method, CallerIdentity.From(context), outcome));
        }
    }

    private static AuditRecord ToRecord(string method, CallerIdentity caller, CallOutcome outcome)
    {
        Flow? flow = outcome.Request?.Flow;
        LaneGrant? grant = outcome.Grant;
        return new AuditRecord
        {
            Time = DateTimeOffset.UtcNow,
            Method = method,
            Verdict = outcome.Verdict,
            Uid = caller.Local?.Uid,
            Gid = caller.Local?.Gid,
            Pid = caller.Local?.Pid,
            Program = outcome.Request?.Program?.Path is { Length: > 0 } path ? path : null,
            Principal = caller.Principal,
            Peer = caller.Peer,
            Direction = flow?.Direction switch
            {
                Direction.Outbound => "out",
                Direction.Inbound => "in",
                Direction.Listen => "listen",
                _ => null,
            },
            Local = DescribeEndpoint(flow?.Local),
            Remote = DescribeEndpoint(flow?.Remote),
            Rule = outcome.Decision?.Source,
            LaneClass = grant?.LaneClass is { Length: > 0 } c ? c : null,
            RateBps = grant?.RateBps,
            Lease = outcome.Lease ?? (grant?.LeaseId is { Length: > 0 } id ? LaneBrokerService.ShortId(id).TrimEnd('…') : null),
            Proof = outcome.Proof,
            BrokerApplied = grant?.BrokerApplied,
            Reason = outcome.Reason,
        };
    }

    private static string MethodName(string method) => method.StartsWith('/') ? method[(method.LastIndexOf('/') + 1)..] : method;

    private static string StatusLabel(StatusCode code) => code switch
    {
        StatusCode.PermissionDenied => "permission_denied",
        StatusCode.NotFound => "not_found",
        StatusCode.ResourceExhausted => "resource_exhausted",
        StatusCode.InvalidArgument => "invalid_argument",
        StatusCode.Unavailable => "unavailable",
        StatusCode.DeadlineExceeded => "deadline_exceeded",
        _ => code.ToString().ToLowerInvariant(),
    };

    private static string? DescribeEndpoint(Endpoint? endpoint)
    {
        if (endpoint is not { Address.Length: 4 or 16 })
        {
            return endpoint is { Port: > 0 } ? $"*:{endpoint.Port}" : null;
        }

        var address = new IPAddress(endpoint.Address.Span);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{endpoint.Port}" : $"{address}:{endpoint.Port}";
    }
}
