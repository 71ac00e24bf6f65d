// BufferChecksTests.cs - buffer findings on worked examples: severities, the arithmetic in words, the fixes, the reach per direction.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class BufferChecksTests
{
    private const string Scope = "lane dmz";

    private static (IReadOnlyList<Finding> Findings, DirectionLimit Send, DirectionLimit Receive) Check(HostSnapshot host, DoctorLane? lane = null) =>
        BufferChecks.Check(lane ?? TestHosts.GigabitAt40ms(), host);

    [TestMethod]
    public void Check_TunedHost_AllOkAndFullRateBothWays()
    {
        var (findings, send, receive) = Check(TestHosts.Tuned());

        Assert.IsTrue(findings.All(f => f.Severity == Severity.Ok), string.Join("\n", findings.Select(f => $"{f.Id}: {f.Severity} {f.Why}")));
        Assert.AreEqual(BufferMode.Autotune, send.Mode);
        Assert.AreEqual(1_000_000_000UL, send.TopsOutAtBps);
        Assert.AreEqual(1_000_000_000UL, receive.TopsOutAtBps);
        Assert.IsEmpty(send.LimitedBy);
        Assert.AreEqual(
            "1 Gbit/s x 40 ms = 5.00 MB; send autotuning may grow the buffer to net.ipv4.tcp_wmem max = 32 MiB, at least 2 x 5.00 MB " +
            "(the kernel counts overhead as well as data), so LaneShim leaves send autotuning on",
            findings.Single(SysctlKeys.TcpWmem).Why);
    }

    [TestMethod]
    public void Check_WmemMaxBelowBdpAndAutotuningShort_LimitsWithTheIssuesArithmetic()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpWmem, "4096 16384 4194304"), (SysctlKeys.WmemMax, "4194304"));

        var (findings, send, _) = Check(host);

        Finding cap = findings.Single(SysctlKeys.WmemMax);
        Assert.AreEqual(Severity.LimitsThroughput, cap.Severity);
        Assert.AreEqual("4194304", cap.Measured);
        Assert.AreEqual("5000000", cap.Needed);
        Assert.StartsWith("1 Gbit/s x 40 ms = 5.00 MB; net.core.wmem_max is 4 MiB, so a single stream tops out at about 839 Mbit/s (4 MiB x 8 / 40 ms)", cap.Why);
        Assert.AreEqual("sysctl -w net.core.wmem_max=5000000", cap.Fix);
        Assert.AreEqual(new SysctlChange(SysctlKeys.WmemMax, "5000000"), cap.Change);

        Finding mem = findings.Single(SysctlKeys.TcpWmem);
        Assert.AreEqual(Severity.LimitsThroughput, mem.Severity);
        Assert.AreEqual("4096 16384 4194304", mem.Measured);
        Assert.AreEqual("4096 16384 10000000", mem.Needed);
        Assert.Contains("an autotuned stream tops out at about 419 Mbit/s (2 MiB x 8 / 40 ms)", mem.Why);
        Assert.Contains("but net.core.wmem_max = 4 MiB caps that too", mem.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_wmem=\"4096 16384 10000000\"", mem.Fix);

        Assert.AreEqual(BufferMode.Set, send.Mode);
        Assert.AreEqual(4_194_304L, send.WindowBytes);
        Assert.AreEqual(838_860_800UL, send.TopsOutAtBps);
        CollectionAssert.AreEqual(new[] { SysctlKeys.WmemMax, SysctlKeys.TcpWmem }, send.LimitedBy.ToArray());
    }

    [TestMethod]
    public void Check_TcpWmemShortButWmemMaxCovers_WarnsBecauseLaneShimSetsTheBuffer()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpWmem, "4096 16384 1048576"));

        var (findings, send, _) = Check(host);

        Finding mem = findings.Single(SysctlKeys.TcpWmem);
        Assert.AreEqual(Severity.Warn, mem.Severity);
        Assert.Contains("an autotuned stream tops out at about 105 Mbit/s (512 KiB x 8 / 40 ms)", mem.Why);
        Assert.Contains("LaneShim sets SO_SNDBUF to 5.00 MB instead (net.core.wmem_max allows it)", mem.Why);
        Assert.AreEqual(Severity.Ok, findings.Single(SysctlKeys.WmemMax).Severity);
        Assert.AreEqual(BufferMode.Set, send.Mode);
        Assert.AreEqual(1_000_000_000UL, send.TopsOutAtBps);
    }

    [TestMethod]
    public void Check_AutotuningCoversButWmemMaxSmall_WarnsForProgramsThatSetTheirOwnBuffer()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.WmemMax, "212992"));

        var (findings, send, _) = Check(host);

        Finding cap = findings.Single(SysctlKeys.WmemMax);
        Assert.AreEqual(Severity.Warn, cap.Severity);
        Assert.AreEqual(
            "1 Gbit/s x 40 ms = 5.00 MB; net.core.wmem_max is 208 KiB: this lane autotunes past it, but a program that sets SO_SNDBUF itself " +
            "(iperf3 -w, for one) is raised only to 208 KiB and tops out at about 42.6 Mbit/s (208 KiB x 8 / 40 ms)",
            cap.Why);
        Assert.AreEqual(1_000_000_000UL, send.TopsOutAtBps);
    }

    [TestMethod]
    public void Check_ReceiveSideShortOnBoth_LimitsReceiverOnly()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpRmem, "4096 131072 1048576"), (SysctlKeys.RmemMax, "1048576"));

        var (findings, send, receive) = Check(host);

        Assert.AreEqual(Severity.LimitsThroughput, findings.Single(SysctlKeys.TcpRmem).Severity);
        Assert.AreEqual("4096 131072 10000000", findings.Single(SysctlKeys.TcpRmem).Needed);
        Finding cap = findings.Single(SysctlKeys.RmemMax);
        Assert.AreEqual(Severity.LimitsThroughput, cap.Severity);
        Assert.StartsWith("1 Gbit/s x 40 ms = 5.00 MB; net.core.rmem_max is 1 MiB, so a single stream tops out at about 210 Mbit/s (1 MiB x 8 / 40 ms)", cap.Why);
        Assert.AreEqual(209_715_200UL, receive.TopsOutAtBps);
        Assert.AreEqual(1_000_000_000UL, send.TopsOutAtBps);
    }

    [TestMethod]
    public void Check_WindowScalingOff_LimitsBothDirectionsTo65535Bytes()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpWindowScaling, "0"));

        var (findings, send, receive) = Check(host);

        Finding scaling = findings.Single(SysctlKeys.TcpWindowScaling);
        Assert.AreEqual(Severity.LimitsThroughput, scaling.Severity);
        Assert.AreEqual("0", scaling.Measured);
        Assert.AreEqual("1", scaling.Needed);
        Assert.AreEqual(
            "tcp_window_scaling is 0, so no window can exceed 65,535 bytes, whatever the buffers: a single stream tops out at about 13.1 Mbit/s " +
            "(65,535 B x 8 / 40 ms); 1 Gbit/s x 40 ms = 5.00 MB needs window scaling",
            scaling.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_window_scaling=1", scaling.Fix);
        Assert.AreEqual(13_107_000UL, send.TopsOutAtBps);
        Assert.AreEqual(13_107_000UL, receive.TopsOutAtBps);
        Assert.AreEqual(SysctlKeys.TcpWindowScaling, receive.LimitedBy[0]);
    }

    [TestMethod]
    public void Check_WindowScalingOffButBdpFitsIn64K_Ok()
    {
        var lane = new DoctorLane("slow", 10_000_000, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), "");
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpWindowScaling, "0"));

        var (findings, send, _) = Check(host, lane);

        Assert.AreEqual(Severity.Ok, findings.Single(SysctlKeys.TcpWindowScaling).Severity);
        Assert.AreEqual(10_000_000UL, send.TopsOutAtBps);
    }

    [TestMethod]
    public void Check_ModerateRcvbufOffWhileLaneAutotunes_LimitsAtTheDefaultBuffer()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpModerateRcvbuf, "0"));

        var (findings, _, receive) = Check(host);

        Finding moderate = findings.Single(SysctlKeys.TcpModerateRcvbuf);
        Assert.AreEqual(Severity.LimitsThroughput, moderate.Severity);
        Assert.Contains("a socket that does not set SO_RCVBUF offers about 64 KiB and tops out at about 13.1 Mbit/s (64 KiB x 8 / 40 ms)", moderate.Why);
        Assert.AreEqual("sysctl -w net.ipv4.tcp_moderate_rcvbuf=1", moderate.Fix);
        Assert.AreEqual(13_107_200UL, receive.TopsOutAtBps);
        CollectionAssert.AreEqual(new[] { SysctlKeys.TcpModerateRcvbuf }, receive.LimitedBy.ToArray());
    }

    [TestMethod]
    public void Check_ModerateRcvbufOffWhileLaneSetsTheBuffer_OnlyWarns()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpModerateRcvbuf, "0"), (SysctlKeys.TcpRmem, "4096 131072 1048576"));

        var (findings, _, receive) = Check(host);

        Assert.AreEqual(Severity.Warn, findings.Single(SysctlKeys.TcpModerateRcvbuf).Severity);
        Assert.AreEqual(1_000_000_000UL, receive.TopsOutAtBps);
    }

    [TestMethod]
    public void Check_BdpAboveTcpsLargestWindow_LimitsWithNoSysctlFix()
    {
        var lane = new DoctorLane("huge", 100_000_000_000, new RttChoice(TimeSpan.FromMilliseconds(100), RttSource.Fixed), "");
        HostSnapshot host = TestHosts.Tuned().With(
            (SysctlKeys.TcpWmem, "4096 16384 2147483647"), (SysctlKeys.TcpRmem, "4096 131072 2147483647"),
            (SysctlKeys.WmemMax, "2147483647"), (SysctlKeys.RmemMax, "2147483647"));

        var (findings, send, _) = Check(host, lane);

        Finding max = findings.Single("tcp-max-window");
        Assert.AreEqual(Severity.LimitsThroughput, max.Severity);
        Assert.IsNull(max.Fix);
        Assert.Contains("100 Gbit/s x 100 ms = 1.25 GB, more than TCP's largest window", max.Why);
        Assert.AreEqual("tcp-max-window", send.LimitedBy[0]);
    }

    [TestMethod]
    public void Check_KernelBefore66WithNegativeAdvWinScale_ReceiveNeedsFourTimesTheBdp()
    {
        HostSnapshot host = TestHosts.Tuned() with { KernelRelease = "6.1.0-18-amd64" };
        host = host.With((SysctlKeys.TcpAdvWinScale, "-2"), (SysctlKeys.TcpRmem, "4096 131072 16777216"));

        var (findings, _, receive) = Check(host);

        Finding mem = findings.Single(SysctlKeys.TcpRmem);
        Assert.AreEqual("4096 131072 20000000", mem.Needed);
        Assert.Contains("about 1/4 of which carries data (4 MiB)", mem.Why);
        Assert.AreEqual(Severity.LimitsThroughput, mem.Severity, mem.Why);
        Assert.EndsWith("Setting SO_RCVBUF to the BDP instead does not help: only 1/4 of a buffer carries data (net.ipv4.tcp_adv_win_scale)", mem.Why);
        Assert.AreEqual(BufferMode.Autotune, receive.Mode); // the planner only asks for 2 x BDP
        Assert.AreEqual(4_194_304L, receive.WindowBytes);
        CollectionAssert.Contains(receive.LimitedBy.ToArray(), SysctlKeys.TcpAdvWinScale);
    }

    [TestMethod]
    public void Check_GlobalSysctlReadOnlyInNamespace_SaysWhereToRunTheFix()
    {
        HostSnapshot tuned = TestHosts.Tuned().With((SysctlKeys.WmemMax, "4194304"), (SysctlKeys.TcpWmem, "4096 16384 1048576"));
        HostSnapshot host = tuned with { ReadOnlySysctls = new HashSet<string> { SysctlKeys.WmemMax } };

        Finding cap = Check(host).Findings.Single(SysctlKeys.WmemMax);

        Assert.EndsWith("net.core.wmem_max is global on this kernel and read-only in this network namespace, so run the fix in the initial namespace", cap.Why);
    }

    [TestMethod]
    public void Check_UnreadableSysctl_WarnsUnknown()
    {
        HostSnapshot host = TestHosts.Tuned().With((SysctlKeys.TcpWmem, null));

        Finding mem = Check(host).Findings.Single(SysctlKeys.TcpWmem);

        Assert.AreEqual(Severity.Warn, mem.Severity);
        Assert.AreEqual("unknown", mem.Measured);
        Assert.Contains("could not read /proc/sys/net/ipv4/tcp_wmem", mem.Why);
    }

    [TestMethod]
    public void ExplainClamp_SendBufferClampedByWmemMax_GivesArithmeticAndFix()
    {
        var host = new HostLimits(4 * 1024 * 1024, 4 * 1024 * 1024, 6 * 1024 * 1024, 4 * 1024 * 1024, false);
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, 5_000_000, null, host);

        string? why = BufferChecks.ExplainClamp(plan, 1_000_000_000, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), host);

        Assert.AreEqual(
            "1 Gbit/s x 40 ms = 5.00 MB; net.core.wmem_max is 4 MiB, so a single stream tops out at about 839 Mbit/s (4 MiB x 8 / 40 ms); " +
            "fix: sysctl -w net.core.wmem_max=5000000, or give the program CAP_NET_ADMIN",
            why);
    }

    [TestMethod]
    public void ExplainClamp_PlanNotClamped_ReturnsNull()
    {
        var host = new HostLimits(16 * 1024 * 1024, 16 * 1024 * 1024, 32 * 1024 * 1024, 32 * 1024 * 1024, false);
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Receive, 5_000_000, null, host);

        Assert.IsNull(BufferChecks.ExplainClamp(plan, 1_000_000_000, new RttChoice(TimeSpan.FromMilliseconds(40), RttSource.Fixed), host));
    }
}
