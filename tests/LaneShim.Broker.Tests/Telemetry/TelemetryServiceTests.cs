// TelemetryServiceTests.cs - closed-flow reports (single and batched) reach ListFlows with verdicts, the achieved-rate
// learner sizes later grants to a receiver-limited destination, and /metrics text passes a strict format check.
using Grpc.Core;
using LaneShim.Broker.Identity;
using System.Net;
using Google.Protobuf;
using LaneShim.Broker.Services;
using LaneShim.Broker.Telemetry;
using LaneShim.Core;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using ProgramInfo = LaneShim.Protocol.V1.Program;

namespace LaneShim.Broker.Tests.Telemetry;

[TestClass]
public sealed class TelemetryServiceTests
{
    private const ulong ClassRate = 10_000_000_000;
    private LaneBrokerService _service = null!;

    [TestInitialize]
    public void Setup() =>
        _service = LaneBrokerService.Create(PolicyParser.Parse("class lane rate=10gbit rtt=50ms\nrule -> lane\n", "lanes.conf"));

    private static InProcessCallContext Context(uint? uid = null) =>
        new("/x", uid is uint u ? new PeerCredentials(1, u, u) : null);

    private static LaneRequest Request(string remote, uint localPort = 40000) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse("10.1.1.1").GetAddressBytes()), Port = localPort },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(remote).GetAddressBytes()), Port = 5201 },
        },
        Program = new ProgramInfo { Path = "/usr/bin/iperf3", Pid = 7, Uid = 0 },
    };

    // A 4 s flow that moved 200 Mbit/s, 90 % of its busy time limited by the receiver's window.
    private static FlowStats ReceiverLimited() => new()
    {
        DurationMs = 4_000, BytesAcked = 100_000_000, BusyTimeUs = 4_000_000, RwndLimitedUs = 3_600_000, MinRttUs = 20_000, SrttUs = 21_000,
    };

    private static FlowStats CongestionLimited() => new()
    {
        DurationMs = 4_000, BytesAcked = 100_000_000, BusyTimeUs = 4_000_000, RwndLimitedUs = 100_000, MinRttUs = 20_000, SrttUs = 21_000,
    };

    private async Task CloseFlow(string remote, FlowStats stats, uint port)
    {
        LaneGrant grant = await _service.RequestLane(Request(remote, port), Context());
        await _service.ReportFlow(new FlowReport { LeaseId = grant.LeaseId, Stats = stats, Closed = true, Flow = Request(remote, port).Flow }, Context());
    }

    [TestMethod]
    public async Task ReceiverLimitedFlows_LaterGrantSizedAtAchievedTimesHeadroom_WithReason()
    {
        for (uint i = 0; i < 3; i++)
        {
            await CloseFlow("192.0.2.10", ReceiverLimited(), 41000 + i);
        }
        LaneGrant later = await _service.RequestLane(Request("192.0.2.77"), Context()); // same /24: same site

        Assert.AreEqual(300_000_000UL, later.RateBps, later.Reason);
        StringAssert.Contains(later.Reason, "limited by the receiver's window");
        StringAssert.Contains(later.Reason, "192.0.2.0/24");
        LaneGrant elsewhere = await _service.RequestLane(Request("198.51.100.1"), Context());
        Assert.AreEqual(ClassRate, elsewhere.RateBps, "another destination keeps the class rate");
    }

    [TestMethod]
    public async Task OneReceiverLimitedFlow_IsNotEnoughEvidence()
    {
        await CloseFlow("192.0.2.10", ReceiverLimited(), 41000);
        LaneGrant later = await _service.RequestLane(Request("192.0.2.10"), Context());
        Assert.AreEqual(ClassRate, later.RateBps, later.Reason);
    }

    [TestMethod]
    public async Task CongestionLimitedFlows_DoNotCapLaterGrants()
    {
        for (uint i = 0; i < 3; i++)
        {
            await CloseFlow("192.0.2.10", CongestionLimited(), 41000 + i);
        }
        LaneGrant later = await _service.RequestLane(Request("192.0.2.10"), Context());
        Assert.AreEqual(ClassRate, later.RateBps, later.Reason);
        Assert.DoesNotContain("receiver's window", later.Reason);
    }

    [TestMethod]
    public async Task ReportFlows_Batch_RecordsEveryClosedFlow_SkipsUnknownLeases_ListFlowsNewestFirst()
    {
        LaneGrant a = await _service.RequestLane(Request("192.0.2.10", 41001), Context());
        LaneGrant b = await _service.RequestLane(Request("192.0.2.11", 41002), Context());
        var batch = new FlowReportBatch();
        batch.Reports.Add(new FlowReport { LeaseId = a.LeaseId, Stats = ReceiverLimited(), Closed = true });
        batch.Reports.Add(new FlowReport { LeaseId = "0123456789abcdef0123456789abcdef", Stats = ReceiverLimited(), Closed = true });
        batch.Reports.Add(new FlowReport { LeaseId = b.LeaseId, Stats = CongestionLimited(), Closed = true });
        await _service.ReportFlows(batch, Context());

        ListFlowsReply flows = await _service.ListFlows(new ListFlowsRequest(), Context());
        Assert.AreEqual(2u, flows.FlowsRecorded);
        CollectionAssert.AreEqual(new[] { b.LeaseId, a.LeaseId }, flows.Flows.Select(f => f.LeaseId).ToArray());
        Assert.AreEqual(FlowVerdict.Congestion, flows.Flows[0].LimitedBy);
        Assert.AreEqual(FlowVerdict.ReceiverWindow, flows.Flows[1].LimitedBy);
        Assert.AreEqual(200_000_000UL, flows.Flows[1].AchievedBps);
        Assert.AreEqual("192.0.2.10", new IPAddress(flows.Flows[1].Flow.Remote.Address.Span).ToString(), "the lease's flow when the report has none");
        ListFlowsReply other = await _service.ListFlows(new ListFlowsRequest(), Context(uid: 1000));
        Assert.IsEmpty(other.Flows, "a non-root caller sees only its own flows");
    }

    [TestMethod]
    public async Task Metrics_AfterGrantsDenialsAndFlows_PassStrictFormatCheck_WithTheCounts()
    {
        var service = LaneBrokerService.Create(PolicyParser.Parse("class bulk rate=1gbit rtt=10ms\nrule dst=192.0.2.0/24 -> bulk\n", "lanes.conf"));
        // Through the outcome interceptor, as the host calls them: that is where grants, releases and latency are counted.
        var outcomes = new LaneShim.Broker.Audit.OutcomeInterceptor(service);
        static InProcessCallContext Call(string method) => new("/laneshim.v1.LaneBroker/" + method);
        LaneGrant grant = await outcomes.UnaryServerHandler(Request("192.0.2.1"), Call("RequestLane"), service.RequestLane);
        await Assert.ThrowsAsync<RpcException>(() => outcomes.UnaryServerHandler(Request("198.51.100.1"), Call("RequestLane"), service.RequestLane));
        await outcomes.UnaryServerHandler(new ReleaseRequest { LeaseId = grant.LeaseId, Stats = CongestionLimited() }, Call("ReleaseLane"), service.ReleaseLane);
        await outcomes.UnaryServerHandler(Request("192.0.2.2"), Call("RequestLane"), service.RequestLane);

        string text = service.Telemetry.Metrics.Render(service.Leases, service.Paths);
        PrometheusParser.Exposition metrics = PrometheusParser.Parse(text);

        Assert.AreEqual(2.0, metrics.Sum("laneshim_grants_total", ("result", "granted")), text);
        Assert.AreEqual(1.0, metrics.Sum("laneshim_grants_total", ("class", "none"), ("result", "not_found")), text);
        Assert.AreEqual(1.0, metrics.Sum("laneshim_active_leases", ("class", "bulk")), text);
        Assert.AreEqual(1.0, metrics.Sum("laneshim_flows_reported_total"), text);
        Assert.AreEqual(100_000_000.0, metrics.Sum("laneshim_flow_bytes_total", ("direction", "sent")), text);
        Assert.AreEqual(1.0, metrics.Sum("laneshim_flows_limited_total", ("limited_by", "congestion")), text);
        Assert.AreEqual(3.0, metrics.Sum("laneshim_request_duration_seconds_count"), text);
        Assert.AreEqual("histogram", metrics.Types["laneshim_request_duration_seconds"]);
    }

    [TestMethod]
    public void PrometheusWriter_EscapesLabelValuesAndHelp()
    {
        string text = new PrometheusWriter().Family("m", "gauge", "a \\ b\nc").Sample("m", 1, ("l", "q\"u\\o\nte")).ToString();
        Assert.AreEqual("# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{l=\"q\\\"u\\\\o\\nte\"} 1\n", text);
        PrometheusParser.Exposition parsed = PrometheusParser.Parse(text);
        Assert.AreEqual("q\"u\\o\nte", parsed.Samples[0].Labels["l"]);
    }

    [TestMethod]
    public void StrictParser_RejectsMalformedText()
    {
        string[] bad =
        [
            "m 1\n",                                          // no TYPE
            "# TYPE m gauge\nm{l=\"a} 1\n",                 // unterminated label
            "# TYPE m gauge\nm{l=\"\\x\"} 1\n",             // bad escape
            "# TYPE m counter\nm -1\n",                      // negative counter
            "# TYPE m gauge\nm one\n",                       // value
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", // not cumulative
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", // no +Inf
            "# TYPE m gauge\nm 1",                           // no final newline
        ];
        foreach (string text in bad)
        {
            Assert.ThrowsExactly<FormatException>(() => PrometheusParser.Parse(text), text);
        }
    }
}
