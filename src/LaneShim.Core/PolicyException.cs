// PolicyException.cs - a policy that cannot be used, with every problem found and where.
namespace LaneShim.Core;

/// <summary>
/// A rejected policy. <see cref="Exception.Message"/> is the first problem as "file:line: what is wrong";
/// <see cref="Errors"/> holds all of them in line order.
/// </summary>
public sealed class PolicyException : Exception
{
    /// <summary>One problem.</summary>
    public PolicyException(string fileName, int line, string problem, Exception? inner = null)
        : this([new PolicyError(fileName, line, problem)], inner)
    {
    }

    /// <summary>Several problems; the first is the message.</summary>
    public PolicyException(IReadOnlyList<PolicyError> errors, Exception? inner = null)
        : base(First(errors).ToString(), inner)
    {
        Errors = errors;
    }

    /// <summary>Every problem, in line order.</summary>
    public IReadOnlyList<PolicyError> Errors { get; }

    /// <summary>The file of the first problem.</summary>
    public string FileName => Errors[0].FileName;

    /// <summary>The line of the first problem (0: not on a line).</summary>
    public int Line => Errors[0].Line;

    /// <summary>What is wrong, without the place.</summary>
    public string Problem => Errors[0].Problem;

    private static PolicyError First(IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return errors.Count > 0 ? errors[0] : throw new ArgumentException("at least one error is needed", nameof(errors));
    }
}
