// FlowVerdictTests.cs - what limited a flow, from the TCP_INFO time split: a table of cases.
using LaneShim.Broker.Telemetry;
using LaneShim.Protocol.V1;

namespace LaneShim.Broker.Tests.Telemetry;

[TestClass]
public sealed class FlowVerdictTests
{
    // duration ms, busy us, rwnd-limited us, sndbuf-limited us, bytes acked, bytes received, expected
    private static readonly (ulong Duration, ulong Busy, ulong Rwnd, ulong Sndbuf, ulong Acked, ulong Received, string Expected)[] Cases =
    [
        (10_000, 9_500_000, 8_000_000, 0, 1_000_000_000, 100, FlowVerdict.ReceiverWindow),
        (10_000, 9_500_000, 500_000, 7_000_000, 1_000_000_000, 100, FlowVerdict.SendBuffer),
        (10_000, 9_500_000, 500_000, 500_000, 1_000_000_000, 100, FlowVerdict.Congestion),
        (10_000, 1_000_000, 200_000, 0, 10_000_000, 100, FlowVerdict.Application),
        (10_000, 0, 0, 0, 100, 1_000_000_000, FlowVerdict.ReceiveOnly),
        (0, 0, 0, 0, 0, 0, FlowVerdict.Unknown),
    ];

    [TestMethod]
    public void Classify_TableOfTimeSplits()
    {
        foreach (var c in Cases)
        {
            var stats = new FlowStats { DurationMs = c.Duration, BusyTimeUs = c.Busy, RwndLimitedUs = c.Rwnd, SndbufLimitedUs = c.Sndbuf, BytesAcked = c.Acked, BytesReceived = c.Received };
            Assert.AreEqual(c.Expected, FlowVerdict.Classify(stats), $"case {c}");
        }
    }

    [TestMethod]
    public void CongestionLimited_IsBusyMinusTheOtherLimits_OrTheReportedField()
    {
        Assert.AreEqual(3_000UL, FlowVerdict.CongestionLimitedUs(new FlowStats { BusyTimeUs = 10_000, RwndLimitedUs = 5_000, SndbufLimitedUs = 2_000 }));
        Assert.AreEqual(0UL, FlowVerdict.CongestionLimitedUs(new FlowStats { BusyTimeUs = 1_000, RwndLimitedUs = 5_000 }));
        Assert.AreEqual(42UL, FlowVerdict.CongestionLimitedUs(new FlowStats { BusyTimeUs = 10_000, CwndLimitedUs = 42 }));
    }

    [TestMethod]
    public void AchievedBps_IsTheLargerDirectionOverTheDuration()
    {
        Assert.AreEqual(800_000_000UL, FlowVerdict.AchievedBps(new FlowStats { DurationMs = 1_000, BytesAcked = 100_000_000, BytesReceived = 10 }));
        Assert.AreEqual(80_000_000UL, FlowVerdict.AchievedBps(new FlowStats { DurationMs = 1_000, BytesReceived = 10_000_000 }));
        Assert.AreEqual(0UL, FlowVerdict.AchievedBps(new FlowStats { BytesAcked = 5 }));
    }
}
