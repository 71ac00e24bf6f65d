// EgressChecksTests.cs - routes, link speed, MTU, txqueuelen and pacing per egress interface.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class EgressChecksTests
{
    private static DoctorLane Lane(ulong rateBps) =>
        new("wan", rateBps, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), "");

    private static IReadOnlyList<Finding> Check(HostSnapshot host, ulong rateBps = 1_000_000_000) => EgressChecks.Check([Lane(rateBps)], host);

    [TestMethod]
    public void Route_NoDefaultRoute_WarnsAndNoRouteToPeer_Limits()
    {
        var host = TestHosts.Tuned() with
        {
            Paths =
            [
                new EgressPath { Destination = EgressPath.DefaultRoute, Error = "no default route" },
                new EgressPath { Destination = "198.51.100.7", Error = "RTNETLINK answers: Network is unreachable" },
            ],
        };

        IReadOnlyList<Finding> findings = Check(host);

        Assert.AreEqual(Severity.Warn, findings.Single("route", "default route").Severity);
        Finding peer = findings.Single("route", "to 198.51.100.7");
        Assert.AreEqual(Severity.LimitsThroughput, peer.Severity);
        Assert.AreEqual("RTNETLINK answers: Network is unreachable", peer.Measured);
        Assert.HasCount(2, findings); // no interface, no interface checks
    }

    [TestMethod]
    public void LinkSpeed_SlowerThanLane_LimitsAndCapsTheLane()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { SpeedMbps = 1000 });

        Finding f = Check(host, 10_000_000_000).Single("link-speed");

        Assert.AreEqual(Severity.LimitsThroughput, f.Severity);
        Assert.AreEqual("1 Gbit/s", f.Measured);
        Assert.AreEqual("10 Gbit/s", f.Needed);
        Assert.Contains("slower than lane wan (10 Gbit/s): a stream through it tops out at 1 Gbit/s", f.Why);
        Assert.AreEqual(1_000_000_000UL, EgressChecks.SlowestLinkBps(host));
    }

    [TestMethod]
    public void LinkSpeed_Unreported_Ok()
    {
        Finding f = Check(TestHosts.Tuned().WithPath(p => p with { SpeedMbps = null })).Single("link-speed");
        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("unknown", f.Measured);
    }

    [TestMethod]
    public void Mtu_StandardAtTenGigabit_WarnsWithPacketRates()
    {
        Finding f = Check(TestHosts.Tuned(), 10_000_000_000).Single("mtu");

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.AreEqual("1500", f.Measured);
        Assert.AreEqual("9000", f.Needed);
        Assert.StartsWith("MTU 1500: 10 Gbit/s is about 833,334 packets/s each way; jumbo frames cut that to about 138,889", f.Why);
        Assert.AreEqual("ip link set dev eth0 mtu 9000", f.Fix);
    }

    [TestMethod]
    public void Mtu_RouteMtuWins_AndOneGigabitIsOk()
    {
        Finding f = Check(TestHosts.Tuned().WithPath(p => p with { RouteMtu = 1400 })).Single("mtu");

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("MTU 1400 (the route's MTU): 1 Gbit/s is about 89,286 packets/s each way", f.Why);
    }

    [TestMethod]
    public void TxQueueLen_ShortQueue_WarnsAndNoqueue_Ok()
    {
        Finding shortQueue = Check(TestHosts.Tuned().WithPath(p => p with { TxQueueLen = 100, RootQdisc = "pfifo_fast" })).Single("txqueuelen");
        Finding noqueue = Check(TestHosts.Tuned().WithPath(p => p with { TxQueueLen = 100, RootQdisc = "noqueue" })).Single("txqueuelen");

        Assert.AreEqual(Severity.Warn, shortQueue.Severity);
        Assert.AreEqual("the queue holds only 100 packets (150.00 kB at MTU 1500, 1.2 ms at 1 Gbit/s): a longer burst is dropped at the sender and the stream backs off", shortQueue.Why);
        Assert.AreEqual("ip link set dev eth0 txqueuelen 1000", shortQueue.Fix);
        Assert.AreEqual(Severity.Ok, noqueue.Severity);
    }

    [TestMethod]
    public void Pacing_Fq_Ok()
    {
        Finding f = Check(TestHosts.Tuned()).Single("pacing");

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("fq paces each lane socket at its SO_MAX_PACING_RATE (125 MB/s for lane wan)", f.Why);
    }

    [TestMethod]
    public void Pacing_MqWithFqChildren_Ok()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { RootQdisc = "mq", ChildQdiscs = ["fq", "fq"] });

        Finding f = Check(host).Single("pacing");

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("mq: fq fq", f.Measured);
    }

    [TestMethod]
    public void Pacing_NoFqInKernel_OkThroughInternalPacing()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { RootQdisc = "noqueue" }) with { Fq = FqSupport.Absent };

        Finding f = Check(host).Single("pacing");

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.Contains("since Linux 4.13 TCP paces each socket itself", f.Why);
        Assert.EndsWith("this kernel has no fq (CONFIG_NET_SCH_FQ is not set), so internal pacing is the way", f.Why);
        Assert.IsNull(f.Fix);
    }

    [TestMethod]
    public void Pacing_FqAvailableButNotUsed_WarnsWithTcFix()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { RootQdisc = "pfifo_fast" });

        Finding f = Check(host).Single("pacing");

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.AreEqual("tc qdisc replace dev eth0 root fq", f.Fix);
    }

    [TestMethod]
    public void Pacing_KernelBefore413WithoutFq_Warns()
    {
        HostSnapshot host = (TestHosts.Tuned() with { KernelRelease = "4.9.0", Fq = FqSupport.Absent }).WithPath(p => p with { RootQdisc = "pfifo_fast" });

        Finding f = Check(host).Single("pacing");

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.Contains("SO_MAX_PACING_RATE has no effect", f.Why);
    }

    [TestMethod]
    public void Check_TwoDestinationsOneInterface_RoutesTwiceInterfaceOnce()
    {
        EgressPath first = TestHosts.Tuned().Paths[0] with { Destination = "198.51.100.7" };
        HostSnapshot host = TestHosts.Tuned() with { Paths = [first, first with { Destination = "203.0.113.9" }] };

        IReadOnlyList<Finding> findings = Check(host);

        Assert.AreEqual(2, findings.Count(f => f.Id == "route"));
        Assert.AreEqual(1, findings.Count(f => f.Id == "mtu"));
    }
}
