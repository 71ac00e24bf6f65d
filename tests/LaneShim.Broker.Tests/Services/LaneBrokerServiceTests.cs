// LaneBrokerServiceTests.cs - the LaneBroker handlers called directly: grant fields, typed statuses, leases, learning.
using Grpc.Core;
using LaneShim.Broker.Identity;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Leases;
using LaneShim.Broker.Services;
using LaneShim.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using ProgramInfo = LaneShim.Protocol.V1.Program;
using WireBufferMode = LaneShim.Protocol.V1.BufferMode;
using WireHostLimits = LaneShim.Protocol.V1.HostLimits;

namespace LaneShim.Broker.Tests.Services;

[TestClass]
public sealed class LaneBrokerServiceTests
{
    private const string PolicyText = """
        class dmz rate=1gbit rtt=40ms cc=cubic dscp=46 mark=0x10 bulk=yes ttl=10m
        class wan rate=10gbit rtt=learn fallback=80ms cc=bbr
        deny dst=192.0.2.0/24 reason="not to the printers"
        rule dst=10.20.0.0/16 port=5201 program=*iperf3 -> dmz
        rule direction=listen port=5201 -> dmz
        rule direction=listen port=5202 -> wan
        rule dst=0.0.0.0/0 uid=1000 -> wan
        """;

    private const long MiB = 1024 * 1024;

    private FakeClock _clock = null!;
    private ListLogger<LaneBrokerService> _log = null!;
    private LaneBrokerService _service = null!;

    [TestInitialize]
    public void Setup()
    {
        _clock = new FakeClock();
        _log = new ListLogger<LaneBrokerService>();
        _service = LaneBrokerService.Create(PolicyParser.Parse(PolicyText, "lanes.conf"), _clock, _log);
    }

    // Through the outcome interceptor, as the host calls it: that is where the log lines and the audit are written.
    private Task<LaneGrant> Ask(LaneRequest request, InProcessCallContext context) =>
        new LaneShim.Broker.Audit.OutcomeInterceptor(_service).UnaryServerHandler(request, context, _service.RequestLane);

    private static InProcessCallContext Context(PeerCredentials? credentials = null) =>
        new("/laneshim.v1.LaneBroker/RequestLane", credentials);

    private static WireHostLimits DtnHost() => new()
    {
        RmemMax = 212_992,
        WmemMax = 212_992,
        TcpRmemMax = 32 * MiB,
        TcpWmemMax = 4 * MiB,
        Privileged = true,
        CongestionAvailable = { "reno", "cubic", "bbr" },
    };

