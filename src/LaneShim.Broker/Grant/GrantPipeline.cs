// GrantPipeline.cs - RequestLane as named steps: admission, policy, path, plan, lease, enforce, answer.
using Grpc.Core;
using LaneShim.Broker.Audit;
using LaneShim.Broker.Identity;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Grant;

/// <summary>
/// Runs the grant steps in order until one returns an outcome. The outcome goes to the call's <see cref="CallRecord"/>
/// (audit, log and metrics are written from there, once); a refusal is thrown as its <see cref="RpcException"/>, the
/// answer's grant is returned.
/// </summary>
public sealed class GrantPipeline
{
    private readonly IGrantStep[] _steps;

    /// <summary>A pipeline of <paramref name="steps"/>; the last must always return an outcome.</summary>
    public GrantPipeline(IEnumerable<IGrantStep> steps)
    {
        _steps = steps.ToArray();
    }

    /// <summary>The steps by name, in order.</summary>
    public IReadOnlyList<string> StepNames => _steps.Select(s => s.Name).ToArray();

    /// <summary>Runs the steps for one request.</summary>
    public async Task<LaneGrant> RunAsync(LaneRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        using var grant = new GrantContext(request, CallerIdentity.From(context), context);
        foreach (IGrantStep step in _steps)
        {
            CallOutcome? outcome = await step.RunAsync(grant).ConfigureAwait(false);
            if (outcome is null)
            {
                continue;
            }

            CallRecord.Set(context, outcome);
            return outcome.Refused ? throw outcome.ToException() : outcome.Grant!.Clone();
        }

        throw new InvalidOperationException("the grant pipeline ended without an answer");
    }
}
