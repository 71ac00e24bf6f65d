// LinkDemand.cs - one link a lease crosses and must reserve its rate on: a topology link or a class's virtual link.
namespace LaneShim.Broker.Leases;

/// <summary>A capacity a grant reserves its rate on.</summary>
/// <param name="Key">Stable identity across restarts and brokers, e.g. <c>link:edgea-edgeb#3</c> or <c>class:dmz</c>.</param>
/// <param name="Name">What messages call it, e.g. <c>link edgea-edgeb</c> or <c>class dmz</c>.</param>
/// <param name="CapacityBps">The most all live leases on it may hold together, bits per second.</param>
public sealed record LinkDemand(string Key, string Name, ulong CapacityBps)
{
    /// <summary>The demands of a lease on <paramref name="path"/> (each link of it) of class <paramref name="laneClass"/> (its capacity=, if any).</summary>
    public static IReadOnlyList<LinkDemand> For(LaneShim.Core.LaneClass laneClass, LaneShim.Core.Topology.LanePath? path)
    {
        var demands = new List<LinkDemand>();
        if (path is not null)
        {
            foreach (LaneShim.Core.Topology.TopologyLink link in path.Links)
            {
                demands.Add(new LinkDemand($"link:{link}#{link.Index}", $"link {link}", link.CapacityBps));
            }
        }
        if (laneClass.CapacityBps > 0)
        {
            demands.Add(new LinkDemand($"class:{laneClass.Name}", $"class {laneClass.Name}", laneClass.CapacityBps));
        }
        return demands;
    }
}
