// HostDoctorTests.cs - a whole examination: headlines per lane, the exit-code verdict, and the merged sysctl fixes.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class HostDoctorTests
{
    [TestMethod]
    public void Examine_TunedHost_NothingLimitsAndNoChanges()
    {
        DoctorReport report = HostDoctor.Examine([TestHosts.GigabitAt40ms()], TestHosts.Tuned());

        Assert.IsFalse(report.LimitsThroughput, string.Join("\n", report.Findings.Where(f => f.Severity != Severity.Ok).Select(f => f.Why)));
        Assert.IsEmpty(report.Changes);
        Assert.AreEqual(1_000_000_000UL, report.Lanes[0].TopsOutAtBps);
        Assert.IsFalse(report.Lanes[0].Limited);
    }

    [TestMethod]
    public void Examine_TwoLanesOnAShortHost_MergesFixesToTheLargerNeed()
    {
        var wan = new DoctorLane("wan", 10_000_000_000, new RttChoice(TimeSpan.FromMilliseconds(100), RttSource.Fallback), "bbr");
        HostSnapshot host = TestHosts.Tuned().With(
            (SysctlKeys.TcpWmem, "4096 16384 1048576"), (SysctlKeys.WmemMax, "212992"), (SysctlKeys.TcpWindowScaling, "0"),
            (SysctlKeys.TcpRmem, "4096 131072 300000000"), (SysctlKeys.RmemMax, "200000000"), (SysctlKeys.NetdevMaxBacklog, "10000"));

        DoctorReport report = HostDoctor.Examine([TestHosts.GigabitAt40ms(), wan], host);

        Assert.IsTrue(report.LimitsThroughput);
        CollectionAssert.AreEqual(
            new[]
            {
                new SysctlChange(SysctlKeys.TcpWmem, "4096 16384 250000000"),
                new SysctlChange(SysctlKeys.WmemMax, "125000000"),
                new SysctlChange(SysctlKeys.TcpWindowScaling, "1"),
                new SysctlChange(SysctlKeys.TcpAllowedCongestionControl, "reno cubic bbr"),
            },
            report.Changes.ToArray());
        Assert.AreEqual(2, report.Findings.Count(f => f.Id == SysctlKeys.WmemMax));
        Assert.AreEqual("1 Gbit/s x 40 ms = 5.00 MB", report.Lanes[0].Lane.DescribeBdp());
        Assert.AreEqual("10 Gbit/s x 100 ms fallback = 125.00 MB", report.Lanes[1].Lane.DescribeBdp());
        Assert.AreEqual(5_242_800UL, report.Lanes[1].TopsOutAtBps); // 65,535 B x 8 / 100 ms
    }

    [TestMethod]
    public void Examine_LinkSlowerThanLane_HeadlineCappedByLink()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { SpeedMbps = 100 });

        DoctorReport report = HostDoctor.Examine([TestHosts.GigabitAt40ms()], host);

        Assert.AreEqual(100_000_000UL, report.Lanes[0].LinkBps);
        Assert.AreEqual(100_000_000UL, report.Lanes[0].TopsOutAtBps);
        Assert.IsTrue(report.LimitsThroughput);
    }

    [TestMethod]
    public void Examine_OkFindingsWithFixes_AreNotInTheChanges()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.MptcpEnabled, "0"));

        DoctorReport report = HostDoctor.Examine([TestHosts.GigabitAt40ms()], host);

        CollectionAssert.AreEqual(new[] { new SysctlChange(SysctlKeys.MptcpEnabled, "1") }, report.Changes.ToArray());
        Assert.IsFalse(report.LimitsThroughput);
    }

    [TestMethod]
    public void FromClass_LearningClass_UsesTheFallbackRtt()
    {
        var wan = new LaneClass { Name = "wan", RateBps = 10_000_000_000, RttMode = RttMode.Learn, Rtt = TimeSpan.FromMilliseconds(80), Congestion = "bbr" };

        DoctorLane lane = DoctorLane.FromClass(wan);

        Assert.AreEqual(new RttChoice(TimeSpan.FromMilliseconds(80), RttSource.Fallback), lane.Rtt);
        Assert.AreEqual(100_000_000L, lane.BdpBytes);
        Assert.AreEqual("bbr", lane.Congestion);
    }
}
