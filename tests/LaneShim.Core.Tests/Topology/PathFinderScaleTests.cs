// PathFinderScaleTests.cs - a 1,000-node, 5,000-link generated topology: paths in under 5 ms (median), and still right.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LaneShim.Core.Topology;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Core.Tests.Topology;

[TestClass]
public sealed class PathFinderScaleTests
{
    private const int Nodes = 1000;
    private const int Links = 5000;
    private const int Seed = 20261122;

    private static readonly Lazy<SiteTopology> Big = new(() => TopologyParser.Parse(Generate(), "generated.topo"));

    // A ring (so everything is connected) plus random chords with random capacity and latency; every 25th node is a
    // middlebox and every 10th a host, the rest routers.
    private static string Generate()
    {
        var random = new Random(Seed);
        var text = new StringBuilder();
        for (int i = 0; i < Nodes; i++)
        {
            string role = i % 25 == 3 ? "middlebox type=firewall" : i % 10 == 0 ? "host" : "router";
            text.Append(CultureInfo.InvariantCulture, $"node n{i} {role}\n");
        }
        var seen = new HashSet<(int, int)>();
        void Link(int a, int b)
        {
            int capacity = new[] { 1, 10, 40, 100 }[random.Next(4)];
            double latency = 0.1 + (random.NextDouble() * 20);
            text.Append(CultureInfo.InvariantCulture, $"link n{a} n{b} capacity={capacity}gbit latency={latency:0.###}ms\n");
        }
        for (int i = 0; i < Nodes; i++)
        {
            seen.Add((Math.Min(i, (i + 1) % Nodes), Math.Max(i, (i + 1) % Nodes)));
            Link(i, (i + 1) % Nodes);
        }
        while (seen.Count < Links)
        {
            int a = random.Next(Nodes), b = random.Next(Nodes);
            if (a != b && seen.Add((Math.Min(a, b), Math.Max(a, b))))
            {
                Link(a, b);
            }
        }
        return text.ToString();
    }

    [TestMethod]
    public void GeneratedTopology_HasTheAdvertisedSize()
    {
        Assert.HasCount(Nodes, Big.Value.Nodes);
        Assert.HasCount(Links, Big.Value.Links);
    }

    [TestMethod]
    [DataRow(PathMetric.Fastest)]
    [DataRow(PathMetric.Widest)]
    [DataRow(PathMetric.Shortest)]
    public void ThousandNodes_MedianPathComputation_UnderFiveMilliseconds(PathMetric metric)
    {
        SiteTopology topology = Big.Value;
        string[] hosts = topology.Nodes.Where(n => n.Role == NodeRole.Host).Select(n => n.Name).ToArray();
        var random = new Random(Seed + (int)metric);
        for (int i = 0; i < 20; i++)
        {
            PathFinder.Find(topology, hosts[i], hosts[^(i + 1)], metric); // warm up the JIT
        }
        var times = new List<double>();
        int found = 0;
        for (int i = 0; i < 200; i++)
        {
            string from = hosts[random.Next(hosts.Length)], to = hosts[random.Next(hosts.Length)];
            long started = Stopwatch.GetTimestamp();
            LanePath? path = PathFinder.Find(topology, from, to, metric);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (path is not null)
            {
                found++;
                Assert.IsFalse(path.Nodes.Skip(1).SkipLast(1).Any(n => topology.Node(n)!.Role == NodeRole.Middlebox), $"{path.Id} crosses a middlebox");
            }
        }
        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine($"{metric}: median {median:0.000} ms, p90 {times[times.Count * 9 / 10]:0.000} ms, max {times[^1]:0.000} ms over {times.Count}; {found} paths found");
        Assert.IsGreaterThan(150, found, "nearly every pair of hosts should be connected around the middleboxes");
        Assert.IsLessThan(5.0, median, $"median {median:0.000} ms for {metric}");
    }

    [TestMethod]
    public void ThousandNodes_FastestAndShortest_MatchABellmanFordReference()
    {
        SiteTopology topology = Big.Value;
        string[] hosts = topology.Nodes.Where(n => n.Role == NodeRole.Host).Select(n => n.Name).ToArray();
        for (int i = 0; i < 5; i++)
        {
            string from = hosts[i * 7], to = hosts[^(i * 11 + 1)];
            (long latency, int hops) = Reference(topology, from, to);
            LanePath fastest = PathFinder.Find(topology, from, to, PathMetric.Fastest)!;
            LanePath shortest = PathFinder.Find(topology, from, to, PathMetric.Shortest)!;
            Assert.AreEqual(latency, fastest.OneWayLatency.Ticks, $"fastest {from}>{to}");
            Assert.AreEqual(hops, shortest.Hops, $"shortest {from}>{to}");
        }
    }

    // Plain relaxation to a fixpoint over the middlebox-free graph: slow, obviously right.
    private static (long Latency, int Hops) Reference(SiteTopology topology, string from, string to)
    {
        var latency = topology.Nodes.ToDictionary(n => n.Name, _ => long.MaxValue);
        var hops = topology.Nodes.ToDictionary(n => n.Name, _ => int.MaxValue);
        latency[from] = 0;
        hops[from] = 0;
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (TopologyLink l in topology.Links)
            {
                foreach ((string a, string b) in new[] { (l.A, l.B), (l.B, l.A) })
                {
                    if (b != to && topology.Node(b)!.Role == NodeRole.Middlebox)
                    {
                        continue;
                    }
                    if (latency[a] != long.MaxValue && latency[a] + l.Latency.Ticks < latency[b])
                    {
                        latency[b] = latency[a] + l.Latency.Ticks;
                        changed = true;
                    }
                    if (hops[a] != int.MaxValue && hops[a] + 1 < hops[b])
                    {
                        hops[b] = hops[a] + 1;
                        changed = true;
                    }
                }
            }
        }
        return (latency[to], hops[to]);
    }
}
