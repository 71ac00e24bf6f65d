// PolicyStep.cs - what lanes.conf says about the flow: a class, a deny line, or no match.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Core;
using Microsoft.Extensions.Logging;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Decides the flow by the current policy. PERMISSION_DENIED names the deny line; NOT_FOUND says no rule matched (with
/// destination, program and uid), or that a listening socket's class is not bulk (sizing a listener's receive buffer
/// affects every connection it accepts, so a class must opt in with bulk=yes).
/// </summary>
internal sealed class PolicyStep(PolicyStore policies) : IGrantStep
{
    /// <inheritdoc/>
    public string Name => "policy";

    /// <inheritdoc/>
    public ValueTask<CallOutcome?> RunAsync(GrantContext grant)
    {
        FlowFacts facts = grant.Facts;
        string program = facts.ProgramPath.Length > 0 ? facts.ProgramPath : "(unknown program)";
        grant.Who = $"{facts.DescribeEndpoint()} for {program} (uid {facts.Uid})";
        PolicyDecision decision = policies.Current.Decide(facts);
        grant.Decision = decision;
        string who = grant.Who;
        switch (decision.Verdict)
        {
            case PolicyVerdict.Deny:
                return Done(grant.Refusal("deny", StatusCode.PermissionDenied, $"{decision.DenyReason} (denied by {decision.Source})",
                    reason: decision.DenyReason, level: LogLevel.Information, log: $"RequestLane {who}: deny by {decision.Source}: {decision.DenyReason}"));
            case PolicyVerdict.NoMatch:
                return Done(grant.Refusal("no-match", StatusCode.NotFound, $"no lane class matches {who}",
                    level: LogLevel.Information, log: $"RequestLane {who}: no rule matches in {decision.Source}"));
        }

        LaneClass laneClass = decision.LaneClass!;
        if (facts.Direction == FlowDirection.Listen && !laneClass.Bulk)
        {
            return Done(grant.Refusal("no-match", StatusCode.NotFound,
                $"class '{laneClass.Name}' ({decision.Source}) is not bulk; listening sockets get lanes only from classes with bulk=yes",
                reason: $"class '{laneClass.Name}' is not bulk", level: LogLevel.Information,
                log: $"RequestLane {who}: class {laneClass.Name} by {decision.Source} is not bulk"));
        }

        grant.LaneClass = laneClass;
        return Done(null);
    }

    private static ValueTask<CallOutcome?> Done(CallOutcome? outcome) => ValueTask.FromResult(outcome);
}
