// CallOutcome.cs - what one broker call decided, as a value: the audit verdict, the status, the facts and the log line.
using Grpc.Core;
using LaneShim.Core;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Audit;

/// <summary>
/// The typed outcome of a call (or of the grant step that ended it). Steps and handlers only return or throw these;
/// <see cref="OutcomeInterceptor"/> is the one place that turns them into the audit record, the log line and the metric.
/// </summary>
public sealed record CallOutcome
{
    /// <summary>The audit verdict: grant, deny, no-match, invalid, unauthenticated, proof-failed, not-owner, exhausted, error, late (the broker set the lane after the caller's deadline), renew, release.</summary>
    public required string Verdict { get; init; }

    /// <summary>The call's status: OK for an answer, otherwise the refusal.</summary>
    public StatusCode Status { get; init; } = StatusCode.OK;

    /// <summary>The status message a refused caller reads.</summary>
    public string Detail { get; init; } = "";

    /// <summary>Trailers of a refusal (the counter-offer <c>laneshim-offer-bps</c>); null for none.</summary>
    public Metadata? Trailers { get; init; }

    /// <summary>The flow and program the decision was about (the request, or the lease's own for renewals and releases).</summary>
    public LaneRequest? Request { get; init; }

    /// <summary>The policy decision, once there was one.</summary>
    public PolicyDecision? Decision { get; init; }

    /// <summary>The grant answered (or renewed, or released).</summary>
    public LaneGrant? Grant { get; init; }

    /// <summary>A lease the decision was about when there is no grant (shortened, as in logs).</summary>
    public string? Lease { get; init; }

    /// <summary>The socket proof: ok, failed, skipped, skipped: remote caller.</summary>
    public string? Proof { get; init; }

    /// <summary>Why, in words, for the audit record.</summary>
    public string? Reason { get; init; }

    /// <summary>The level of <see cref="Log"/>; <see cref="LogLevel.None"/> logs nothing.</summary>
    public LogLevel Level { get; init; } = LogLevel.None;

    /// <summary>The broker's log line for this outcome.</summary>
    public string? Log { get; init; }

    /// <summary>True for a refusal (the caller gets <see cref="Status"/> and <see cref="Detail"/>).</summary>
    public bool Refused => Status != StatusCode.OK;

    /// <summary>The refusal as the caller receives it.</summary>
    public RpcException ToException() => new(new Status(Status, Detail), Trailers ?? new Metadata());
}
