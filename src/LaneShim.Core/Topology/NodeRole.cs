// NodeRole.cs - what a topology node is: an end host, a forwarding device, or a middlebox lanes avoid.
namespace LaneShim.Core.Topology;

/// <summary>The role of a node in a site topology.</summary>
public enum NodeRole
{
    /// <summary>An end host: its <c>addr=</c> prefixes name the flows a lane starts or ends at; a path may also cross it.</summary>
    Host,

    /// <summary>A layer-3 hop the broker steers (marks a lane's flows onto the chosen next link) when a path crosses it.</summary>
    Router,

    /// <summary>A layer-2 hop; steered like a router when a path crosses it.</summary>
    Switch,

    /// <summary>A firewall, IDS or proxy (its <c>type=</c>) that lanes route around unless the rule allows that type.</summary>
    Middlebox,
}
