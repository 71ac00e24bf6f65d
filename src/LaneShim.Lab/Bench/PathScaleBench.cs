// PathScaleBench.cs - path_ms_nodes_1000: PathFinder on a generated 1,000-node, 5,000-link topology (fixed seed).
using System.Diagnostics;
using LaneShim.Core.Topology;

namespace LaneShim.Lab.Bench;

/// <summary>How path computation grows with the topology: one query between two random hosts, median over many.</summary>
internal sealed class PathScaleBench : BenchSuite
{
    private const int Seed = 20261122;

    public override string Key => "path";

    public override IReadOnlyList<BenchResult> Expected(BenchContext context) => [new("path_ms_nodes_1000", null, "ms")];

    public override IReadOnlyList<BenchResult> Run(BenchContext context)
    {
        SiteTopology topology = Generate(1000, 5000, Seed);
        string[] hosts = topology.Nodes.Where(n => n.Role == NodeRole.Host).Select(n => n.Name).ToArray();
        var random = new Random(Seed);
        for (int i = 0; i < 20; i++)
        {
            PathFinder.Find(topology, hosts[i], hosts[^(i + 1)], PathMetric.Fastest); // JIT and caches warm
        }
        var samples = new List<double>();
        int found = 0;
        for (int i = 0; i < context.Reps(500, 50); i++)
        {
            string from = hosts[random.Next(hosts.Length)], to = hosts[random.Next(hosts.Length)];
            long t0 = Stopwatch.GetTimestamp();
            LanePath? path = PathFinder.Find(topology, from, to, PathMetric.Fastest);
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            found += path is null ? 0 : 1;
        }
        return
        [
            new("path_ms_nodes_1000", BenchStats.Median(samples), "ms")
            {
                Note = $"{topology.Nodes.Count} nodes, {topology.Links.Count} links, seed {Seed}; fastest path between random hosts, " +
                    $"{samples.Count} queries ({found} found a middlebox-free path)",
                Extra = new Dictionary<string, object> { ["p99_ms"] = BenchStats.Percentile(samples, 99) },
            },
        ];
    }

    /// <summary>
    /// A connected site: a random spanning tree, then random extra links up to <paramref name="links"/>; 8% hosts,
    /// 2% middleboxes (firewalls), the rest routers; capacities 1–100 Gbit/s, latencies 0–20 ms, some links marked.
    /// </summary>
    public static SiteTopology Generate(int nodes, int links, int seed)
    {
        var random = new Random(seed);
        var list = new List<TopologyNode>(nodes);
        for (int i = 0; i < nodes; i++)
        {
            NodeRole role = (i % 50) switch
            {
                0 => NodeRole.Middlebox,
                < 5 => NodeRole.Host,
                _ => NodeRole.Router,
            };
            list.Add(new TopologyNode($"n{i}", role, role == NodeRole.Middlebox ? "firewall" : null, [], null, i + 1));
        }
        ulong[] capacities = [1_000_000_000, 10_000_000_000, 40_000_000_000, 100_000_000_000];
        var pairs = new HashSet<(int, int)>();
        var edges = new List<TopologyLink>(links);
        void Add(int a, int b)
        {
            if (a == b || !pairs.Add((Math.Min(a, b), Math.Max(a, b))))
            {
                return;
            }
            edges.Add(new TopologyLink(edges.Count, $"n{a}", $"n{b}", capacities[random.Next(capacities.Length)],
                TimeSpan.FromMicroseconds(random.Next(0, 20_000)), 0, random.Next(10) == 0 ? 0x1u : 0u, 0, nodes + edges.Count + 1));
        }
        for (int i = 1; i < nodes; i++)
        {
            Add(i, random.Next(i));
        }
        while (edges.Count < links)
        {
            Add(random.Next(nodes), random.Next(nodes));
        }
        return new SiteTopology(list, edges, 1, $"generated(seed={seed})");
    }
}
