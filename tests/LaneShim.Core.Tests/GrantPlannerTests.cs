// GrantPlannerTests.cs - grant plans: the reason line, clamps, unavailable congestion control, marks, huge BDPs.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class GrantPlannerTests
{
    private const long MiB = 1024 * 1024;

    private static readonly LaneClass Dmz = new()
    {
        Name = "dmz",
        RateBps = 1_000_000_000,
        Rtt = TimeSpan.FromMilliseconds(40),
        Congestion = "cubic",
        Dscp = 46,
        Mark = 0x10,
    };

    private static readonly HostLimits Dtn = new(RmemMax: 212_992, WmemMax: 212_992, TcpRmemMax: 32 * MiB, TcpWmemMax: 4 * MiB, Privileged: true)
    {
        CongestionAvailable = ["reno", "cubic", "bbr"],
    };

    private static readonly RttChoice Fixed40 = new(TimeSpan.FromMilliseconds(40), RttSource.Fixed);

    [TestMethod]
    public void Plan_UnprivilegedClamp_ReasonCarriesTheDoctorsArithmeticAndFix()
    {
        var host = new HostLimits(RmemMax: 4 * MiB, WmemMax: 4 * MiB, TcpRmemMax: 4 * MiB, TcpWmemMax: 4 * MiB, Privileged: false)
        {
            CongestionAvailable = ["cubic", "bbr"],
        };
        GrantPlan plan = GrantPlanner.Plan(Dmz, Fixed40, host, AppBuffers.None);
        StringAssert.Contains(plan.Reason, "so a single stream tops out at about 839 Mbit/s (4 MiB x 8 / 40 ms)");
        StringAssert.Contains(plan.Reason, "sysctl -w net.core.wmem_max=5000000");
    }

    [TestMethod]
    public void Plan_DmzOnPrivilegedDtn_FillsEveryField()
    {
        GrantPlan plan = GrantPlanner.Plan(Dmz, Fixed40, Dtn, AppBuffers.None);

        Assert.AreEqual(5_000_000L, plan.BdpBytes);
        Assert.AreEqual(BufferMode.Force, plan.Send.Mode);
        Assert.AreEqual(5_000_000L, plan.Send.Bytes);
        Assert.AreEqual(BufferMode.Autotune, plan.Receive.Mode);
        Assert.AreEqual("cubic", plan.Congestion);
        Assert.AreEqual(125_000_000UL, plan.PacingBytesPerSecond);
        Assert.AreEqual(46, plan.Dscp);
        Assert.AreEqual(0x10u, plan.Mark);
        Assert.AreEqual(
            "class dmz: 1 Gbit/s x 40 ms = 5.00 MB BDP; sndbuf 5.00 MB (force); rcvbuf autotune (ceiling 32 MiB); cc cubic; " +
            "pacing 125 MB/s; dscp 46; mark 0x10; note: send buffer autotuning ceiling net.ipv4.tcp_wmem max = 4 MiB would clamp " +
            "(need 10.00 MB kernel-accounted); setting it instead",
            plan.Reason);
    }

    [TestMethod]
    public void Plan_UnprivilegedHost_ReasonMentionsTheClampAndTheDroppedMark()
    {
        HostLimits host = Dtn with { Privileged = false, WmemMax = 4 * MiB };
        GrantPlan plan = GrantPlanner.Plan(Dmz, Fixed40, host, AppBuffers.None);

        Assert.AreEqual(4 * MiB, plan.Send.Bytes);
        Assert.AreEqual(0u, plan.Mark);
        StringAssert.Contains(plan.Reason, "sndbuf 4 MiB (set, clamped)");
        StringAssert.Contains(plan.Reason, "note: send buffer clamped to net.core.wmem_max = 4 MiB (need 5.00 MB; run as root or raise the sysctl)");
        StringAssert.Contains(plan.Reason, "note: mark 0x10 not applied: SO_MARK needs CAP_NET_ADMIN");
        Assert.IsFalse(plan.Reason.Contains("; mark 0x10;", StringComparison.Ordinal), plan.Reason);
    }

    [TestMethod]
    public void Plan_CongestionNotOnHost_LeavesDefaultWithNote()
    {
        LaneClass bbr = Dmz with { Congestion = "bbr" };
        HostLimits host = Dtn with { CongestionAvailable = ["reno", "cubic"] };
        GrantPlan plan = GrantPlanner.Plan(bbr, Fixed40, host, AppBuffers.None);

        Assert.AreEqual(string.Empty, plan.Congestion);
        StringAssert.Contains(plan.Reason, "; cc default;");
        StringAssert.Contains(plan.Reason, "note: cc bbr not available on this host (has reno, cubic); left at the system default");
    }

    [TestMethod]
    public void Plan_LearnedRtt_SaysSoAndSizesForIt()
    {
        var learned = new RttChoice(TimeSpan.FromMilliseconds(180), RttSource.Learned);
        LaneClass lsr = Dmz with { Name = "lsr", RateBps = 2_380_000_000, Congestion = "", Dscp = 0, Mark = 0 };
        GrantPlan plan = GrantPlanner.Plan(lsr, learned, Dtn, AppBuffers.None);

        Assert.AreEqual(53_550_000L, plan.BdpBytes);
        Assert.StartsWith("class lsr: 2.38 Gbit/s x 180 ms learned = 53.55 MB BDP; sndbuf 53.55 MB (force); rcvbuf 53.55 MB (force); cc default; pacing 298 MB/s", plan.Reason);
    }

    [TestMethod]
    public void Plan_BdpBeyondTheLargestTcpWindow_AdvisesParallelStreams()
    {
        LaneClass fat = Dmz with { RateBps = 400_000_000_000 };
        GrantPlan plan = GrantPlanner.Plan(fat, new RttChoice(TimeSpan.FromMilliseconds(88), RttSource.Fixed), Dtn, AppBuffers.None);

        Assert.AreEqual(4_400_000_000L, plan.BdpBytes);
        StringAssert.Contains(plan.Reason, "one flow cannot fill this lane, use parallel streams");
    }

    [TestMethod]
    public void Plan_ProgramsOwnLargerBuffers_AreKept()
    {
        GrantPlan plan = GrantPlanner.Plan(Dmz, Fixed40, Dtn, new AppBuffers(null, 16_000_000));
        // 16 MB is above rmem_max on this privileged host: forced, not shrunk to the 5 MB need.
        Assert.AreEqual(BufferMode.Force, plan.Receive.Mode);
        Assert.AreEqual(16_000_000L, plan.Receive.Bytes);
        StringAssert.Contains(plan.Reason, "program's own rcvbuf 16.00 MB kept");
    }

    [TestMethod]
    public void Plan_BulkAndLowat_AppearInTheReason()
    {
        LaneClass bulk = Dmz with { Bulk = true, NotsentLowat = 128 * 1024 };
        GrantPlan plan = GrantPlanner.Plan(bulk, Fixed40, Dtn, AppBuffers.None);
        Assert.IsTrue(plan.Bulk);
        Assert.AreEqual(131_072L, plan.NotsentLowat);
        StringAssert.Contains(plan.Reason, "; notsent_lowat 128 KiB; bulk");
    }
}
