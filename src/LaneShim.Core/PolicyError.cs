// PolicyError.cs - one problem found in a policy file, with its place.
namespace LaneShim.Core;

/// <summary>One problem in a policy: file, line (0 when not tied to a line) and what is wrong.</summary>
/// <param name="FileName">The policy file, or "(flags)".</param>
/// <param name="Line">1-based line; 0 when the problem is not on a line.</param>
/// <param name="Problem">What is wrong, in words.</param>
public sealed record PolicyError(string FileName, int Line, string Problem)
{
    /// <summary>"file:line: what is wrong" (or "file: what is wrong" without a line).</summary>
    public override string ToString() => Line > 0 ? $"{FileName}:{Line}: {Problem}" : $"{FileName}: {Problem}";
}
