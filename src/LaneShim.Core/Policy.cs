// Policy.cs - lane classes plus an ordered list of rules; the first matching rule decides.
namespace LaneShim.Core;

/// <summary>A parsed policy: lane classes and rules, first match wins.</summary>
public sealed class Policy
{
    /// <summary>The file name flag mode reports as its source.</summary>
    public const string FlagsSource = "(flags)";

    private readonly Dictionary<string, LaneClass> _classes;
    private readonly PolicyRule[] _rules;

    /// <summary>Creates a policy; <see cref="PolicyParser.Parse(string, string, IAccountNames?)"/> is the usual way.</summary>
    public Policy(string fileName, IEnumerable<LaneClass> classes, IEnumerable<PolicyRule> rules)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(rules);
        FileName = fileName;
        _classes = classes.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _rules = rules.ToArray();
    }

    /// <summary>The file the policy came from (for messages).</summary>
    public string FileName { get; }

    /// <summary>The lane classes by name.</summary>
    public IReadOnlyDictionary<string, LaneClass> Classes => _classes;

    /// <summary>The rules in file order.</summary>
    public IReadOnlyList<PolicyRule> Rules => _rules;

    /// <summary>Flag mode: one class, and every flow matches it.</summary>
    public static Policy SingleClass(LaneClass laneClass)
    {
        ArgumentNullException.ThrowIfNull(laneClass);
        var rule = new PolicyRule { Line = 0, Action = RuleAction.Grant, LaneClass = laneClass };
        return new Policy(FlagsSource, [laneClass], [rule]);
    }

    /// <summary>The first rule that matches <paramref name="flow"/> decides; none matching is <see cref="PolicyVerdict.NoMatch"/>.</summary>
    public PolicyDecision Decide(FlowFacts flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        foreach (PolicyRule rule in _rules)
        {
            if (!rule.Matches(flow))
            {
                continue;
            }

            string source = rule.Line > 0 ? $"{FileName}:{rule.Line}" : FileName;
            return rule.Action == RuleAction.Grant ? PolicyDecision.Grant(rule, source) : PolicyDecision.Deny(rule, source);
        }

        return PolicyDecision.NoMatch(FileName);
    }
}
