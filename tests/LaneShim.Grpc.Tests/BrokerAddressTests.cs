// BrokerAddressTests.cs - the address forms (unix:, http://, tcp:), round trips, and clear errors.
namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class BrokerAddressTests
{
    [TestMethod]
    public void Default_IsTheRunSocket()
    {
        BrokerAddress address = BrokerAddress.Parse(BrokerAddress.Default);

        Assert.AreEqual(BrokerAddressKind.Unix, address.Kind);
        Assert.AreEqual("/run/laneshim/broker.sock", address.UnixPath);
        Assert.AreEqual("unix:/run/laneshim/broker.sock", address.ToString());
    }

    [TestMethod]
    [DataRow("unix:/run/x.sock", "/run/x.sock")]
    [DataRow("unix:///run/x.sock", "/run/x.sock")]
    [DataRow("UNIX:/a", "/a")]
    [DataRow("  unix:/run/x.sock\n", "/run/x.sock")]
    [DataRow("unix:/tmp/with space/é.sock", "/tmp/with space/é.sock")]
    public void Parse_Unix_AbsolutePath(string text, string path)
    {
        BrokerAddress address = BrokerAddress.Parse(text);

        Assert.AreEqual(BrokerAddressKind.Unix, address.Kind);
        Assert.AreEqual(path, address.UnixPath);
        Assert.IsNull(address.Host);
        Assert.AreEqual(0, address.Port);
    }

    [TestMethod]
    [DataRow("http://127.0.0.1:50051", "127.0.0.1", 50051)]
    [DataRow("http://127.0.0.1:50051/", "127.0.0.1", 50051)]
    [DataRow("http://broker.example.org:1", "broker.example.org", 1)]
    [DataRow("http://[::1]:65535", "::1", 65535)]
    [DataRow("HTTP://localhost:8080", "localhost", 8080)]
    public void Parse_Http_HostAndPort(string text, string host, int port)
    {
        BrokerAddress address = BrokerAddress.Parse(text);

        Assert.AreEqual(BrokerAddressKind.Tcp, address.Kind);
        Assert.AreEqual(host, address.Host);
        Assert.AreEqual(port, address.Port);
        Assert.IsNull(address.UnixPath);
    }

    [TestMethod]
    [DataRow("tcp:127.0.0.1:0", "127.0.0.1", 0)]
    [DataRow("tcp:0.0.0.0:50051", "0.0.0.0", 50051)]
    [DataRow("tcp:[::1]:50051", "::1", 50051)]
    [DataRow("tcp:[::]:0", "::", 0)]
    [DataRow("tcp:localhost:7", "localhost", 7)]
    public void Parse_TcpListenForm_HostAndPort(string text, string host, int port)
    {
        BrokerAddress address = BrokerAddress.Parse(text);

        Assert.AreEqual(BrokerAddressKind.Tcp, address.Kind);
        Assert.AreEqual(host, address.Host);
        Assert.AreEqual(port, address.Port);
    }

    [TestMethod]
    [DataRow("unix:/run/laneshim/broker.sock", "unix:/run/laneshim/broker.sock")]
    [DataRow("unix:///x", "unix:/x")]
    [DataRow("http://10.1.2.3:80", "http://10.1.2.3:80")]
    [DataRow("tcp:10.1.2.3:80", "http://10.1.2.3:80")]
    [DataRow("tcp:[::1]:5", "http://[::1]:5")]
    [DataRow("http://[fe80::1]:5/", "http://[fe80::1]:5")]
    public void ToString_ClientForm_ParsesBackEqual(string text, string printed)
    {
        BrokerAddress address = BrokerAddress.Parse(text);

        Assert.AreEqual(printed, address.ToString());
        Assert.AreEqual(address, BrokerAddress.Parse(address.ToString()));
        Assert.AreEqual(address.GetHashCode(), BrokerAddress.Parse(address.ToString()).GetHashCode());
    }

    [TestMethod]
    public void ToListenString_TcpForm()
    {
        Assert.AreEqual("tcp:[::1]:0", BrokerAddress.Parse("tcp:[::1]:0").ToListenString());
        Assert.AreEqual("unix:/a", BrokerAddress.Parse("unix:/a").ToListenString());
    }

    [TestMethod]
    [DataRow(null, "empty")]
    [DataRow("", "empty")]
    [DataRow("   ", "empty")]
    [DataRow("unix:", "empty")]
    [DataRow("unix:relative/broker.sock", "must be absolute")]
    [DataRow("unix:broker.sock", "must be absolute")]
    [DataRow("unix:/run/dir/", "directory")]
    [DataRow("http://127.0.0.1", "missing port")]
    [DataRow("http://127.0.0.1:0", "port 0")]
    [DataRow("http://127.0.0.1:65536", "outside 0-65535")]
    [DataRow("http://127.0.0.1:99999999999", "not a number")]
    [DataRow("http://127.0.0.1:-1", "not a number")]
    [DataRow("http://127.0.0.1:port", "not a number")]
    [DataRow("http://127.0.0.1:50051/laneshim", "no path")]
    [DataRow("http://user@host:1", "no path")]
    [DataRow("http://::1:50051", "brackets")]
    [DataRow("http://[::1:50051", "missing ']'")]
    [DataRow("http://[::1]50051", "missing port")]
    [DataRow("http://[127.0.0.1]:5", "not an IPv6")]
    [DataRow("http://:5", "host is empty")]
    [DataRow("http://bad_host!:5", "not a valid host")]
    [DataRow("https://127.0.0.1", "missing port")]
    [DataRow("tcp:127.0.0.1", "missing port")]
    [DataRow("127.0.0.1:50051", "unknown scheme")]
    [DataRow("/run/laneshim/broker.sock", "unknown scheme")]
    public void TryParse_Invalid_FalseWithReason(string? text, string reason)
    {
        Assert.IsFalse(BrokerAddress.TryParse(text, out BrokerAddress? address, out string error));
        Assert.IsNull(address);
        StringAssert.Contains(error, reason);
    }

    [TestMethod]
    public void Parse_Invalid_FormatExceptionQuotesInput()
    {
        FormatException e = Assert.ThrowsExactly<FormatException>(() => BrokerAddress.Parse("unix:relative.sock"));

        StringAssert.Contains(e.Message, "'unix:relative.sock'");
        StringAssert.Contains(e.Message, "unix:/run/laneshim/broker.sock");
    }

    [TestMethod]
    public void Parse_UnixPathOverSunPathLimit_Rejected()
    {
        string longest = "/" + new string('a', 106);
        string tooLong = "/" + new string('a', 107);

        Assert.AreEqual(longest, BrokerAddress.Parse("unix:" + longest).UnixPath);
        Assert.IsFalse(BrokerAddress.TryParse("unix:" + tooLong, out _, out string error));
        StringAssert.Contains(error, "108");
    }

    [TestMethod]
    public void Factories_MatchParse()
    {
        Assert.AreEqual(BrokerAddress.Parse("unix:/x/y"), BrokerAddress.Unix("/x/y"));
        Assert.AreEqual(BrokerAddress.Parse("http://[::1]:9"), BrokerAddress.Tcp("[::1]", 9));
        Assert.AreEqual(BrokerAddress.Parse("tcp:127.0.0.1:0"), BrokerAddress.Tcp("127.0.0.1", 0));
        Assert.ThrowsExactly<FormatException>(() => BrokerAddress.Unix("relative"));
        Assert.ThrowsExactly<FormatException>(() => BrokerAddress.Tcp("127.0.0.1", 70000));
    }

    [TestMethod]
    public void Equality_HostCaseInsensitive_PathCaseSensitive()
    {
        Assert.AreEqual(BrokerAddress.Parse("http://LOCALHOST:1"), BrokerAddress.Parse("http://localhost:1"));
        Assert.AreNotEqual(BrokerAddress.Parse("unix:/A"), BrokerAddress.Parse("unix:/a"));
        Assert.AreNotEqual(BrokerAddress.Parse("http://localhost:1"), BrokerAddress.Parse("http://localhost:2"));
    }
}
