// CidrTests.cs - prefix parsing and matching, including v4-mapped IPv6 addresses.
using System.Net;
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class CidrTests
{
    [TestMethod]
    [DataRow("10.20.0.0/16", "10.20.255.1", true)]
    [DataRow("10.20.0.0/16", "10.21.0.1", false)]
    [DataRow("10.20.0.0/16", "::ffff:10.20.3.4", true)]
    [DataRow("10.20.0.0/16", "2001:db8::1", false)]
    [DataRow("192.0.2.128/25", "192.0.2.200", true)]
    [DataRow("192.0.2.128/25", "192.0.2.127", false)]
    [DataRow("0.0.0.0/0", "203.0.113.9", true)]
    [DataRow("0.0.0.0/0", "::1", false)]
    [DataRow("2001:db8::/32", "2001:db8:ffff::1", true)]
    [DataRow("2001:db8::/32", "2001:db9::1", false)]
    [DataRow("::ffff:10.0.0.0/104", "10.9.9.9", true)]
    [DataRow("198.51.100.7", "198.51.100.7", true)]
    [DataRow("198.51.100.7", "198.51.100.8", false)]
    public void Contains_Address_MatchesAsExpected(string cidr, string address, bool expected)
    {
        Assert.AreEqual(expected, Cidr.Parse(cidr).Contains(IPAddress.Parse(address)));
    }

    [TestMethod]
    public void Parse_V4MappedPrefix_BecomesIPv4()
    {
        Cidr cidr = Cidr.Parse("::ffff:10.0.0.0/104");
        Assert.AreEqual("10.0.0.0/8", cidr.ToString());
    }

    [TestMethod]
    [DataRow("10.20.1.0/16", "bad CIDR '10.20.1.0/16': host bits are set (did you mean 10.20.0.0/16?)")]
    [DataRow("10.20.0.0/33", "bad CIDR '10.20.0.0/33': prefix length must be 0-32")]
    [DataRow("2001:db8::/129", "bad CIDR '2001:db8::/129': prefix length must be 0-128")]
    [DataRow("10.20/16", "bad CIDR '10.20/16': '10.20' is not an IPv4 or IPv6 address")]
    [DataRow("printers", "bad CIDR 'printers': 'printers' is not an IPv4 or IPv6 address")]
    [DataRow("10.0.0.0/", "bad CIDR '10.0.0.0/': prefix length must be 0-32")]
    [DataRow("fe80::1%eth0/128", "bad CIDR 'fe80::1%eth0/128': zone ids (%) are not supported")]
    public void TryParse_BadText_SaysWhy(string text, string expected)
    {
        Assert.IsFalse(Cidr.TryParse(text, out _, out string error));
        Assert.AreEqual(expected, error);
    }
}
