// PolicyParserTests.cs - good policy files parse completely; each kind of mistake is reported as file:line: what is wrong.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class PolicyParserTests
{
    private const string GoodPolicy = """
        # lane classes
        class dmz   rate=1gbit rtt=40ms cc=cubic dscp=46 mark=0x10 bulk=yes ttl=10m   # the science DMZ
        class wan   rate=10gbit rtt=learn fallback=80ms cc=bbr lowat=128K
        class slow  rate=100m rtt=1.5s dscp=af11

        # rules: first match wins
        deny dst=192.0.2.0/24 reason="not to the printers"
        rule dst=10.20.0.0/16,2001:db8::/32 port=5201,2811,50000-51000 program=/usr/bin/iperf3,*rsync uid=1000 -> dmz
        rule direction=listen port=5201 -> dmz
        rule dst=any gid=100-199 -> slow
        rule dst=0.0.0.0/0 -> wan
        """;

    [TestMethod]
    public void Parse_GoodFile_ReadsEveryClassSetting()
    {
        Policy policy = PolicyParser.Parse(GoodPolicy, "lanes.conf");

        Assert.AreEqual(3, policy.Classes.Count);
        LaneClass dmz = policy.Classes["dmz"];
        Assert.AreEqual(1_000_000_000UL, dmz.RateBps);
        Assert.AreEqual(RttMode.Fixed, dmz.RttMode);
        Assert.AreEqual(TimeSpan.FromMilliseconds(40), dmz.Rtt);
        Assert.AreEqual("cubic", dmz.Congestion);
        Assert.AreEqual(46, dmz.Dscp);
        Assert.AreEqual(0x10u, dmz.Mark);
        Assert.IsTrue(dmz.Bulk);
        Assert.AreEqual(TimeSpan.FromMinutes(10), dmz.Ttl);
        Assert.AreEqual(0L, dmz.NotsentLowat);

        LaneClass wan = policy.Classes["wan"];
        Assert.AreEqual(RttMode.Learn, wan.RttMode);
        Assert.AreEqual(TimeSpan.FromMilliseconds(80), wan.Rtt);
        Assert.AreEqual("bbr", wan.Congestion);
        Assert.AreEqual(131_072L, wan.NotsentLowat);
        Assert.IsFalse(wan.Bulk);
        Assert.AreEqual(LaneClass.DefaultTtl, wan.Ttl);

        Assert.AreEqual(10, policy.Classes["slow"].Dscp);
    }

    [TestMethod]
    public void Parse_GoodFile_KeepsRulesInOrderWithTheirLines()
    {
        Policy policy = PolicyParser.Parse(GoodPolicy, "lanes.conf");

        CollectionAssert.AreEqual(new[] { 7, 8, 9, 10, 11 }, policy.Rules.Select(r => r.Line).ToArray());
        PolicyRule deny = policy.Rules[0];
        Assert.AreEqual(RuleAction.Deny, deny.Action);
        Assert.AreEqual("not to the printers", deny.DenyReason);

        PolicyRule iperf = policy.Rules[1];
        Assert.AreEqual("dmz", iperf.LaneClass?.Name);
        Assert.AreEqual(2, iperf.Destinations?.Count);
        CollectionAssert.AreEqual(new[] { new PortRange(5201, 5201), new PortRange(2811, 2811), new PortRange(50000, 51000) }, iperf.Ports?.ToArray());
        CollectionAssert.AreEqual(new[] { "/usr/bin/iperf3", "*rsync" }, iperf.Programs?.Select(p => p.Pattern).ToArray());
        CollectionAssert.AreEqual(new[] { new IdRange(1000, 1000) }, iperf.Uids?.ToArray());
        Assert.IsNull(iperf.Gids);
        Assert.IsNull(iperf.Directions);
    }

    [TestMethod]
    public void Parse_ClassDefinedAfterItsRule_IsAccepted()
    {
        Policy policy = PolicyParser.Parse("rule -> late\nclass late rate=1g rtt=10ms\n", "p");
        Assert.AreEqual("late", policy.Rules.Single().LaneClass?.Name);
    }

    [TestMethod]
    public void Parse_CrlfLineEndingsAndBlankLines_AreAccepted()
    {
        Policy policy = PolicyParser.Parse("class a rate=1g rtt=1ms\r\n\r\n   \r\nrule -> a\r\n", "p");
        Assert.AreEqual(1, policy.Rules.Count);
    }

    [TestMethod]
    public void Parse_HashInsideAPathOrQuotes_IsNotAComment()
    {
        Policy policy = PolicyParser.Parse(
            "class a rate=1g rtt=1ms\ndeny program=/opt/c#/bin/x reason=\"ask #netops\" # real comment\n", "p");
        PolicyRule deny = policy.Rules.Single();
        Assert.AreEqual("/opt/c#/bin/x", deny.Programs?.Single().Pattern);
        Assert.AreEqual("ask #netops", deny.DenyReason);
    }

    [TestMethod]
    public void Parse_CapacityAndMinRate_AreOnTheClass()
    {
        Policy policy = PolicyParser.Parse("class dmz rate=400m rtt=1ms capacity=1g min_rate=50m\nclass lan rate=1g rtt=1ms\n", "p");
        LaneClass dmz = policy.Classes["dmz"], lan = policy.Classes["lan"];
        Assert.AreEqual(1_000_000_000UL, dmz.CapacityBps);
        Assert.AreEqual(50_000_000UL, dmz.MinRateBps);
        Assert.AreEqual(0UL, lan.CapacityBps, "no capacity= means unbounded");
        Assert.AreEqual(LaneClass.DefaultMinRateBps, lan.MinRateBps);
    }

    [TestMethod]
    public void Parse_DenyWithoutReason_HasADefaultReason()
    {
        Policy policy = PolicyParser.Parse("deny port=23\n", "p");
        Assert.AreEqual("denied by policy", policy.Rules.Single().DenyReason);
    }

    [TestMethod]
    [DataRow("class dmz rate=1gbit rtt=40ms speed=fast", "p.conf:1: unknown key 'speed' for class (expected rate, rtt, fallback, cc, dscp, mark, priority, bulk, lowat, ttl, capacity, min_rate)")]
    [DataRow("class dmz rate=1g rtt=40ms capacity=lots", "p.conf:1: capacity: bad rate 'lots': expected a number with an optional k, m, g or t prefix in bits per second, e.g. 1gbit, 500m, 2.38gbit")]
    [DataRow("class dmz rate=1g rtt=40ms capacity=0", "p.conf:1: capacity must be more than 0")]
    [DataRow("class dmz rate=1g rtt=40ms min_rate=0", "p.conf:1: min_rate must be more than 0")]
    [DataRow("class dmz rate=1g rtt=40ms capacity=1m min_rate=10m", "p.conf:1: capacity 1 Mbit/s is below min_rate 10 Mbit/s: no lane could ever be granted")]
    [DataRow("class dmz rate=fast rtt=40ms", "p.conf:1: bad rate 'fast': expected a number with an optional k, m, g or t prefix in bits per second, e.g. 1gbit, 500m, 2.38gbit")]
    [DataRow("class dmz rate=0 rtt=40ms", "p.conf:1: rate must be more than 0")]
    [DataRow("class dmz rtt=40ms", "p.conf:1: class 'dmz' needs rate=<rate>, e.g. rate=1gbit")]
    [DataRow("class dmz rate=1g", "p.conf:1: class 'dmz' needs rtt=<duration> or rtt=learn")]
    [DataRow("class dmz rate=1g rtt=40", "p.conf:1: bad duration '40': missing unit; expected a number with a unit, e.g. 40ms, 1.5s, 250us, 2m")]
    [DataRow("class dmz rate=1g rtt=20s", "p.conf:1: rtt 20s is out of range (more than 0, at most 10 s)")]
    [DataRow("class dmz rate=1g rtt=40ms fallback=80ms", "p.conf:1: fallback= applies only with rtt=learn")]
    [DataRow("class dmz rate=1g rtt=40ms dscp=64", "p.conf:1: bad dscp '64' (expected 0-63 or a name such as ef, af41, cs1)")]
    [DataRow("class dmz rate=1g rtt=40ms mark=0xZZ", "p.conf:1: bad mark '0xZZ' (expected a 32-bit number such as 16 or 0x10)")]
    [DataRow("class dmz rate=1g rtt=40ms bulk=maybe", "p.conf:1: bad bulk 'maybe' (expected yes or no)")]
    [DataRow("class dmz rate=1g rtt=40ms cc=BBR!", "p.conf:1: bad cc 'BBR!' (a kernel congestion control name such as cubic or bbr, at most 15 characters)")]
    [DataRow("class dmz rate=1g rtt=40ms ttl=0s", "p.conf:1: ttl 0s is out of range (1 s to 1 d)")]
    [DataRow("class dmz rate=1g rate=2g rtt=40ms", "p.conf:1: duplicate key 'rate'")]
    [DataRow("class dmz rate=1g rtt=40ms fast", "p.conf:1: expected key=value, got 'fast'")]
    [DataRow("class dmz rate= rtt=40ms", "p.conf:1: rate= needs a value")]
    [DataRow("class rate=1g rtt=40ms", "p.conf:1: class needs a name before its settings, e.g. class dmz rate=1g")]
    [DataRow("class", "p.conf:1: class needs a name, e.g. class dmz rate=1gbit rtt=40ms")]
    [DataRow("class d/mz rate=1g rtt=1ms", "p.conf:1: bad class name 'd/mz' (letters, digits, '_', '-', '.'; starting with a letter or digit; at most 64)")]
    [DataRow("allow dst=10.0.0.0/8", "p.conf:1: unknown directive 'allow' (expected class, rule or deny)")]
    [DataRow("deny reason=\"unterminated", "p.conf:1: unterminated quote")]
    public void Parse_BadClassOrLine_ReportsFileLineAndProblem(string line, string expected)
    {
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse(line, "p.conf"));
        Assert.AreEqual(expected, ex.Message);
    }

    [TestMethod]
    [DataRow("rule dst=10.0.0.0/8 dmz", "p.conf:2: rule needs '-> <class>' at the end")]
    [DataRow("rule dst=10.0.0.0/8 ->", "p.conf:2: missing class name after '->'")]
    [DataRow("rule dst=10.0.0.0/8 -> dmz wan", "p.conf:2: unexpected 'wan' after '-> dmz'")]
    [DataRow("rule dst=10.0.0.0/8 ->dmz", "p.conf:2: put spaces around '->' in '->dmz'")]
    [DataRow("rule dst=10.0.0.0/8 -> lan", "p.conf:2: undefined class 'lan' (defined: dmz)")]
    [DataRow("rule dst=10.20.1.0/16 -> dmz", "p.conf:2: bad CIDR '10.20.1.0/16': host bits are set (did you mean 10.20.0.0/16?)")]
    [DataRow("rule dst=10.0.0.0/8,,11.0.0.0/8 -> dmz", "p.conf:2: empty item in 'dst=10.0.0.0/8,,11.0.0.0/8'")]
    [DataRow("rule port=70000 -> dmz", "p.conf:2: bad port '70000' (ports are 1-65535; ranges are first-last)")]
    [DataRow("rule port=51000-50000 -> dmz", "p.conf:2: bad port range '51000-50000' (first is above last)")]
    [DataRow("rule uid=alice -> dmz", "p.conf:2: uid 'alice': names are not supported, use the number (id -u alice)")]
    [DataRow("rule gid=x1 -> dmz", "p.conf:2: gid 'x1': names are not supported, use the number (getent group x1)")]
    [DataRow("rule direction=sideways -> dmz", "p.conf:2: bad direction 'sideways' (expected out, in or listen)")]
    [DataRow("rule program=bin/rsync -> dmz", "p.conf:2: program 'bin/rsync': a path pattern must start with '/' or '*' (or give a bare name to match the basename)")]
    [DataRow("rule dport=80 -> dmz", "p.conf:2: unknown key 'dport' for rule (expected dst, port, program, uid, gid, user, group, principal, direction)")]
    [DataRow("rule reason=x -> dmz", "p.conf:2: unknown key 'reason' for rule (expected dst, port, program, uid, gid, user, group, principal, direction)")]
    [DataRow("rule port=80 port=81 -> dmz", "p.conf:2: duplicate key 'port'")]
    [DataRow("deny dst=10.0.0.0/8 -> dmz", "p.conf:2: deny takes no '-> <class>'; give a reason=\"...\" instead")]
    [DataRow("deny dst=10.0.0.0/8 reason=\"\"", "p.conf:2: reason= needs text, e.g. reason=\"not to the printers\"")]
    [DataRow("deny src=10.0.0.0/8", "p.conf:2: unknown key 'src' for deny (expected dst, port, program, uid, gid, user, group, principal, direction, reason)")]
    [DataRow("class dmz rate=2g rtt=1ms", "p.conf:2: duplicate class 'dmz' (first defined at line 1)")]
    public void Parse_BadSecondLine_ReportsFileLineAndProblem(string line, string expected)
    {
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse("class dmz rate=1g rtt=40ms\n" + line + "\n", "p.conf"));
        Assert.AreEqual(expected, ex.Message);
        Assert.AreEqual("p.conf", ex.FileName);
        Assert.AreEqual(2, ex.Line);
    }

    [TestMethod]
    public void Parse_RuleUsingABrokenClass_PointsAtTheClassLine()
    {
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse("rule -> dmz\nclass dmz rate=fast rtt=1ms\n", "p"));
        CollectionAssert.AreEqual(
            new[] { "p:1: class 'dmz' is unusable: its definition on line 2 has errors", "p:2: bad rate 'fast': expected a number with an optional k, m, g or t prefix in bits per second, e.g. 1gbit, 500m, 2.38gbit" },
            ex.Errors.Select(e => e.ToString()).ToArray());
    }

    [TestMethod]
    public void Parse_UndefinedClassWithNoClasses_SaysNoneAreDefined()
    {
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse("rule -> dmz", "p"));
        Assert.AreEqual("p:1: undefined class 'dmz' (no classes are defined)", ex.Message);
    }

    [TestMethod]
    public void Parse_SeveralMistakes_ReportsAllInLineOrderAndTheFirstAsMessage()
    {
        const string text = """
            rule -> nowhere
            class a rate=1g rtt=1ms
            class b rate=slow rtt=1ms
            rule port=0 -> a
            """;
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => PolicyParser.Parse(text, "multi.conf"));

        Assert.AreEqual("multi.conf:1: undefined class 'nowhere' (defined: a)", ex.Message);
        CollectionAssert.AreEqual(new[] { 1, 3, 4 }, ex.Errors.Select(e => e.Line).ToArray());
    }
}
