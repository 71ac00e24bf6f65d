// AdmissionTests.cs - capacity admission through the LaneBroker handlers: no oversubscription, counter-offers, giving rate back.
using Grpc.Core;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Enforcement;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Paths;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Core.Topology;
using Microsoft.Extensions.Logging.Abstractions;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Leases;

[TestClass]
public sealed class AdmissionTests
{
    // capacity=1g: a virtual link every lease of class dmz crosses (no topology here).
    private const string PolicyText = """
        class dmz rate=400mbit rtt=10ms capacity=1gbit min_rate=50mbit ttl=10s
        class open rate=10gbit rtt=10ms
        rule port=5201 -> dmz
        rule port=5202 -> open
        """;

    private FakeClock _clock = null!;
    private LaneBrokerService _service = null!;
    private int _nextPort = 40000;

    [TestInitialize]
    public void Setup()
    {
        _clock = new FakeClock();
        _service = LaneBrokerService.Create(PolicyParser.Parse(PolicyText, "lanes.conf"), _clock);
    }

    private static InProcessCallContext Context() => new("/laneshim.v1.LaneBroker/RequestLane", null);

    private LaneRequest Request(uint port, ulong rateBps = 0) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.0.0.1").GetAddressBytes()), Port = (uint)Interlocked.Increment(ref _nextPort) },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.0.0.2").GetAddressBytes()), Port = port },
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Uid = 1000 },
        RateBps = rateBps,
    };

    [TestMethod]
    public async Task ThirdGrant_WouldOversubscribe_IsResourceExhaustedWithTheFreeRateOffered()
    {
        await _service.RequestLane(Request(5201), Context());
        await _service.RequestLane(Request(5201), Context());

        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RequestLane(Request(5201), Context()));

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.AreEqual("class dmz has 200 Mbit/s of 1 Gbit/s free, 400 Mbit/s asked; offered 200 Mbit/s (ask again with rate_bps=200000000)", ex.Status.Detail);
        Assert.AreEqual("200000000", ex.Trailers.GetValue(AdmissionRefusal.OfferMetadata));
        Assert.AreEqual(2, _service.Leases.Count, "a refused request holds no lease");
    }

    [TestMethod]
    public async Task AcceptingTheOffer_GrantsExactlyTheFreeRate_AndFillsTheLink()
    {
        await _service.RequestLane(Request(5201), Context());
        await _service.RequestLane(Request(5201), Context());
        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RequestLane(Request(5201), Context()));
        ulong offer = ulong.Parse(ex.Trailers.GetValue(AdmissionRefusal.OfferMetadata)!);

        LaneGrant grant = await _service.RequestLane(Request(5201, offer), Context());

        Assert.AreEqual(200_000_000UL, grant.RateBps);
        Assert.AreEqual(200_000_000UL / 8, grant.PacingRate, "pacing is the granted share");
        Assert.IsTrue(grant.PerFlow, "an admitted grant must not be reused by the agent for other flows");
        Assert.AreEqual(1_000_000_000UL, _service.Leases.LinkUsage()["class:dmz"]);
        RpcException full = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RequestLane(Request(5201), Context()));
        Assert.AreEqual("class dmz has 0 bit/s of 1 Gbit/s free, 400 Mbit/s asked; nothing offered below the class minimum 50 Mbit/s: retry when lanes are released", full.Status.Detail);
        Assert.IsFalse((full.Trailers.Get(AdmissionRefusal.OfferMetadata) is not null), "no offer below min_rate");
    }

    [TestMethod]
    public async Task FreeBelowMinRate_IsNotOffered()
    {
        await _service.RequestLane(Request(5201), Context());
        await _service.RequestLane(Request(5201), Context());
        await _service.RequestLane(Request(5201, 170_000_000), Context());

        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RequestLane(Request(5201), Context()));

        StringAssert.StartsWith(ex.Status.Detail, "class dmz has 30 Mbit/s of 1 Gbit/s free");
        Assert.AreEqual(0, ex.Trailers.Count);
    }

    [TestMethod]
    public async Task ReleaseAndExpiry_GiveTheRateBack()
    {
        LaneGrant a = await _service.RequestLane(Request(5201), Context());
        await _service.RequestLane(Request(5201), Context());
        await _service.ReleaseLane(new ReleaseRequest { LeaseId = a.LeaseId }, Context());
        Assert.AreEqual(400_000_000UL, _service.Leases.LinkUsage()["class:dmz"]);

        _clock.Advance(TimeSpan.FromSeconds(11));

        Assert.AreEqual(0, _service.Leases.LinkUsage().Count, "the expired lease's rate is back");
        for (int i = 0; i < 2; i++)
        {
            await _service.RequestLane(Request(5201), Context());
        }
    }

    [TestMethod]
    public async Task RateAboveTheClassRate_IsCappedToIt()
    {
        LaneGrant grant = await _service.RequestLane(Request(5201, 5_000_000_000), Context());
        Assert.AreEqual(400_000_000UL, grant.RateBps);
    }

    [TestMethod]
    public async Task ClassWithoutCapacity_IsNotAdmissionControlled()
    {
        for (int i = 0; i < 20; i++)
        {
            Assert.IsFalse((await _service.RequestLane(Request(5202), Context())).PerFlow, "without admission the agent may cache the grant");
        }
        Assert.AreEqual(0, _service.Leases.LinkUsage().Count);
    }

    [TestMethod]
    public async Task ReserveLinks_ALaneReservesItsRateOnEveryLinkOfItsPath()
    {
        const string Topology = """
            node client host addr=10.50.1.2
            node edgea router
            node mbox middlebox type=firewall
            node edgeb router
            node server host addr=10.50.2.2
            link client edgea capacity=10gbit latency=0ms
            link edgea mbox capacity=100mbit latency=20ms
            link mbox edgeb capacity=10gbit latency=0ms
            link edgea edgeb capacity=1gbit latency=20ms mark=0x1
            link edgeb server capacity=10gbit latency=0ms
            """;
        var paths = new PathService(TopologyParser.Parse(Topology, "lab.topo"), new DryRunBackend(NullLogger<DryRunBackend>.Instance), PathMetric.Fastest, NullLogger<PathService>.Instance);
        var service = new LaneBrokerService(new PolicyStore(PolicyParser.Parse("class lane rate=400mbit rtt=10ms\nrule -> lane\n", "p")), new LeaseTable(_clock),
            new RttLearner(_clock), NullLogger<LaneBrokerService>.Instance, "default", paths)
        { ReserveLinks = true };
        LaneRequest Lab() => new()
        {
            Flow = new Flow
            {
                Direction = Direction.Outbound,
                Protocol = 6,
                Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.50.1.2").GetAddressBytes()), Port = (uint)Interlocked.Increment(ref _nextPort) },
                Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.50.2.2").GetAddressBytes()), Port = 5201 },
            },
            Program = new ProgramInfo { Path = "/usr/bin/iperf3" },
        };

        await service.RequestLane(Lab(), Context());
        await service.RequestLane(Lab(), Context());
        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(() => service.RequestLane(Lab(), Context()));

        Assert.AreEqual("link edgea-edgeb has 200 Mbit/s of 1 Gbit/s free, 400 Mbit/s asked; offered 200 Mbit/s (ask again with rate_bps=200000000)", ex.Status.Detail);
        IReadOnlyDictionary<string, ulong> usage = service.Leases.LinkUsage();
        CollectionAssert.AreEquivalent(new[] { "link:client-edgea#0", "link:edgea-edgeb#3", "link:edgeb-server#4" }, usage.Keys.ToArray());
        Assert.IsTrue(usage.Values.All(u => u == 800_000_000UL));
    }

    [TestMethod]
    public async Task ConcurrentRequests_NeverOversubscribe()
    {
        var policy = PolicyParser.Parse("class dmz rate=10mbit rtt=10ms capacity=1gbit\nrule port=5201 -> dmz\n", "p");
        var service = LaneBrokerService.Create(policy, _clock);
        Task<LaneGrant>[] calls = Enumerable.Range(0, 400).Select(_ => Task.Run(() => service.RequestLane(Request(5201), Context()))).ToArray();
        int granted = 0, refused = 0;
        foreach (Task<LaneGrant> call in calls)
        {
            try
            {
                await call;
                granted++;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                refused++;
            }
        }
        Assert.AreEqual(100, granted);
        Assert.AreEqual(300, refused);
        Assert.AreEqual(1_000_000_000UL, service.Leases.List().Aggregate(0UL, (sum, l) => sum + l.Grant.RateBps));
    }
}
