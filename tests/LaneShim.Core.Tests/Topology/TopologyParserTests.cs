// TopologyParserTests.cs - the topology file: good files, and each error with its file:line.
using System.Net;
using LaneShim.Core.Topology;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Core.Tests.Topology;

[TestClass]
public sealed class TopologyParserTests
{
    internal const string Lab = """
        # LaneShim lab
        node client host addr=10.50.1.2 netns=lsl-client
        node edgea router netns=lsl-edgea
        node mbox middlebox type=firewall netns=lsl-mbox
        node edgeb router netns=lsl-edgeb
        node server host addr=10.50.2.0/24 netns=lsl-server
        link client edgea capacity=10gbit latency=0ms
        link edgea mbox capacity=100mbit latency=20ms loss=0.01%
        link mbox edgeb capacity=10gbit latency=0ms
        link edgea edgeb capacity=1gbit latency=20ms mark=0x1
        link edgeb server capacity=10gbit latency=0ms
        """;

    [TestMethod]
    public void Parse_LabFile_HasNodesLinksAndAttributes()
    {
        SiteTopology t = TopologyParser.Parse(Lab, "lab.topo");
        Assert.HasCount(5, t.Nodes);
        Assert.HasCount(5, t.Links);
        Assert.AreEqual(NodeRole.Middlebox, t.Node("mbox")!.Role);
        Assert.AreEqual("firewall", t.Node("mbox")!.MiddleboxType);
        Assert.AreEqual("lsl-edgea", t.Node("edgea")!.Netns);
        TopologyLink bypass = t.Links[3];
        Assert.AreEqual(1_000_000_000UL, bypass.CapacityBps);
        Assert.AreEqual(TimeSpan.FromMilliseconds(20), bypass.Latency);
        Assert.AreEqual(1u, bypass.Mark);
        Assert.AreEqual(0.0001, t.Links[1].Loss, 1e-12);
        Assert.AreEqual("server", t.HostOf(IPAddress.Parse("10.50.2.7"))!.Name);
        Assert.AreEqual("client", t.HostOf(IPAddress.Parse("::ffff:10.50.1.2"))!.Name);
        Assert.IsNull(t.HostOf(IPAddress.Parse("10.50.3.1")));
    }

    [TestMethod]
    [DataRow("node a host\nnode a router", "t.topo:2: node 'a' is defined twice")]
    [DataRow("node a gateway", "t.topo:1: unknown role 'gateway' (host, router, switch, middlebox)")]
    [DataRow("node a host addr=10.0.0.300", "t.topo:1: bad address '10.0.0.300'")]
    [DataRow("node a host\nnode b host\nlink a b latency=1ms", "t.topo:3: link needs capacity=RATE")]
    [DataRow("node a host\nlink a b capacity=1gbit", "t.topo:2: link names undefined node 'b'")]
    [DataRow("node a host\nnode b host\nlink a b capacity=fast", "t.topo:3: bad capacity 'fast'")]
    [DataRow("node a host\nnode b host\nlink a b capacity=1gbit loss=150%", "t.topo:3: bad loss '150%'")]
    [DataRow("node a host\nnode b host\nlink a b capacity=1gbit colour=red", "t.topo:3: unknown link key 'colour'")]
    [DataRow("route a b", "t.topo:1: unknown line 'route' (node, link)")]
    [DataRow("node a host\nlink a a capacity=1gbit", "t.topo:2: link from 'a' to itself")]
    public void Parse_BadLine_NamesFileAndLine(string text, string expectedStart)
    {
        TopologyException e = Assert.ThrowsExactly<TopologyException>(() => TopologyParser.Parse(text, "t.topo"));
        Assert.StartsWith(expectedStart, e.Message);
    }
}
