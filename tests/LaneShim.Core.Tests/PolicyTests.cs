// PolicyTests.cs - deciding flows: first match wins, deny, no match, v4-mapped peers, programs, ids, directions.
using System.Net;
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class PolicyTests
{
    private const string Text = """
        class dmz  rate=1gbit rtt=40ms bulk=yes
        class wan  rate=10gbit rtt=learn
        class ops  rate=100mbit rtt=5ms
        deny dst=192.0.2.0/24 reason="not to the printers"
        rule dst=10.20.0.0/16,2001:db8::/32 port=5201,50000-51000 program=/usr/bin/iperf3,*rsync uid=1000 -> dmz
        rule direction=listen port=5201 -> dmz
        rule uid=0 gid=10 direction=out -> ops
        rule dst=0.0.0.0/0 -> wan
        """;

    private static readonly Policy Lanes = PolicyParser.Parse(Text, "lanes.conf");

    private static FlowFacts Out(string address, int port, string program = "/usr/bin/iperf3", uint uid = 1000, uint gid = 1000) =>
        new(IPAddress.Parse(address), port, 40000, FlowDirection.Outbound, program, uid, gid);

    [TestMethod]
    public void Decide_FlowMatchingSpecificRule_GrantsItsClassAndLine()
    {
        PolicyDecision decision = Lanes.Decide(Out("10.20.1.5", 5201));

        Assert.AreEqual(PolicyVerdict.Grant, decision.Verdict);
        Assert.AreEqual("dmz", decision.LaneClass?.Name);
        Assert.AreEqual("lanes.conf:5", decision.Source);
    }

    [TestMethod]
    public void Decide_FlowMatchingTwoRules_FirstMatchWins()
    {
        // Matches both line 5 (dmz) and line 8 (wan).
        Assert.AreEqual("dmz", Lanes.Decide(Out("10.20.1.5", 50500, "/usr/bin/rsync")).LaneClass?.Name);

        // Wrong uid for line 5: falls through to line 8.
        Assert.AreEqual("wan", Lanes.Decide(Out("10.20.1.5", 5201, uid: 1001)).LaneClass?.Name);
    }

    [TestMethod]
    public void Decide_DenyBeforeCatchAll_DeniesWithReasonAndLine()
    {
        PolicyDecision decision = Lanes.Decide(Out("192.0.2.7", 9100));

        Assert.AreEqual(PolicyVerdict.Deny, decision.Verdict);
        Assert.AreEqual("not to the printers", decision.DenyReason);
        Assert.AreEqual("lanes.conf:4", decision.Source);
        Assert.IsNull(decision.LaneClass);
    }

    [TestMethod]
    public void Decide_V4MappedPeer_MatchesIPv4Rules()
    {
        Assert.AreEqual("dmz", Lanes.Decide(Out("::ffff:10.20.9.9", 5201)).LaneClass?.Name);
        Assert.AreEqual(PolicyVerdict.Deny, Lanes.Decide(Out("::ffff:192.0.2.1", 80)).Verdict);
    }

    [TestMethod]
    public void Decide_IPv6PeerOutsideEveryIPv6Rule_IsNoMatch()
    {
        // The catch-all is 0.0.0.0/0, which does not cover IPv6.
        PolicyDecision decision = Lanes.Decide(Out("2001:db9::1", 443));
        Assert.AreEqual(PolicyVerdict.NoMatch, decision.Verdict);
        Assert.AreEqual("lanes.conf", decision.Source);
    }

    [TestMethod]
    public void Decide_IPv6PeerInsideRule_Grants()
    {
        Assert.AreEqual("dmz", Lanes.Decide(Out("2001:db8:1::5", 5201, "/usr/local/bin/rsync")).LaneClass?.Name);
    }

    [TestMethod]
    public void Decide_InboundFlow_MatchesPortAgainstTheLocalPort()
    {
        var inbound = new FlowFacts(IPAddress.Parse("10.20.1.5"), 43210, 5201, FlowDirection.Inbound, "/usr/bin/iperf3", 1000, 1000);
        Assert.AreEqual(5201, inbound.ServicePort);
        Assert.AreEqual("dmz", Lanes.Decide(inbound).LaneClass?.Name);
    }

    [TestMethod]
    public void Decide_ListeningSocket_NeverMatchesDstRules()
    {
        var listen = new FlowFacts(null, 0, 5201, FlowDirection.Listen, "/usr/bin/iperf3", 1000, 1000);
        PolicyDecision decision = Lanes.Decide(listen);
        Assert.AreEqual("lanes.conf:6", decision.Source);

        var otherPort = listen with { LocalPort = 8080 };
        Assert.AreEqual(PolicyVerdict.NoMatch, Lanes.Decide(otherPort).Verdict);
    }

    [TestMethod]
    public void Decide_UidGidAndDirectionAllRequired_MatchesOnlyWhenAllHold()
    {
        Assert.AreEqual("ops", Lanes.Decide(Out("203.0.113.1", 22, "/usr/bin/ssh", uid: 0, gid: 10)).LaneClass?.Name);
        Assert.AreEqual("wan", Lanes.Decide(Out("203.0.113.1", 22, "/usr/bin/ssh", uid: 0, gid: 11)).LaneClass?.Name);
    }

    [TestMethod]
    public void SingleClass_AnyFlow_GrantsTheOneClass()
    {
        var laneClass = new LaneClass { Name = "default", RateBps = 1_000_000_000 };
        Policy policy = Policy.SingleClass(laneClass);

        PolicyDecision decision = policy.Decide(Out("2001:db8::1", 1, "", uid: 12345));
        Assert.AreEqual(PolicyVerdict.Grant, decision.Verdict);
        Assert.AreSame(laneClass, decision.LaneClass);
        Assert.AreEqual("(flags)", decision.Source);
        Assert.AreEqual(PolicyVerdict.Grant, policy.Decide(new FlowFacts(null, 0, 0, FlowDirection.Listen, "", 0, 0)).Verdict);
    }

    [TestMethod]
    public void DescribeEndpoint_Flows_ReadLikeAddresses()
    {
        Assert.AreEqual("10.20.1.5:5201", Out("::ffff:10.20.1.5", 5201).DescribeEndpoint());
        Assert.AreEqual("[2001:db8::1]:5201", Out("2001:db8::1", 5201).DescribeEndpoint());
        Assert.AreEqual("listening port 5201", new FlowFacts(null, 0, 5201, FlowDirection.Listen, "", 0, 0).DescribeEndpoint());
    }
}
