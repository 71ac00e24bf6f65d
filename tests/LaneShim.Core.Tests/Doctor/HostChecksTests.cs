// HostChecksTests.cs - host-wide checks: adv_win_scale by kernel, shrink_window, MTU probing, input backlog, MPTCP.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class HostChecksTests
{
    private static IReadOnlyList<Finding> Check(HostSnapshot host, ulong rateBps = 1_000_000_000) =>
        HostChecks.Check([new DoctorLane("dmz", rateBps, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), "")], host);

    [TestMethod]
    public void AdvWinScale_Kernel66OrLater_OkAsObsolete()
    {
        Finding f = Check(TestHosts.Tuned().With((SysctlKeys.TcpAdvWinScale, "-2"))).Single(SysctlKeys.TcpAdvWinScale);

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.StartsWith("obsolete since Linux 6.6", f.Why);
    }

    [TestMethod]
    public void AdvWinScale_OldKernelNegative_LimitsWithFix()
    {
        HostSnapshot host = (TestHosts.Tuned() with { KernelRelease = "5.15.0" }).With((SysctlKeys.TcpAdvWinScale, "-2"));

        Finding f = Check(host).Single(SysctlKeys.TcpAdvWinScale);

        Assert.AreEqual(Severity.LimitsThroughput, f.Severity);
        Assert.Contains("offers only 1/4 of itself as window", f.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_adv_win_scale=1", f.Fix);
    }

    [TestMethod]
    public void AdvWinScale_OldKernelTwo_OkThreeQuarters()
    {
        HostSnapshot host = (TestHosts.Tuned() with { KernelRelease = "5.15.0" }).With((SysctlKeys.TcpAdvWinScale, "2"));

        Finding f = Check(host).Single(SysctlKeys.TcpAdvWinScale);

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.Contains("offers 3/4 of itself", f.Why);
    }

    [TestMethod]
    public void ShrinkWindow_On_WarnsAndAbsentIsNotReported()
    {
        Assert.AreEqual(Severity.Warn, Check(TestHosts.Tuned().With((SysctlKeys.TcpShrinkWindow, "1"))).Single(SysctlKeys.TcpShrinkWindow).Severity);
        Assert.IsFalse(Check(TestHosts.Tuned().With((SysctlKeys.TcpShrinkWindow, null))).Any(f => f.Id == SysctlKeys.TcpShrinkWindow));
    }

    [TestMethod]
    public void MtuProbing_OffWithJumboEgress_Warns()
    {
        HostSnapshot host = TestHosts.Tuned().WithPath(p => p with { Mtu = 9000 });

        Finding f = Check(host).Single(SysctlKeys.TcpMtuProbing);

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.StartsWith("eth0 has MTU 9000", f.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_mtu_probing=1", f.Fix);
    }

    [TestMethod]
    public void MtuProbing_OffWithStandardMtu_Ok()
    {
        Assert.AreEqual(Severity.Ok, Check(TestHosts.Tuned()).Single(SysctlKeys.TcpMtuProbing).Severity);
    }

    [TestMethod]
    public void Backlog_TenGigabitAtMtu1500_NeedsTenMillisecondsOfPackets()
    {
        Finding f = Check(TestHosts.Tuned(), 10_000_000_000).Single(SysctlKeys.NetdevMaxBacklog);

        Assert.AreEqual(Severity.Warn, f.Severity);
        Assert.AreEqual("1000", f.Measured);
        Assert.AreEqual("8334", f.Needed);
        Assert.StartsWith("10 Gbit/s at MTU 1500 is 833,334 packets/s, so 10 ms of input is 8,334 packets", f.Why);
        Assert.AreEqual("sysctl -w net.core.netdev_max_backlog=8334", f.Fix);
    }

    [TestMethod]
    public void Backlog_OneGigabit_Ok()
    {
        Finding f = Check(TestHosts.Tuned()).Single(SysctlKeys.NetdevMaxBacklog);
        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("834", f.Needed);
    }

    [TestMethod]
    public void Backlog_HiddenInANetworkNamespace_OkAndSaysWhereToLook()
    {
        HostSnapshot host = (TestHosts.Tuned() with { InitialNetworkNamespace = false }).With((SysctlKeys.NetdevMaxBacklog, null));

        Finding f = Check(host).Single(SysctlKeys.NetdevMaxBacklog);

        Assert.AreEqual(Severity.Ok, f.Severity);
        Assert.AreEqual("not visible here", f.Measured);
        Assert.IsNull(f.Fix);
    }

    [TestMethod]
    public void Mptcp_Disabled_WarnsWithFixAndAbsent_WarnsWithout()
    {
        Finding off = Check(TestHosts.Tuned().With((SysctlKeys.MptcpEnabled, "0"))).Single(SysctlKeys.MptcpEnabled);
        Finding absent = Check(TestHosts.Tuned().With((SysctlKeys.MptcpEnabled, null))).Single(SysctlKeys.MptcpEnabled);

        Assert.AreEqual(Severity.Warn, off.Severity);
        Assert.AreEqual("sysctl -w net.mptcp.enabled=1", off.Fix);
        Assert.AreEqual(Severity.Warn, absent.Severity);
        Assert.AreEqual("absent", absent.Measured);
        Assert.IsNull(absent.Fix);
    }
}
