// IGrantStep.cs - one named step of the grant path.
using LaneShim.Broker.Audit;

namespace LaneShim.Broker.Grant;

/// <summary>
/// A step of <see cref="GrantPipeline"/>. It reads and sets its part of the <see cref="GrantContext"/> and returns null to
/// go on, or the <see cref="CallOutcome"/> that ends the grant (a refusal, or for the last step the answer).
/// </summary>
public interface IGrantStep
{
    /// <summary>The step's name in the pipeline: admission, policy, path, plan, lease, enforce, answer.</summary>
    string Name { get; }

    /// <summary>Runs the step.</summary>
    ValueTask<CallOutcome?> RunAsync(GrantContext grant);
}
