// LanePath.cs - a computed path through the topology, with the numbers a grant is sized from.
namespace LaneShim.Core.Topology;

/// <summary>A path: its nodes in order, the links between them, and its bottleneck and latency.</summary>
public sealed record LanePath(IReadOnlyList<string> Nodes, IReadOnlyList<TopologyLink> Links, long TopologyVersion)
{
    /// <summary>The smallest capacity on the path, bits per second.</summary>
    public ulong BottleneckBps => Links.Count == 0 ? ulong.MaxValue : Links.Min(l => l.CapacityBps);

    /// <summary>Sum of one-way latencies.</summary>
    public TimeSpan OneWayLatency => TimeSpan.FromTicks(Links.Sum(l => l.Latency.Ticks));

    /// <summary>Round-trip propagation time.</summary>
    public TimeSpan Rtt => OneWayLatency * 2;

    /// <summary>Number of links.</summary>
    public int Hops => Links.Count;

    /// <summary>A stable id: the node names joined by '>'.</summary>
    public string Id => string.Join('>', Nodes);
}