    private static LaneRequest Request(string remote, uint port, string program = "/usr/bin/iperf3", uint uid = 1000, Direction direction = Direction.Outbound)
    {
        var flow = new Flow
        {
            Direction = direction,
            Protocol = 6,
            Local = new Endpoint { Port = direction == Direction.Outbound ? 40000u : port },
        };
        if (direction != Direction.Listen)
        {
            flow.Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(remote).GetAddressBytes()), Port = port };
        }

        return new LaneRequest
        {
            Flow = flow,
            Program = new ProgramInfo { Path = program, Pid = 4242, Uid = uid, Gid = uid },
            AppSettings = new SocketSettings(),
            Host = DtnHost(),
        };
    }

    private async Task<RpcException> Refused(LaneRequest request, InProcessCallContext? context = null) =>
        await Assert.ThrowsExactlyAsync<RpcException>(() => Ask(request, context ?? Context()));

    [TestMethod]
    public async Task RequestLane_MatchingRule_ReturnsAFullyPopulatedGrant()
    {
        LaneGrant grant = await Ask(Request("10.20.1.5", 5201), Context());

        Assert.AreEqual(32, grant.LeaseId.Length);
        Assert.AreEqual((_clock.GetUtcNow() + TimeSpan.FromMinutes(10)).ToUnixTimeMilliseconds(), grant.ExpiresUnixMs);
        Assert.AreEqual("dmz", grant.LaneClass);
        Assert.AreEqual(1_000_000_000UL, grant.RateBps);
        Assert.AreEqual(40_000u, grant.RttUs);
        Assert.AreEqual(5_000_000UL, grant.BdpBytes);
        Assert.AreEqual(5_000_000L, grant.SndbufBytes);
        Assert.AreEqual(WireBufferMode.Force, grant.SndbufMode);
        Assert.AreEqual(0L, grant.RcvbufBytes);
        Assert.AreEqual(WireBufferMode.Autotune, grant.RcvbufMode);
        Assert.AreEqual("cubic", grant.Congestion);
        Assert.AreEqual(125_000_000UL, grant.PacingRate);
        Assert.AreEqual(46u, grant.Dscp);
        Assert.AreEqual(0x10u, grant.Mark);
        Assert.AreEqual(0u, grant.NotsentLowat);
        Assert.AreEqual("default", grant.PathId);
        Assert.IsTrue(grant.Bulk);
        Assert.StartsWith("class dmz: 1 Gbit/s x 40 ms = 5.00 MB BDP; sndbuf 5.00 MB (force); rcvbuf autotune (ceiling 32 MiB); cc cubic", grant.Reason);

        Lease lease = (await _service.ListLeases(new ListLeasesRequest(), Context())).Leases.Single();
        Assert.AreEqual(grant.LeaseId, lease.LeaseId);
        Assert.AreEqual(grant, lease.Grant);
        Assert.AreEqual(_clock.GetUtcNow().ToUnixTimeMilliseconds(), lease.GrantedUnixMs);
    }

    [TestMethod]
    public async Task RequestLane_DenyRule_IsPermissionDeniedWithReasonAndLine()
    {
        RpcException ex = await Refused(Request("192.0.2.9", 9100));

        Assert.AreEqual(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.AreEqual("not to the printers (denied by lanes.conf:3)", ex.Status.Detail);
        Assert.AreEqual(0, _service.Leases.Count);
    }

    [TestMethod]
    public async Task RequestLane_NoRuleMatches_IsNotFoundNamingFlowProgramAndUid()
    {
        RpcException ex = await Refused(Request("203.0.113.5", 443, "/usr/bin/curl", uid: 1001));

        Assert.AreEqual(StatusCode.NotFound, ex.StatusCode);
        Assert.AreEqual("no lane class matches 203.0.113.5:443 for /usr/bin/curl (uid 1001)", ex.Status.Detail);
    }

    [TestMethod]
    [DataRow("no flow", "flow is required")]
    [DataRow("7-byte address", "flow.remote.address must be 4 (IPv4) or 16 (IPv6) bytes, got 7")]
    [DataRow("no remote", "flow.remote.address is required for outbound flows")]
    [DataRow("port 70000", "flow.remote.port 70000 is out of range (0-65535)")]
    [DataRow("local port 65536", "flow.local.port 65536 is out of range (0-65535)")]
    [DataRow("remote port 0", "flow.remote.port is required for outbound flows")]
    [DataRow("no direction", "flow.direction is required (OUTBOUND, INBOUND or LISTEN), got 0")]
    [DataRow("udp", "flow.protocol 17 is neither TCP (6) nor MPTCP (262)")]
    [DataRow("no program", "program is required")]
    [DataRow("negative sndbuf", "app_settings.sndbuf -1 is out of range (0-2147483647)")]
    [DataRow("negative rmem_max", "host.rmem_max -5 must not be negative")]
    public async Task RequestLane_MalformedRequest_IsInvalidArgumentNamingTheField(string problem, string expected)
    {
        LaneRequest request = Request("10.20.1.5", 5201);
        switch (problem)
        {
            case "no flow": request.Flow = null; break;
            case "7-byte address": request.Flow.Remote.Address = ByteString.CopyFrom(new byte[7]); break;
            case "no remote": request.Flow.Remote = null; break;
            case "port 70000": request.Flow.Remote.Port = 70000; break;
            case "local port 65536": request.Flow.Local.Port = 65536; break;
            case "remote port 0": request.Flow.Remote.Port = 0; break;
            case "no direction": request.Flow.Direction = Direction.Unspecified; break;
            case "udp": request.Flow.Protocol = 17; break;
            case "no program": request.Program = null; break;
            case "negative sndbuf": request.AppSettings.Sndbuf = -1; break;
            case "negative rmem_max": request.Host.RmemMax = -5; break;
            default: Assert.Fail("unknown case " + problem); break;
        }

        RpcException ex = await Refused(request);
        Assert.AreEqual(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.AreEqual(expected, ex.Status.Detail);
    }

    [TestMethod]
    public async Task RequestLane_IPv6AndV4MappedPeers_AreMatchedLikeIPv4()
    {
        LaneGrant grant = await Ask(Request("::ffff:10.20.1.5", 5201), Context());
        Assert.AreEqual("dmz", grant.LaneClass);
    }

    [TestMethod]
    public async Task RequestLane_ListenOnBulkClass_GrantsReceiveSizing()
    {
        LaneGrant grant = await Ask(Request("", 5201, direction: Direction.Listen), Context());
        Assert.AreEqual("dmz", grant.LaneClass);
        Assert.IsTrue(grant.Bulk);
    }

    [TestMethod]
    public async Task RequestLane_ListenOnNonBulkClass_IsNotFoundSayingNotBulk()
    {
        RpcException ex = await Refused(Request("", 5202, direction: Direction.Listen));

        Assert.AreEqual(StatusCode.NotFound, ex.StatusCode);
        Assert.AreEqual("class 'wan' (lanes.conf:6) is not bulk; listening sockets get lanes only from classes with bulk=yes", ex.Status.Detail);
    }

    [TestMethod]
    public async Task RequestLane_UnixPeerCredentials_OverrideTheClaimedUid()
    {
        // Claims uid 0, but the kernel says 1001: the catch-all for uid 1000 must not match.
        RpcException ex = await Refused(Request("203.0.113.5", 443, "/usr/bin/curl", uid: 1000), Context(new PeerCredentials(77, 1001, 1001)));
        Assert.AreEqual("no lane class matches 203.0.113.5:443 for /usr/bin/curl (uid 1001)", ex.Status.Detail);

        await Ask(Request("203.0.113.5", 443, "/usr/bin/curl", uid: 0), Context(new PeerCredentials(77, 1000, 1000)));
        ProgramInfo stored = _service.Leases.List().Single().Program;
        Assert.AreEqual(1000u, stored.Uid);
        Assert.AreEqual(77u, stored.Pid);
    }

    [TestMethod]
    public async Task RequestLane_LearningClass_UsesFallbackThenTheReportedRtt()
    {
        LaneGrant first = await Ask(Request("198.51.100.7", 443, "/usr/bin/curl"), Context());
        Assert.AreEqual(80_000u, first.RttUs);
        StringAssert.Contains(first.Reason, "x 80 ms fallback");

        await _service.ReportFlow(new FlowReport { LeaseId = first.LeaseId, Stats = new FlowStats { MinRttUs = 30_000, SrttUs = 34_000 } }, Context());

        LaneGrant second = await Ask(Request("198.51.100.99", 443, "/usr/bin/curl"), Context());
        Assert.AreEqual(30_000u, second.RttUs);
        Assert.AreEqual(37_500_000UL, second.BdpBytes);
        StringAssert.Contains(second.Reason, "x 30 ms learned");
    }

    [TestMethod]
    public async Task ReportFlow_WithoutLease_IsAcceptedButTeachesNothing()
    {
        var report = new FlowReport
        {
            Flow = new Flow { Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("198.51.100.7").GetAddressBytes()), Port = 443 } },
            Stats = new FlowStats { MinRttUs = 1_000 },
        };
        await _service.ReportFlow(report, Context());

        Assert.AreEqual(0, _service.RttLearner.Count);
    }

    [TestMethod]
    public async Task ReportFlow_LiveLease_RecordsWhatWasApplied()
    {
        LaneGrant grant = await Ask(Request("10.20.1.5", 5201), Context());
        await _service.ReportFlow(new FlowReport { LeaseId = grant.LeaseId, Applied = new SocketSettings { Sndbuf = 10_000_000, Congestion = "cubic", Tos = 184 } }, Context());

        Lease lease = (await _service.ListLeases(new ListLeasesRequest(), Context())).Leases.Single();
        Assert.AreEqual(10_000_000L, lease.Applied.Sndbuf);
        Assert.AreEqual(184u, lease.Applied.Tos);
    }

    [TestMethod]
    public async Task ReportFlow_UnknownLease_IsNotFound()
    {
        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(
            () => _service.ReportFlow(new FlowReport { LeaseId = "00112233445566778899aabbccddeeff" }, Context()));
        Assert.AreEqual(StatusCode.NotFound, ex.StatusCode);
        Assert.AreEqual("lease 00112233… expired or never existed; request a new lane", ex.Status.Detail);
    }

    [TestMethod]
    public async Task RenewLane_LiveLease_ExtendsItAndUnknownOrExpiredIsNotFound()
    {
        LaneGrant grant = await Ask(Request("10.20.1.5", 5201), Context());
        _clock.Advance(TimeSpan.FromMinutes(9));

        LaneGrant renewed = await _service.RenewLane(new RenewRequest { LeaseId = grant.LeaseId }, Context());
        Assert.AreEqual((_clock.GetUtcNow() + TimeSpan.FromMinutes(10)).ToUnixTimeMilliseconds(), renewed.ExpiresUnixMs);
        Assert.AreEqual(grant.LaneClass, renewed.LaneClass);

        _clock.Advance(TimeSpan.FromMinutes(10));
        RpcException expired = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RenewLane(new RenewRequest { LeaseId = grant.LeaseId }, Context()));
        Assert.AreEqual(StatusCode.NotFound, expired.StatusCode);

        RpcException empty = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.RenewLane(new RenewRequest(), Context()));
        Assert.AreEqual(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.AreEqual("lease_id is required", empty.Status.Detail);
    }

    [TestMethod]
    public async Task ReleaseLane_LiveLease_RemovesItAndLearnsFromItsStats()
    {
        LaneGrant grant = await Ask(Request("198.51.100.7", 443, "/usr/bin/curl"), Context());
        await _service.ReleaseLane(new ReleaseRequest { LeaseId = grant.LeaseId, Stats = new FlowStats { MinRttUs = 25_000 } }, Context());

        Assert.AreEqual(0, _service.Leases.Count);
        Assert.IsTrue(_service.RttLearner.TryGetRtt(IPAddress.Parse("198.51.100.1"), out TimeSpan rtt));
        Assert.AreEqual(TimeSpan.FromMilliseconds(25), rtt);

        RpcException again = await Assert.ThrowsExactlyAsync<RpcException>(() => _service.ReleaseLane(new ReleaseRequest { LeaseId = grant.LeaseId }, Context()));
        Assert.AreEqual(StatusCode.NotFound, again.StatusCode);
    }

    [TestMethod]
    public async Task ReleaseLane_WithConnectReport_LearnsFromItAndRecordsItBeforeTheLeaseGoes()
    {
        // A short flow: the agent folds the connect report it had not sent yet into the release.
        LaneGrant grant = await Ask(Request("198.51.100.7", 443, "/usr/bin/curl"), Context());
        var connect = new FlowReport { LeaseId = grant.LeaseId, Applied = new SocketSettings { Sndbuf = 4_000_000 }, Stats = new FlowStats { MinRttUs = 31_000 } };
        await _service.ReleaseLane(new ReleaseRequest { LeaseId = grant.LeaseId, ConnectReport = connect }, Context());

        Assert.AreEqual(0, _service.Leases.Count);
        Assert.IsTrue(_service.RttLearner.TryGetRtt(IPAddress.Parse("198.51.100.1"), out TimeSpan rtt), "the connect report's RTT sample");
        Assert.AreEqual(TimeSpan.FromMilliseconds(31), rtt);
    }

    [TestMethod]
    public async Task ReleaseLane_ConnectReportOfAnotherLease_InvalidArgumentAndTheLeaseStays()
    {
        LaneGrant grant = await Ask(Request("198.51.100.7", 443, "/usr/bin/curl"), Context());
        var other = new FlowReport { LeaseId = "00112233445566778899aabbccddeeff" };

        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(
            () => _service.ReleaseLane(new ReleaseRequest { LeaseId = grant.LeaseId, ConnectReport = other }, Context()));

        Assert.AreEqual(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.AreEqual(1, _service.Leases.Count);
    }

    [TestMethod]
    public async Task ListLeases_NonRootUnixCaller_SeesOnlyItsOwnLeases()
    {
        await Ask(Request("10.20.1.5", 5201, uid: 1000), Context(new PeerCredentials(1, 1000, 1000)));
        await Ask(Request("10.20.1.6", 5201, uid: 2000), Context(new PeerCredentials(2, 2000, 2000)));

        Assert.AreEqual(1, (await _service.ListLeases(new ListLeasesRequest(), Context(new PeerCredentials(3, 2000, 2000)))).Leases.Count);
        Assert.AreEqual(2, (await _service.ListLeases(new ListLeasesRequest(), Context(new PeerCredentials(4, 0, 0)))).Leases.Count);
        Assert.AreEqual(2, (await _service.ListLeases(new ListLeasesRequest(), Context())).Leases.Count);
    }

    [TestMethod]
    public async Task RequestLane_HostLimitsNotReported_SizesForStockLinuxAndSaysSo()
    {
        LaneRequest request = Request("10.20.1.5", 5201);
        request.Host = null;
        LaneGrant grant = await Ask(request, Context());

        // Stock Linux: an unprivileged SO_SNDBUF stops at wmem_max = 208 KiB, while autotuning reaches tcp_wmem max = 4 MiB.
        Assert.AreEqual(WireBufferMode.Autotune, grant.SndbufMode);
        Assert.AreEqual(0L, grant.SndbufBytes);
        Assert.AreEqual(0u, grant.Mark);
        StringAssert.Contains(grant.Reason, "left to autotuning");
        StringAssert.Contains(grant.Reason, "note: host limits not reported, sized for a stock Linux host");
    }

    [TestMethod]
    public async Task RequestLane_LeaseTableFull_IsResourceExhausted()
    {
        LaneBrokerService small = LaneBrokerService.Create(PolicyParser.Parse(PolicyText, "lanes.conf"), _clock, maxLeases: 1);
        await small.RequestLane(Request("10.20.1.5", 5201), Context());

        RpcException ex = await Assert.ThrowsExactlyAsync<RpcException>(() => small.RequestLane(Request("10.20.1.5", 5201), Context()));
        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [TestMethod]
    public async Task RequestLane_EachDecision_LogsOneLineWithoutTheFullLeaseId_GrantsAtDebug()
    {
        LaneGrant grant = await Ask(Request("10.20.1.5", 5201), Context());
        await Refused(Request("192.0.2.9", 9100));

        Assert.AreEqual(2, _log.Lines.Count, string.Join("\n", _log.Lines));
        StringAssert.StartsWith(_log.Lines[0], "Debug: RequestLane 10.20.1.5:5201 for /usr/bin/iperf3 (uid 1000): grant by lanes.conf:4, lease ");
        Assert.IsFalse(_log.Lines[0].Contains(grant.LeaseId, StringComparison.Ordinal), "the full lease id is a capability and must not be logged");
        Assert.AreEqual("Information: RequestLane 192.0.2.9:9100 for /usr/bin/iperf3 (uid 1000): deny by lanes.conf:3: not to the printers", _log.Lines[1]);
    }

}
