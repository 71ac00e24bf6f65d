// PolicyDecision.cs - what the policy decided for a flow, and which line decided it.
namespace LaneShim.Core;

/// <summary>A policy decision: grant a class, deny with a reason, or no match.</summary>
public sealed record PolicyDecision
{
    private PolicyDecision(PolicyVerdict verdict, LaneClass? laneClass, string? denyReason, PolicyRule? rule, string source)
    {
        Verdict = verdict;
        LaneClass = laneClass;
        DenyReason = denyReason;
        Rule = rule;
        Source = source;
    }

    /// <summary>Grant, Deny or NoMatch.</summary>
    public PolicyVerdict Verdict { get; }

    /// <summary>The granted class (Grant only).</summary>
    public LaneClass? LaneClass { get; }

    /// <summary>The deny reason (Deny only).</summary>
    public string? DenyReason { get; }

    /// <summary>The deciding rule (null for NoMatch).</summary>
    public PolicyRule? Rule { get; }

    /// <summary>Where the deciding rule is: "policy.conf:7", or the policy's name for flag mode and NoMatch.</summary>
    public string Source { get; }

    /// <summary>A grant by <paramref name="rule"/>.</summary>
    public static PolicyDecision Grant(PolicyRule rule, string source)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new(PolicyVerdict.Grant, rule.LaneClass ?? throw new ArgumentException("a grant rule needs a class", nameof(rule)), null, rule, source);
    }

    /// <summary>A denial by <paramref name="rule"/>.</summary>
    public static PolicyDecision Deny(PolicyRule rule, string source)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new(PolicyVerdict.Deny, null, rule.DenyReason ?? "denied by policy", rule, source);
    }

    /// <summary>No rule matched.</summary>
    public static PolicyDecision NoMatch(string source) => new(PolicyVerdict.NoMatch, null, null, null, source);
}
