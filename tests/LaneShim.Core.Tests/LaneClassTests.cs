// LaneClassTests.cs - lane class validation, shared by policy files and the broker's flags.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class LaneClassTests
{
    private static readonly LaneClass Good = new() { Name = "dmz", RateBps = 1_000_000_000, Rtt = TimeSpan.FromMilliseconds(40) };

    [TestMethod]
    public void Validate_GoodClass_IsNull()
    {
        Assert.IsNull(Good.Validate());
        Assert.AreEqual(TimeSpan.FromMinutes(5), Good.Ttl);
        Assert.AreEqual(0L, Good.NotsentLowat);
        Assert.AreEqual(125_000_000UL, Good.PacingBytesPerSecond);
    }

    [TestMethod]
    public void Validate_EachBadField_NamesIt()
    {
        Assert.AreEqual("bad class name 'a b' (letters, digits, '_', '-', '.'; starting with a letter or digit; at most 64)", (Good with { Name = "a b" }).Validate());
        Assert.AreEqual("rate must be more than 0", (Good with { RateBps = 0 }).Validate());
        Assert.AreEqual("rtt 0 s is out of range (more than 0, at most 10 s)", (Good with { Rtt = TimeSpan.Zero }).Validate());
        Assert.AreEqual("fallback rtt 11 s is out of range (more than 0, at most 10 s)", (Good with { RttMode = RttMode.Learn, Rtt = TimeSpan.FromSeconds(11) }).Validate());
        Assert.AreEqual("dscp -1 is not 0-63", (Good with { Dscp = -1 }).Validate());
        Assert.AreEqual("bad cc 'tcp-bbr' (a kernel congestion control name such as cubic or bbr, at most 15 characters)", (Good with { Congestion = "tcp-bbr" }).Validate());
        Assert.AreEqual("notsent_lowat -1 is out of range (0 to 4294967295)", (Good with { NotsentLowat = -1 }).Validate());
        Assert.AreEqual("ttl 2 d is out of range (1 s to 1 d)", (Good with { Ttl = TimeSpan.FromDays(2) }).Validate());
    }
}
