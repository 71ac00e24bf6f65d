// GrantContext.cs - one RequestLane call as it passes the grant steps: the request, the caller, and what each step found.
using System.Net;
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Broker.Leases;
using LaneShim.Core;
using LaneShim.Core.Topology;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Grant;

/// <summary>The state of one grant. Each step reads what earlier steps set and sets its own part.</summary>
public sealed class GrantContext : IDisposable
{
    /// <summary>A grant for <paramref name="request"/> from <paramref name="caller"/>, within <paramref name="call"/>'s deadline.</summary>
    public GrantContext(LaneRequest request, CallerIdentity caller, ServerCallContext call)
    {
        Request = request;
        Caller = caller;
        Call = call;
    }

    /// <summary>The request as received.</summary>
    public LaneRequest Request { get; }

    /// <summary>Who asks, as the identity interceptor found it.</summary>
    public CallerIdentity Caller { get; }

    /// <summary>The call: its deadline and cancellation.</summary>
    public ServerCallContext Call { get; }

    /// <summary>The flow's policy facts (admission).</summary>
    public FlowFacts Facts { get; set; } = null!;

    /// <summary>The buffers the program set itself (admission).</summary>
    public AppBuffers App { get; set; } = null!;

    /// <summary>The host's limits as the agent reported them, or stock Linux's (admission).</summary>
    public Core.HostLimits Host { get; set; } = null!;

    /// <summary>Whether the agent reported its host's limits (admission).</summary>
    public bool HostReported { get; set; }

    /// <summary>The caller's own socket, when the proof took it (admission); disposed with the context.</summary>
    internal ProvenSocket? Proven { get; set; }

    /// <summary>The proof in words: ok, skipped, skipped: remote caller (admission).</summary>
    public string Proof { get; set; } = "skipped";

    /// <summary>Whether the broker itself sets what needs CAP_NET_ADMIN on the proven socket (admission).</summary>
    public bool BrokerApplies { get; set; }

    /// <summary>"dst for program (uid n)", for log lines and messages (policy).</summary>
    public string Who { get; set; } = "";

    /// <summary>The policy's decision (policy).</summary>
    public PolicyDecision? Decision { get; set; }

    /// <summary>The lane class, narrowed by path, learned rate and asked rate (policy, path).</summary>
    public LaneClass LaneClass { get; set; } = null!;

    /// <summary>The RTT the lane is sized for (path).</summary>
    public RttChoice Rtt { get; set; }

    /// <summary>The topology path, when the broker steers (path).</summary>
    public LanePath? Path { get; set; }

    /// <summary>What the path step adds to the reason (path).</summary>
    public string PathNote { get; set; } = "";

    /// <summary>The flow's local end, when the request names a whole one (path).</summary>
    public IPEndPoint? LocalEnd { get; set; }

    /// <summary>The flow's remote end, when the request names a whole one (path).</summary>
    public IPEndPoint? RemoteEnd { get; set; }

    /// <summary>The grant before it is a lease (plan).</summary>
    public LaneGrant Grant { get; set; } = null!;

    /// <summary>The grant's reason in words (plan, enforce).</summary>
    public string Reason { get; set; } = "";

    /// <summary>The program the lease is held for, with kernel-vouched ids (plan).</summary>
    public ProgramInfo Program { get; set; } = null!;

    /// <summary>The rate the lease reserves on each link (plan).</summary>
    public IReadOnlyList<LinkDemand> Demands { get; set; } = [];

    /// <summary>The lease (lease).</summary>
    public LeaseEntry Entry { get; set; } = null!;

    /// <summary>The caller's index among the lease's holders, one per end of its connection (lease).</summary>
    public int Holder { get; set; }

    /// <summary>The caller is the other end of a live lease's connection and joined it: no second set of rules (lease).</summary>
    public bool Joined { get; set; }

    /// <summary>True once the call's deadline has passed or the caller went away.</summary>
    public bool Expired => Call.CancellationToken.IsCancellationRequested || Call.Deadline < DateTime.UtcNow;

    /// <summary>A refusal of this grant, with what is known so far.</summary>
    public CallOutcome Refusal(string verdict, StatusCode status, string detail, string? reason = null, LogLevel level = LogLevel.None, string? log = null,
        Metadata? trailers = null, string? proof = null) => new()
        {
            Verdict = verdict,
            Status = status,
            Detail = detail,
            Trailers = trailers,
            Request = Request,
            Decision = Decision,
            Proof = proof ?? (Decision is null && verdict != "proof-failed" ? null : Proof),
            Reason = reason ?? detail,
            Level = level,
            Log = log,
        };

    /// <summary>Releases the proven socket.</summary>
    public void Dispose() => Proven?.Dispose();
}
