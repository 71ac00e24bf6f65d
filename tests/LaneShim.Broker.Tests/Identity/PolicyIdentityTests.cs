// PolicyIdentityTests.cs - policy rules by user and group name (resolved at load), by mTLS principal, and SO_PRIORITY classes.
using System.Net;
using LaneShim.Broker.Identity;
using LaneShim.Core;

namespace LaneShim.Broker.Tests.Identity;

[TestClass]
public sealed class PolicyIdentityTests
{
    private static readonly AccountNames Accounts = new(
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
        "root:x:0:\nphysics:x:2000:alice,bob\nstaff:x:50:\n");

    private const string Text = """
        class dmz rate=1gbit rtt=40ms priority=7
        class wan rate=10gbit rtt=learn
        class remote rate=2gbit rtt=80ms
        rule principal=CN=dtn1.example.org -> remote
        rule principal=DNS=*.grid.example.org,CN=dtn9.example.org -> dmz
        rule user=alice group=physics -> dmz
        rule uid=bob,0-10 -> wan
        rule gid=staff -> wan
        """;

    private static FlowFacts Flow(uint uid = 5000, uint gid = 5000, IReadOnlyList<string>? principals = null) =>
        new(IPAddress.Parse("10.1.2.3"), 5201, 40000, FlowDirection.Outbound, "/usr/bin/iperf3", uid, gid) { Principals = principals };

    [TestMethod]
    public void Names_ResolvedAtLoad_MatchByUserAndGroup()
    {
        Policy policy = PolicyParser.Parse(Text, "lanes.conf", Accounts);

        Assert.AreEqual("dmz", policy.Decide(Flow(1000, 2000)).LaneClass!.Name, "alice in physics");
        Assert.AreEqual("lanes.conf:6", policy.Decide(Flow(1000, 2000)).Source);
        Assert.AreEqual(PolicyVerdict.NoMatch, policy.Decide(Flow(1000, 1000)).Verdict, "alice, not in physics by gid");
        Assert.AreEqual("wan", policy.Decide(Flow(1001, 1001)).LaneClass!.Name, "bob by name");
        Assert.AreEqual("wan", policy.Decide(Flow(7, 7)).LaneClass!.Name, "uid range next to a name");
        Assert.AreEqual("wan", policy.Decide(Flow(4000, 50)).LaneClass!.Name, "group staff by name");
        Assert.AreEqual(7, policy.Classes["dmz"].Priority);
    }

    [TestMethod]
    [DataRow("rule user=mallory -> x", "lanes.conf:2: unknown user 'mallory'")]
    [DataRow("rule group=nogroup -> x", "lanes.conf:2: unknown group 'nogroup'")]
    [DataRow("rule uid=5 user=alice -> x", "lanes.conf:2: duplicate key 'user' (same as uid=)")]
    [DataRow("rule principal=OU=x -> x", "lanes.conf:2: bad principal 'OU=x'")]
    [DataRow("rule principal=CN=a.*.org -> x", "lanes.conf:2: bad principal 'CN=a.*.org'")]
    [DataRow("class y rate=1g rtt=1ms priority=16", "lanes.conf:2: bad priority '16'")]
    public void BadIdentityMatchers_RejectedWithFileAndLine(string line, string expected)
    {
        PolicyException e = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse("class x rate=1gbit rtt=1ms\n" + line, "lanes.conf", Accounts));
        StringAssert.StartsWith(e.Message, expected);
    }

    [TestMethod]
    public void Names_WithoutAccountLookup_StillRejected()
    {
        PolicyException e = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse("class x rate=1gbit rtt=1ms\nrule uid=alice -> x", "p"));
        StringAssert.Contains(e.Message, "p:2: uid 'alice': names are not supported");
    }

    [TestMethod]
    public void Principals_MatchCertificateNames_RemoteCallersNeverMatchUidRules()
    {
        Policy policy = PolicyParser.Parse(Text, "lanes.conf", Accounts);

        Assert.AreEqual("remote", policy.Decide(Flow(principals: ["CN=dtn1.example.org"])).LaneClass!.Name);
        Assert.AreEqual("dmz", policy.Decide(Flow(principals: ["CN=x", "DNS=a.grid.example.org"])).LaneClass!.Name);
        Assert.AreEqual(PolicyVerdict.NoMatch, policy.Decide(Flow(principals: ["DNS=a.b.grid.example.org"])).Verdict, "* is one label");
        Assert.AreEqual(PolicyVerdict.NoMatch, policy.Decide(Flow(principals: ["DNS=grid.example.org"])).Verdict);
        // A remote caller claiming uid 0 (or alice) is not local root: uid/gid/user/group rules never match it.
        Assert.AreEqual(PolicyVerdict.NoMatch, policy.Decide(Flow(0, 0, principals: ["CN=someone.else"])).Verdict);
        Assert.AreEqual(PolicyVerdict.NoMatch, policy.Decide(Flow(1000, 2000, principals: ["CN=someone.else"])).Verdict);
        // A local caller never matches a principal rule.
        Assert.AreEqual("wan", policy.Decide(Flow(0, 0)).LaneClass!.Name);
    }

    [TestMethod]
    public void SystemAccounts_ResolveRootFromEtc()
    {
        IAccountNames system = SystemAccounts.Load();
        Assert.AreEqual(0u, system.UserId("root"));
        Assert.AreEqual(0u, system.GroupId("root"));
        Assert.IsNull(system.UserId("no-such-user-laneshim"));
    }
}
