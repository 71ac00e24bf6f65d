// PolicyRule.cs - one rule or deny line of a policy: its matchers and what it does.
namespace LaneShim.Core;

/// <summary>
/// One <c>rule</c> or <c>deny</c> line. Every matcher that is present must match (AND); within a matcher's
/// list any item may match (OR). A missing matcher (null) matches everything.
/// </summary>
public sealed class PolicyRule
{
    /// <summary>The line in the policy file (0 for the flag-mode catch-all).</summary>
    public required int Line { get; init; }

    /// <summary>Grant or deny.</summary>
    public required RuleAction Action { get; init; }

    /// <summary>The class to grant; set when <see cref="Action"/> is <see cref="RuleAction.Grant"/>.</summary>
    public LaneClass? LaneClass { get; init; }

    /// <summary>Why flows are denied; set when <see cref="Action"/> is <see cref="RuleAction.Deny"/>.</summary>
    public string? DenyReason { get; init; }

    /// <summary><c>dst=</c>: remote address prefixes. A flow without a remote address (listening) never matches.</summary>
    public IReadOnlyList<Cidr>? Destinations { get; init; }

    /// <summary><c>port=</c>: matched against <see cref="FlowFacts.ServicePort"/>.</summary>
    public IReadOnlyList<PortRange>? Ports { get; init; }

    /// <summary><c>program=</c>: executable path or basename patterns.</summary>
    public IReadOnlyList<ProgramPattern>? Programs { get; init; }

    /// <summary><c>uid=</c>: user ids.</summary>
    public IReadOnlyList<IdRange>? Uids { get; init; }

    /// <summary><c>gid=</c>: group ids.</summary>
    public IReadOnlyList<IdRange>? Gids { get; init; }

    /// <summary><c>principal=</c>: mTLS certificate identities. Only remote (TLS) callers have one.</summary>
    public IReadOnlyList<PrincipalPattern>? Principals { get; init; }

    /// <summary><c>direction=</c>: out, in, listen.</summary>
    public IReadOnlyList<FlowDirection>? Directions { get; init; }

    /// <summary>True when every present matcher matches <paramref name="flow"/>.</summary>
    public bool Matches(FlowFacts flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (Directions is not null && !Directions.Contains(flow.Direction))
        {
            return false;
        }

        if (Destinations is not null)
        {
            if (flow.RemoteAddress is null || !Destinations.Any(d => d.Contains(flow.RemoteAddress)))
            {
                return false;
            }
        }

        if (Ports is not null && !Ports.Any(p => p.Contains(flow.ServicePort)))
        {
            return false;
        }

        if (Principals is not null && (flow.Principals is null || !Principals.Any(p => flow.Principals.Any(p.IsMatch))))
        {
            return false;
        }

        // A remote (mTLS) caller's program, uid and gid are its own claims about another host: never matched.
        bool remote = flow.Principals is not null;
        if (Programs is not null && (remote || !Programs.Any(p => p.IsMatch(flow.ProgramPath))))
        {
            return false;
        }

        if (Uids is not null && (remote || !Uids.Any(u => u.Contains(flow.Uid))))
        {
            return false;
        }

        return Gids is null || (!remote && Gids.Any(g => g.Contains(flow.Gid)));
    }
}
