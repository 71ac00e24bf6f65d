// PolicyVerdict.cs - the three outcomes of asking the policy about a flow.
namespace LaneShim.Core;

/// <summary>The outcome of <see cref="Policy.Decide"/>.</summary>
public enum PolicyVerdict
{
    /// <summary>A rule matched: the flow gets its class.</summary>
    Grant,

    /// <summary>A deny line matched.</summary>
    Deny,

    /// <summary>No line matched.</summary>
    NoMatch,
}
