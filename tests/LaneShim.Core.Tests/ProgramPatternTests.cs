// ProgramPatternTests.cs - program matching by full path, path glob and basename glob.
using LaneShim.Core;

namespace LaneShim.Core.Tests;

[TestClass]
public sealed class ProgramPatternTests
{
    [TestMethod]
    [DataRow("/usr/bin/iperf3", "/usr/bin/iperf3", true)]
    [DataRow("/usr/bin/iperf3", "/usr/local/bin/iperf3", false)]
    [DataRow("iperf3", "/usr/local/bin/iperf3", true)]
    [DataRow("*rsync", "/usr/bin/rsync", true)]
    [DataRow("*rsync", "/usr/bin/openrsync", true)]
    [DataRow("*rsync", "/usr/bin/rsync-ssl", false)]
    [DataRow("globus-*", "/opt/globus/sbin/globus-gridftp-server", true)]
    [DataRow("/opt/*/bin/xrootd", "/opt/xrd/5.6/bin/xrootd", true)]
    [DataRow("/opt/*/bin/xrootd", "/usr/bin/xrootd", false)]
    [DataRow("python3.?", "/usr/bin/python3.12", false)]
    [DataRow("python3.??", "/usr/bin/python3.12", true)]
    [DataRow("Rsync", "/usr/bin/rsync", false)]
    [DataRow("*", "", true)]
    public void IsMatch_Path_MatchesAsExpected(string pattern, string path, bool expected)
    {
        Assert.AreEqual(expected, new ProgramPattern(pattern).IsMatch(path));
    }

    [TestMethod]
    public void IsMatch_ManyStarsAgainstLongPath_FinishesQuickly()
    {
        // A naive recursive glob is exponential here.
        var pattern = new ProgramPattern("*a*a*a*a*a*a*a*a*a*a*b");
        string path = "/" + new string('a', 5000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.IsFalse(pattern.IsMatch(path));
        Assert.IsLessThan(2000L, watch.ElapsedMilliseconds);
    }
}
