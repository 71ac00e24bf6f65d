// CongestionChecksTests.cs - available vs allowed vs default congestion control, and what an unprivileged program gets.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class CongestionChecksTests
{
    [TestMethod]
    public void Check_LaneWithoutCc_OkWithTheDefault()
    {
        Finding f = CongestionChecks.Check(TestHosts.GigabitAt40ms(), TestHosts.Tuned());

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("cubic", f.Measured);
        Assert.AreEqual("the lane leaves congestion control at the system default, cubic (available: reno cubic bbr; unprivileged programs may choose: reno cubic)", f.Why);
    }

    [TestMethod]
    public void Check_CcAvailableButNotAllowed_WarnsWithTheAllowedListFix()
    {
        Finding f = CongestionChecks.Check(TestHosts.GigabitAt40ms("bbr"), TestHosts.Tuned());

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.AreEqual("reno cubic", f.Measured);
        Assert.AreEqual("reno cubic bbr", f.Needed);
        Assert.Contains("setsockopt(TCP_CONGESTION) fails with EPERM for programs without CAP_NET_ADMIN, so their lane sockets keep the default, cubic", f.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_allowed_congestion_control=\"reno cubic bbr\"", f.Fix);
        Assert.AreEqual(new SysctlChange(SysctlKeys.TcpAllowedCongestionControl, "reno cubic bbr"), f.Change);
    }

    [TestMethod]
    public void Check_CcNotAvailable_WarnsWithModprobe()
    {
        Finding f = CongestionChecks.Check(TestHosts.GigabitAt40ms("htcp"), TestHosts.Tuned());

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.AreEqual("reno cubic bbr", f.Measured);
        Assert.AreEqual("modprobe tcp_htcp", f.Fix);
        Assert.IsNull(f.Change);
    }

    [TestMethod]
    [DataRow("reno")]
    [DataRow("cubic")]
    public void Check_CcAllowedOrDefault_Ok(string cc)
    {
        Finding f = CongestionChecks.Check(TestHosts.GigabitAt40ms(cc), TestHosts.Tuned());
        Assert.AreEqual(Severity.Ok, f.Severity, f.Why);
    }

    [TestMethod]
    public void Check_DefaultMissingFromAllowedList_StillOk()
    {
        // The kernel lets everyone use the default, listed or not.
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpCongestionControl, "bbr"), (SysctlKeys.TcpAllowedCongestionControl, "reno"));

        Finding f = CongestionChecks.Check(TestHosts.GigabitAt40ms("bbr"), host);

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("bbr is the system default, so every program gets it", f.Why);
    }
}
