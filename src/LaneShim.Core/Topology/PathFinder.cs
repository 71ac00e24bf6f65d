// PathFinder.cs - fastest, widest and shortest paths that avoid middleboxes (all, or only given types).
namespace LaneShim.Core.Topology;

/// <summary>Dijkstra over the topology with a lexicographic cost per metric.</summary>
public static class PathFinder
{
    /// <summary>
    /// The best path from <paramref name="from"/> to <paramref name="to"/>, or null when none avoids the middleboxes.
    /// </summary>
    /// <param name="topology">The graph to search; the path carries its <see cref="SiteTopology.Version"/>.</param>
    /// <param name="from">Name of the node the path starts at.</param>
    /// <param name="to">Name of the node the path ends at; it may itself be a middlebox.</param>
    /// <param name="metric">What "best" means; ties fall to the other two metrics.</param>
    /// <param name="avoidTypes">Middlebox types to avoid; null avoids every middlebox.</param>
    public static LanePath? Find(SiteTopology topology, string from, string to, PathMetric metric, IReadOnlySet<string>? avoidTypes = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        if (topology.Node(from) is null || topology.Node(to) is null)
        {
            return null;
        }
        int source = topology.IndexOf(from), target = topology.IndexOf(to);
        int n = topology.Nodes.Count;
        var best = new Cost[n];
        var viaLink = new int[n];
        var viaNode = new int[n];
        var done = new bool[n];
        Array.Fill(best, Cost.Infinite);
        Array.Fill(viaLink, -1);
        best[source] = Cost.Start;
        var queue = new PriorityQueue<int, Cost>(new CostComparer(metric));
        queue.Enqueue(source, best[source]);
        var comparer = new CostComparer(metric);
        while (queue.TryDequeue(out int node, out Cost cost))
        {
            if (done[node])
            {
                continue;
            }
            done[node] = true;
            if (node == target)
            {
                break;
            }
            foreach ((int next, int link) in topology.Adjacent(node))
            {
                if (done[next] || (next != target && Avoided(topology.Nodes[next], avoidTypes)))
                {
                    continue;
                }
                TopologyLink l = topology.Links[link];
                var candidate = new Cost(cost.LatencyTicks + l.Latency.Ticks, cost.Hops + 1, Math.Min(cost.BottleneckBps, l.CapacityBps));
                if (comparer.Compare(candidate, best[next]) < 0)
                {
                    best[next] = candidate;
                    viaLink[next] = link;
                    viaNode[next] = node;
                    queue.Enqueue(next, candidate);
                }
            }
        }
        if (!done[target])
        {
            return null;
        }
        var nodes = new List<string>();
        var links = new List<TopologyLink>();
        for (int at = target; at != source; at = viaNode[at])
        {
            nodes.Add(topology.Nodes[at].Name);
            links.Add(topology.Links[viaLink[at]]);
        }
        nodes.Add(from);
        nodes.Reverse();
        links.Reverse();
        return new LanePath(nodes, links, topology.Version);
    }

    private static bool Avoided(TopologyNode node, IReadOnlySet<string>? avoidTypes) =>
        node.Role == NodeRole.Middlebox && (avoidTypes is null || (node.MiddleboxType is not null && avoidTypes.Contains(node.MiddleboxType)));

    private readonly record struct Cost(long LatencyTicks, int Hops, ulong BottleneckBps)
    {
        public static Cost Start => new(0, 0, ulong.MaxValue);

        public static Cost Infinite => new(long.MaxValue, int.MaxValue, 0);
    }

    private sealed class CostComparer(PathMetric metric) : IComparer<Cost>
    {
        public int Compare(Cost x, Cost y) => metric switch
        {
            PathMetric.Fastest => Chain(x.LatencyTicks.CompareTo(y.LatencyTicks), x.Hops.CompareTo(y.Hops), y.BottleneckBps.CompareTo(x.BottleneckBps)),
            PathMetric.Widest => Chain(y.BottleneckBps.CompareTo(x.BottleneckBps), x.LatencyTicks.CompareTo(y.LatencyTicks), x.Hops.CompareTo(y.Hops)),
            _ => Chain(x.Hops.CompareTo(y.Hops), x.LatencyTicks.CompareTo(y.LatencyTicks), y.BottleneckBps.CompareTo(x.BottleneckBps)),
        };

        private static int Chain(int a, int b, int c) => a != 0 ? a : b != 0 ? b : c;
    }
}
