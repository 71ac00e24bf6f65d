// BrokerOptionsTests.cs - loading the policy from a file or from flags, and the errors for each.
using LaneShim.Core;

namespace LaneShim.Broker.Tests;

[TestClass]
public sealed class BrokerOptionsTests
{
    private static string TempFile(string text)
    {
        string dir = Path.Combine(Path.GetTempPath(), "laneshim-broker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "lanes.conf");
        File.WriteAllText(path, text);
        return path;
    }

    [TestMethod]
    public void LoadPolicy_FlagsWithoutRtt_MakeOneLearningClassThatMatchesEverything()
    {
        var options = new BrokerOptions { RateBps = 10_000_000_000, Congestion = "bbr", Dscp = 46 };
        Policy policy = options.LoadPolicy();

        LaneClass laneClass = policy.Classes["default"];
        Assert.AreEqual(10_000_000_000UL, laneClass.RateBps);
        Assert.AreEqual(RttMode.Learn, laneClass.RttMode);
        Assert.AreEqual(LaneClass.DefaultFallbackRtt, laneClass.Rtt);
        Assert.AreEqual("bbr", laneClass.Congestion);
        Assert.AreEqual(46, laneClass.Dscp);
        Assert.AreEqual(Policy.FlagsSource, policy.FileName);
        Assert.AreEqual(1, policy.Rules.Count);
    }

    [TestMethod]
    public void LoadPolicy_FixedRttFlag_IsUsed()
    {
        LaneClass laneClass = new BrokerOptions { RateBps = 1_000_000_000, Rtt = TimeSpan.FromMilliseconds(40), Bulk = true }.LoadPolicy().Classes["default"];
        Assert.AreEqual(RttMode.Fixed, laneClass.RttMode);
        Assert.AreEqual(TimeSpan.FromMilliseconds(40), laneClass.Rtt);
        Assert.IsTrue(laneClass.Bulk);
    }

    [TestMethod]
    [DataRow(0UL, 40, 0, "", "(flags): rate must be more than 0")]
    [DataRow(1_000_000_000UL, 20_000, 0, "", "(flags): rtt 20 s is out of range (more than 0, at most 10 s)")]
    [DataRow(1_000_000_000UL, 40, 70, "", "(flags): dscp 70 is not 0-63")]
    [DataRow(1_000_000_000UL, 40, 0, "BBR", "(flags): bad cc 'BBR' (a kernel congestion control name such as cubic or bbr, at most 15 characters)")]
    public void LoadPolicy_OutOfRangeFlag_ThrowsWithFlagsSource(ulong rate, int rttMs, int dscp, string cc, string expected)
    {
        var options = new BrokerOptions { RateBps = rate, Rtt = TimeSpan.FromMilliseconds(rttMs), Dscp = dscp, Congestion = cc };
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => options.LoadPolicy());
        Assert.AreEqual(expected, ex.Message);
    }

    [TestMethod]
    public void LoadPolicy_NeitherFileNorRate_SaysWhatToGive()
    {
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => new BrokerOptions().LoadPolicy());
        Assert.AreEqual("(flags): no policy: give a policy file, or at least a rate (e.g. --rate 1gbit)", ex.Message);
    }

    [TestMethod]
    public void LoadPolicy_FileAndRate_TheFileWins()
    {
        string path = TempFile("class dmz rate=1g rtt=40ms\nrule -> dmz\n");
        Policy policy = new BrokerOptions { PolicyFile = path, RateBps = 5 }.LoadPolicy();

        Assert.AreEqual(path, policy.FileName);
        Assert.AreEqual("dmz", policy.Rules.Single().LaneClass?.Name);
        Assert.IsFalse(policy.Classes.ContainsKey("default"));
    }

    [TestMethod]
    public void LoadPolicy_BadFile_ThrowsWithPathAndLine()
    {
        string path = TempFile("class dmz rate=1g rtt=40ms\nrule -> nowhere\n");
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => new BrokerOptions { PolicyFile = path }.LoadPolicy());
        Assert.AreEqual($"{path}:2: undefined class 'nowhere' (defined: dmz)", ex.Message);
    }

    [TestMethod]
    public void LoadPolicy_MissingFile_ThrowsPolicyException()
    {
        string path = Path.Combine(Path.GetTempPath(), "laneshim-broker-tests", Guid.NewGuid().ToString("N"), "absent.conf");
        PolicyException ex = Assert.ThrowsExactly<PolicyException>(() => new BrokerOptions { PolicyFile = path }.LoadPolicy());
        StringAssert.StartsWith(ex.Message, $"{path}: cannot read the policy file:");
    }
}
