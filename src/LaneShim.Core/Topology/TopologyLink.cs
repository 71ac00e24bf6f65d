// TopologyLink.cs - one bidirectional link of a site topology.
namespace LaneShim.Core.Topology;

/// <summary>A link between two nodes, the same both ways.</summary>
/// <param name="Index">Position in the topology's link list.</param>
/// <param name="A">One end.</param>
/// <param name="B">The other end.</param>
/// <param name="CapacityBps">Capacity in bits per second.</param>
/// <param name="Latency">One-way latency.</param>
/// <param name="Loss">Random loss, 0..1.</param>
/// <param name="Mark">The fwmark that makes the routers at its ends send a flow over this link; 0 when it is the default route.</param>
/// <param name="Vlan">VLAN id, 0 when untagged.</param>
/// <param name="Line">Where the link was defined.</param>
public sealed record TopologyLink(int Index, string A, string B, ulong CapacityBps, TimeSpan Latency, double Loss, uint Mark, int Vlan, int Line)
{
    /// <summary>The end that is not <paramref name="node"/>.</summary>
    public string Other(string node) => node == A ? B : A;

    /// <summary>"a-b" for messages.</summary>
    public override string ToString() => $"{A}-{B}";
}
