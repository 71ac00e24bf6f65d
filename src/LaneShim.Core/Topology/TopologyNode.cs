// TopologyNode.cs - one node of a site topology.
using System.Net;

namespace LaneShim.Core.Topology;

/// <summary>A node: its role, the middlebox type, the addresses that identify a host, and where to program a router.</summary>
/// <param name="Name">Unique name.</param>
/// <param name="Role">Host, router, switch or middlebox.</param>
/// <param name="MiddleboxType">For middleboxes, e.g. "firewall" or "ids"; null otherwise.</param>
/// <param name="Addresses">Addresses or prefixes that belong to this node (hosts).</param>
/// <param name="Netns">The network namespace that runs this node, for the Linux-router backend (lab and tests).</param>
/// <param name="Line">Where the node was defined.</param>
public sealed record TopologyNode(string Name, NodeRole Role, string? MiddleboxType, IReadOnlyList<Cidr> Addresses, string? Netns, int Line)
{
    /// <summary>True when <paramref name="address"/> belongs to this node.</summary>
    public bool Owns(IPAddress address) => Addresses.Any(a => a.Contains(address));
}
