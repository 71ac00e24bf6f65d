// BpfPolicyCompilerTests.cs - the kernel's maps decide every flow as the broker's policy does (first match, LPM masks,
// IPv4 and IPv6 apart, loopback left alone), stop at rules they cannot see, and carry the classes' settings.
using LaneShim.Broker.Bpf;
using LaneShim.Core;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Broker.Tests.Bpf;

[TestClass]
public sealed class BpfPolicyCompilerTests
{
    private static readonly HostLimits Host = new(4 << 20, 4 << 20, 32 << 20, 4 << 20, false) { CongestionAvailable = ["reno", "cubic", "bbr"] };

    private const string Policy = """
        class wan rate=1gbit rtt=40ms cc=cubic dscp=ef
        class lan rate=10gbit rtt=1ms cc=bbr bulk=yes
        class ssh rate=100mbit rtt=40ms
        class v6 rate=2gbit rtt=20ms
        deny dst=10.1.0.0/16 reason="not the lab"
        rule dst=10.0.0.0/8 port=22 -> ssh
        rule dst=10.0.0.0/8 uid=0-999 -> lan
        rule dst=10.0.0.0/8,192.0.2.0/24 direction=out -> wan
        rule dst=2001:db8::/32 -> v6
        rule port=5201 -> lan
        rule direction=listen -> lan
        """;

    [TestMethod]
    [DataRow("10.1.2.3", 22, FlowDirection.Outbound, 1000u)]
    [DataRow("10.2.2.3", 22, FlowDirection.Outbound, 1000u)]
    [DataRow("10.2.2.3", 443, FlowDirection.Outbound, 0u)]
    [DataRow("10.2.2.3", 443, FlowDirection.Outbound, 1000u)]
    [DataRow("10.2.2.3", 443, FlowDirection.Inbound, 1000u)]
    [DataRow("192.0.2.77", 443, FlowDirection.Outbound, 1000u)]
    [DataRow("192.0.3.77", 443, FlowDirection.Outbound, 1000u)]
    [DataRow("192.0.3.77", 5201, FlowDirection.Outbound, 1000u)]
    [DataRow("2001:db8::5", 443, FlowDirection.Outbound, 1000u)]
    [DataRow("2001:db9::5", 5201, FlowDirection.Inbound, 1000u)]
    [DataRow("::ffff:10.2.2.3", 443, FlowDirection.Outbound, 1000u)]
    [DataRow("", 9000, FlowDirection.Listen, 1000u)]
    public void Kernel_DecidesEveryFlowAsThePolicyDoes(string remote, int port, FlowDirection direction, uint uid)
    {
        Policy policy = PolicyParser.Parse(Policy, "lanes.conf");
        BpfMapImage image = BpfPolicyCompiler.Compile(policy, Host);
        FlowFacts flow = KernelDecision.Flow(remote, port, direction, uid);

        Assert.AreEqual(KernelDecision.UserSpace(policy, flow), KernelDecision.Decide(image, flow), $"{remote}:{port} {direction} uid {uid}");
    }

    [TestMethod]
    public void RuleTheKernelCannotSee_StopsTheKernel_AndSaysWhereAndWhy()
    {
        Policy policy = PolicyParser.Parse("class a rate=1gbit rtt=10ms\nclass b rate=1gbit rtt=10ms\nrule program=*rsync -> a\nrule -> b\n", "lanes.conf");
        BpfMapImage image = BpfPolicyCompiler.Compile(policy, Host);

        Assert.AreEqual("userspace", KernelDecision.Decide(image, KernelDecision.Flow("10.0.0.1", 873)));
        Assert.Contains("lanes.conf:3: matches on program", image.Notes[0]);
    }

    [TestMethod]
    public void Loopback_IsLeftAlone_UnlessIncluded()
    {
        Policy policy = PolicyParser.Parse("class a rate=1gbit rtt=10ms\nrule -> a\n", "lanes.conf");
        FlowFacts v4 = KernelDecision.Flow("127.0.0.1", 80), v6 = KernelDecision.Flow("::1", 80);

        Assert.AreEqual("none", KernelDecision.Decide(BpfPolicyCompiler.Compile(policy, Host), v4));
        Assert.AreEqual("none", KernelDecision.Decide(BpfPolicyCompiler.Compile(policy, Host), v6));
        Assert.AreEqual("class a", KernelDecision.Decide(BpfPolicyCompiler.Compile(policy, Host, includeLoopback: true), v4));
        Assert.AreEqual("class a", KernelDecision.Decide(BpfPolicyCompiler.Compile(policy, Host), KernelDecision.Flow("10.0.0.1", 80)));
    }

    [TestMethod]
    public unsafe void ClassSettings_AreTheGrantsForAStockSocket()
    {
        var wan = new LaneClass { Name = "wan", RateBps = 1_000_000_000, Rtt = TimeSpan.FromMilliseconds(40), Congestion = "cubic", Dscp = 46, Mark = 0x10, Bulk = true };
        BpfClassSettings s = BpfPolicyCompiler.Settings(wan, Host);

        Assert.AreEqual(125_000_000u, s.Pacing);
        Assert.AreEqual(46u << 2, s.Tos);
        Assert.AreEqual(0x10u, s.Mark);
        Assert.AreEqual(BpfLayout.ClassTos | BpfLayout.ClassMark | BpfLayout.ClassBulk, s.Flags);
        Assert.AreEqual("cubic", new string((sbyte*)s.Congestion));
        Assert.AreEqual(4u << 20, s.Sndbuf, "5 MB BDP, clamped to wmem_max: the kernel cannot FORCE");
        Assert.AreEqual(0u, s.Rcvbuf, "tcp_rmem's 32 MiB ceiling covers twice the BDP: autotuning stays on");
    }

    [TestMethod]
    public unsafe void PacingAboveFourGigabytesPerSecond_IsTheLargestRateTheKernelTakes()
    {
        var fast = new LaneClass { Name = "fast", RateBps = 100_000_000_000, Rtt = TimeSpan.FromMilliseconds(1) };

        Assert.AreEqual(uint.MaxValue - 1, BpfPolicyCompiler.Settings(fast, Host).Pacing);
    }

    [TestMethod]
    public void TooManyPrefixes_AreRefusedWithTheReason()
    {
        string dsts = string.Join(',', Enumerable.Range(0, 4200).Select(i => $"10.{i / 256}.{i % 256}.0/24"));
        Policy policy = PolicyParser.Parse($"class a rate=1gbit rtt=10ms\nrule dst={dsts} -> a\n", "lanes.conf");

        PolicyException e = Assert.ThrowsExactly<PolicyException>(() => BpfPolicyCompiler.Compile(policy, Host));
        Assert.Contains("at most 4096", e.Message);
    }
}
