// NodeRole.cs - what a topology node is: an end host, a forwarding device, or a middlebox lanes avoid.
namespace LaneShim.Core.Topology;

/// <summary>The role of a node in a site topology.</summary>
public enum NodeRole
{
    Host,
    Router,
    Switch,
    Middlebox,
}
