// PathFinderTests.cs - fastest, widest and shortest middlebox-free paths on small graphs with known answers.
using LaneShim.Core.Topology;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Core.Tests.Topology;

[TestClass]
public sealed class PathFinderTests
{
    // a -> b has three ways: via fw (a firewall: 2 hops, 2 ms, 10G), via r1 (2 hops, 30 ms, 10G),
    // via r2-r3 (3 hops, 6 ms, 1G), and via ids (an IDS: 2 hops, 1 ms, 40G).
    private const string Graph = """
        node a host
        node b host
        node fw middlebox type=firewall
        node ids middlebox type=ids
        node r1 router
        node r2 router
        node r3 router
        link a fw capacity=10gbit latency=1ms
        link fw b capacity=10gbit latency=1ms
        link a r1 capacity=10gbit latency=15ms
        link r1 b capacity=10gbit latency=15ms
        link a r2 capacity=1gbit latency=2ms
        link r2 r3 capacity=1gbit latency=2ms
        link r3 b capacity=1gbit latency=2ms
        link a ids capacity=40gbit latency=0.5ms
        link ids b capacity=40gbit latency=0.5ms
        """;

    private static SiteTopology T => TopologyParser.Parse(Graph, "g.topo");

    [TestMethod]
    public void Fastest_AvoidingAllMiddleboxes_TakesTheLowLatencyRouters()
    {
        LanePath p = PathFinder.Find(T, "a", "b", PathMetric.Fastest)!;
        Assert.AreEqual("a>r2>r3>b", p.Id);
        Assert.AreEqual(TimeSpan.FromMilliseconds(12), p.Rtt);
        Assert.AreEqual(1_000_000_000UL, p.BottleneckBps);
    }

    [TestMethod]
    public void Widest_AvoidingAllMiddleboxes_TakesTheTenGigabitRouter()
    {
        LanePath p = PathFinder.Find(T, "a", "b", PathMetric.Widest)!;
        Assert.AreEqual("a>r1>b", p.Id);
        Assert.AreEqual(10_000_000_000UL, p.BottleneckBps);
    }

    [TestMethod]
    public void Shortest_AvoidingAllMiddleboxes_TakesTwoHopsThenLeastLatency()
    {
        LanePath p = PathFinder.Find(T, "a", "b", PathMetric.Shortest)!;
        Assert.AreEqual("a>r1>b", p.Id);
        Assert.AreEqual(2, p.Hops);
    }

    [TestMethod]
    public void Fastest_AvoidingOnlyFirewalls_MayCrossTheIds()
    {
        LanePath p = PathFinder.Find(T, "a", "b", PathMetric.Fastest, new HashSet<string> { "firewall" })!;
        Assert.AreEqual("a>ids>b", p.Id);
    }

    [TestMethod]
    public void Find_OnlyPathThroughMiddlebox_ReturnsNull()
    {
        SiteTopology t = TopologyParser.Parse("node a host\nnode b host\nnode fw middlebox\nlink a fw capacity=1gbit\nlink fw b capacity=1gbit", "x");
        Assert.IsNull(PathFinder.Find(t, "a", "b", PathMetric.Fastest));
        Assert.IsNull(PathFinder.Find(t, "a", "nosuch", PathMetric.Fastest));
    }

    [TestMethod]
    public void Find_LabTopology_TakesTheBypass()
    {
        SiteTopology t = TopologyParser.Parse(TopologyParserTests.Lab, "lab.topo");
        LanePath p = PathFinder.Find(t, "client", "server", PathMetric.Fastest)!;
        Assert.AreEqual("client>edgea>edgeb>server", p.Id);
        Assert.AreEqual(TimeSpan.FromMilliseconds(40), p.Rtt);
        Assert.AreEqual(1_000_000_000UL, p.BottleneckBps);
    }

    [TestMethod]
    public void Find_AfterLinkRemoved_RecomputesOnNewVersion()
    {
        SiteTopology t = T;
        SiteTopology changed = t.WithoutLink(t.Links.First(l => l.A == "r2" && l.B == "r3").Index);
        Assert.AreEqual(t.Version + 1, changed.Version);
        LanePath p = PathFinder.Find(changed, "a", "b", PathMetric.Fastest)!;
        Assert.AreEqual("a>r1>b", p.Id);
        Assert.AreEqual(changed.Version, p.TopologyVersion);
    }
}
