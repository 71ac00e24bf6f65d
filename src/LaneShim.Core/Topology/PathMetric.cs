// PathMetric.cs - what "best path" means for a lane.
namespace LaneShim.Core.Topology;

/// <summary>How paths are ranked (ties are broken by the other metrics).</summary>
public enum PathMetric
{
    /// <summary>Least total latency.</summary>
    Fastest,

    /// <summary>Largest bottleneck capacity.</summary>
    Widest,

    /// <summary>Fewest hops.</summary>
    Shortest,
}
