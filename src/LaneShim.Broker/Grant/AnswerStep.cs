// AnswerStep.cs - the grant the caller receives, and the outcome that records it.
using LaneShim.Broker.Audit;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

/// <summary>The last step: the lease's grant, as granted, is the answer.</summary>
internal sealed class AnswerStep : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "answer";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant) => ValueTask.FromResult<CallOutcome?>(new CallOutcome
    {
        Verdict = "grant",
        Request = grant.Request,
        Decision = grant.Decision,
        Grant = grant.Entry.Grant,
        Proof = grant.Proof,
        Reason = grant.Entry.Grant.Reason,
        Level = LogLevel.Debug,
        Log = $"RequestLane {grant.Who}: grant by {grant.Decision?.Source}, lease {Services.LaneBrokerService.ShortId(grant.Entry.Id)}: {grant.Entry.Grant.Reason}",
    });
}
