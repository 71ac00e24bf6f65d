// BufferPlannerTests.cs - autotune vs set vs force vs clamp vs the program's own larger buffer.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class BufferPlannerTests
{
    private const long FiveMb = 5_000_000;
    private const long MiB = 1024 * 1024;

    private static HostLimits Host(long coreMax, long tcpMax, bool privileged = false) =>
        new(coreMax, coreMax, tcpMax, tcpMax, privileged);

    [TestMethod]
    public void Plan_CeilingCoversTwiceTheBdp_Autotunes()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Receive, FiveMb, null, Host(212_992, 32 * MiB));

        Assert.AreEqual(BufferMode.Autotune, plan.Mode);
        Assert.AreEqual(0L, plan.Bytes);
        Assert.AreEqual(0, plan.Notes.Count);
        Assert.AreEqual("rcvbuf autotune (ceiling 32 MiB)", plan.Describe());
    }

    [TestMethod]
    public void Plan_UnprivilegedCapBelowHalfTheCeiling_KeepsAutotuningRatherThanLockingTheBufferLow()
    {
        // tcp_wmem max 8 MiB autotunes to about 4 MiB of data; setting SO_SNDBUF unprivileged stops at 208 KiB.
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, null, Host(212_992, 8 * MiB));

        Assert.AreEqual(BufferMode.Autotune, plan.Mode);
        Assert.IsTrue(plan.Clamped);
        Assert.Contains("left to autotuning", plan.Notes.Single(n => n.Contains("autotuning:", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Plan_UnprivilegedCapAboveHalfTheCeiling_SetsAtTheCap()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, null, Host(4 * MiB, 4 * MiB));
        Assert.AreEqual(BufferMode.Set, plan.Mode);
        Assert.AreEqual(4 * MiB, plan.Bytes);
    }

    [TestMethod]
    public void Plan_CeilingExactlyTwiceTheBdp_Autotunes()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, null, Host(212_992, 2 * FiveMb));
        Assert.AreEqual(BufferMode.Autotune, plan.Mode);
    }

    [TestMethod]
    public void Plan_CeilingBelowTwiceTheBdp_SetsTheBdpWithANote()
    {
        // 6 MiB >= 5 MB, but the ceiling counts doubled bytes: 10 MB are needed.
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Receive, FiveMb, null, Host(16 * MiB, 6 * MiB));

        Assert.AreEqual(BufferMode.Set, plan.Mode);
        Assert.AreEqual(FiveMb, plan.Bytes);
        Assert.IsFalse(plan.Clamped);
        CollectionAssert.AreEqual(
            new[] { "receive buffer autotuning ceiling net.ipv4.tcp_rmem max = 6 MiB would clamp (need 10.00 MB kernel-accounted); setting it instead" },
            plan.Notes.ToArray());
        Assert.AreEqual("rcvbuf 5.00 MB (set)", plan.Describe());
    }

    [TestMethod]
    public void Plan_ProgramSetASmallBuffer_SetsTheBdpEvenWhenAutotuneWouldCover()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, 65_536, Host(16 * MiB, 64 * MiB));

        Assert.AreEqual(BufferMode.Set, plan.Mode);
        Assert.AreEqual(FiveMb, plan.Bytes);
        CollectionAssert.AreEqual(new[] { "program's own sndbuf 64 KiB raised to 5.00 MB" }, plan.Notes.ToArray());
    }

    [TestMethod]
    public void Plan_AboveCoreMaxAndPrivileged_Forces()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, null, Host(4 * MiB, 4 * MiB, privileged: true));

        Assert.AreEqual(BufferMode.Force, plan.Mode);
        Assert.AreEqual(FiveMb, plan.Bytes);
        Assert.IsFalse(plan.Clamped);
        Assert.AreEqual("sndbuf 5.00 MB (force)", plan.Describe());
    }

    [TestMethod]
    public void Plan_AboveCoreMaxUnprivileged_ClampsWithAnActionableNote()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, null, Host(4 * MiB, 4 * MiB));

        Assert.AreEqual(BufferMode.Set, plan.Mode);
        Assert.AreEqual(4 * MiB, plan.Bytes);
        Assert.IsTrue(plan.Clamped);
        Assert.AreEqual("send buffer clamped to net.core.wmem_max = 4 MiB (need 5.00 MB; run as root or raise the sysctl)", plan.Notes[^1]);
        Assert.AreEqual("sndbuf 4 MiB (set, clamped)", plan.Describe());
    }

    [TestMethod]
    public void Plan_ReceiveAboveRmemMaxUnprivileged_NamesRmemMax()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Receive, FiveMb, 1, Host(212_992, 64 * MiB));
        Assert.AreEqual(212_992L, plan.Bytes);
        Assert.AreEqual("receive buffer clamped to net.core.rmem_max = 208 KiB (need 5.00 MB; run as root or raise the sysctl)", plan.Notes[^1]);
    }

    [TestMethod]
    public void Plan_ProgramAskedForMoreThanTheNeed_KeepsTheProgramsValue()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Receive, FiveMb, 8_000_000, Host(16 * MiB, 64 * MiB));

        Assert.AreEqual(BufferMode.Set, plan.Mode);
        Assert.AreEqual(8_000_000L, plan.Bytes);
        CollectionAssert.AreEqual(new[] { "program's own rcvbuf 8.00 MB kept (more than the 5.00 MB needed)" }, plan.Notes.ToArray());
    }

    [TestMethod]
    public void Plan_ProgramsLargerValueAboveCapPrivileged_ForcesTheProgramsValue()
    {
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, FiveMb, 8_000_000, Host(4 * MiB, 4 * MiB, privileged: true));
        Assert.AreEqual(BufferMode.Force, plan.Mode);
        Assert.AreEqual(8_000_000L, plan.Bytes);
    }

    [TestMethod]
    public void Plan_BdpBeyondWhatTheKernelAccepts_CapsAtHalfIntMax()
    {
        // 100 Gbit/s x 100 ms = 1.25 GB; the kernel doubles into an int, so INT_MAX/2 is the most it takes.
        long need = Bdp.Bytes(100_000_000_000, TimeSpan.FromMilliseconds(100));
        BufferPlan plan = BufferPlanner.Plan(BufferDirection.Send, need, null, Host(4 * MiB, 4 * MiB, privileged: true));

        Assert.AreEqual(BufferMode.Force, plan.Mode);
        Assert.AreEqual(1_073_741_823L, plan.Bytes);
        Assert.IsTrue(plan.Clamped);
        Assert.IsTrue(plan.Notes.Any(n => n.StartsWith("send buffer capped at", StringComparison.Ordinal)), string.Join(" | ", plan.Notes));
    }

    [TestMethod]
    public void PlanBoth_MixedHost_PlansEachDirectionOnItsOwnLimits()
    {
        var host = new HostLimits(RmemMax: 212_992, WmemMax: 212_992, TcpRmemMax: 32 * MiB, TcpWmemMax: 4 * MiB, Privileged: true);
        (BufferPlan send, BufferPlan receive) = BufferPlanner.PlanBoth(FiveMb, host, AppBuffers.None);

        Assert.AreEqual(BufferMode.Force, send.Mode);
        Assert.AreEqual(BufferMode.Autotune, receive.Mode);
    }

    [TestMethod]
    public void Plan_NegativeNeed_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BufferPlanner.Plan(BufferDirection.Send, -1, null, HostLimits.LinuxDefaults));
    }
}
