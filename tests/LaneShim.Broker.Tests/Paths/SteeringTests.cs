// SteeringTests.cs - with a topology, a lane is sized by its middlebox-free path and its 5-tuple is steered both ways.
using Grpc.Core;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Core.Topology;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Paths;

[TestClass]
public sealed class SteeringTests
{
    private const string Topology = """
        node client host addr=10.50.1.2 netns=lsl-client
        node edgea router netns=lsl-edgea
        node mbox middlebox type=firewall netns=lsl-mbox
        node edgeb router netns=lsl-edgeb
        node server host addr=10.50.2.2 netns=lsl-server
        link client edgea capacity=10gbit latency=0ms
        link edgea mbox capacity=100mbit latency=20ms loss=0.01%
        link mbox edgeb capacity=10gbit latency=0ms
        link edgea edgeb capacity=1gbit latency=20ms mark=0x1
        link edgeb server capacity=10gbit latency=0ms
        """;

    private DryRunBackend _backend = null!;
    private LaneBrokerService _service = null!;

    [TestInitialize]
    public void Setup()
    {
        _backend = new DryRunBackend(NullLogger<DryRunBackend>.Instance);
        var paths = new PathService(TopologyParser.Parse(Topology, "lab.topo"), _backend, PathMetric.Fastest, NullLogger<PathService>.Instance);
        Policy policy = PolicyParser.Parse("class lane rate=10gbit rtt=100ms cc=cubic\nrule -> lane\n", "lanes.conf");
        _service = new LaneBrokerService(new PolicyStore(policy), new LeaseTable(TimeProvider.System), new RttLearner(TimeProvider.System),
            NullLogger<LaneBrokerService>.Instance, "default", paths);
    }

    private static InProcessCallContext Context() => new("/laneshim.v1.LaneBroker/RequestLane", null);

    private static LaneRequest Request(string local, uint localPort, string remote, uint remotePort) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(local).GetAddressBytes()), Port = localPort },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(remote).GetAddressBytes()), Port = remotePort },
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = 1, Uid = 0 },
    };

    [TestMethod]
    public async Task RequestLane_KnownHosts_SizedByBypassPathAndSteeredBothWays()
    {
        LaneGrant grant = await _service.RequestLane(Request("10.50.1.2", 40001, "10.50.2.2", 5201), Context());

        Assert.AreEqual("client>edgea>edgeb>server", grant.PathId);
        Assert.AreEqual(1_000_000_000UL, grant.RateBps, "the class asks 10 Gbit/s; the bypass carries 1");
        Assert.AreEqual(40_000u, grant.RttUs);
        Assert.AreEqual(5_000_000UL, grant.BdpBytes);
        Assert.IsTrue(grant.PerFlow);
        Steering steering = _backend.Active[grant.LeaseId];
        CollectionAssert.AreEquivalent(
            new[] { "edgea: 10.50.1.2:40001 > 10.50.2.2:5201 mark 0x1", "edgeb: 10.50.2.2:5201 > 10.50.1.2:40001 mark 0x1" },
            steering.Rules.Select(r => r.ToString()).ToArray());
        Assert.AreEqual("lsl-edgea", steering.Rules.Single(r => r.Router == "edgea").Netns);
    }

    [TestMethod]
    public async Task ReleaseLane_SteeredLease_RemovesExactlyItsRules()
    {
        LaneGrant first = await _service.RequestLane(Request("10.50.1.2", 40001, "10.50.2.2", 5201), Context());
        LaneGrant second = await _service.RequestLane(Request("10.50.1.2", 40002, "10.50.2.2", 5201), Context());

        await _service.ReleaseLane(new ReleaseRequest { LeaseId = first.LeaseId }, Context());

        // The release answers before the rules go (the caller is inside close()); they go right after.
        for (int i = 0; i < 200 && _backend.Active.ContainsKey(first.LeaseId); i++)
        {
            await Task.Delay(5);
        }
        Assert.IsFalse(_backend.Active.ContainsKey(first.LeaseId));
        Assert.IsTrue(_backend.Active.ContainsKey(second.LeaseId));
    }

    [TestMethod]
    public async Task RequestLane_UnboundLocalPort_SizedByPathButNotSteered()
    {
        LaneGrant grant = await _service.RequestLane(Request("10.50.1.2", 0, "10.50.2.2", 5201), Context());
        Assert.AreEqual(1_000_000_000UL, grant.RateBps);
        Assert.IsFalse(grant.PerFlow);
        Assert.IsEmpty(_backend.Active);
    }

    [TestMethod]
    public async Task RequestLane_HostNotInTopology_ClassNumbersAndReasonSaysWhy()
    {
        LaneGrant grant = await _service.RequestLane(Request("10.50.1.2", 40003, "198.51.100.1", 443), Context());
        Assert.AreEqual(10_000_000_000UL, grant.RateBps);
        Assert.IsFalse(grant.PerFlow);
        Assert.Contains("198.51.100.1 is not a host of lab.topo", grant.Reason);
    }

    [TestMethod]
    public void LinuxRouterChanges_AddRefreshesAndRemoveIsIdempotent_KeyIsPaddedConcatenation()
    {
        var rule = new SteeringRule("edgea", "lsl-edgea", 1, IPAddress.Parse("10.50.1.2"), 40001, IPAddress.Parse("10.50.2.2"), 5201);
        var add = LinuxRouterBackend.Changes([rule], add: true, TimeSpan.FromSeconds(305));
        CollectionAssert.AreEqual(new[] { false, true, false }, add.Select(c => c.Delete).ToArray());
        Assert.AreEqual(305_000UL, add[2].TimeoutMs);
        CollectionAssert.AreEqual(new byte[] { 10, 50, 1, 2, 0x9c, 0x41, 0, 0, 10, 50, 2, 2, 0x14, 0x51, 0, 0 }, add[2].Key);
        var remove = LinuxRouterBackend.Changes([rule], add: false, TimeSpan.FromSeconds(305));
        CollectionAssert.AreEqual(new[] { false, true }, remove.Select(c => c.Delete).ToArray());
    }
}
