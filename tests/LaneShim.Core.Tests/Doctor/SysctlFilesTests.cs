// SysctlFilesTests.cs - merging fixes, the sysctl.d file's text and the apply record, all as pure text.
using LaneShim.Core.Doctor;

namespace LaneShim.Core.Tests.Doctor;

[TestClass]
public sealed class SysctlFilesTests
{
    [TestMethod]
    public void Merge_NumberListsAndWordLists_TakesMaximaAndUnions()
    {
        IReadOnlyList<SysctlChange> merged = SysctlChanges.Merge(
        [
            new(SysctlKeys.TcpWmem, "4096 16384 10000000"),
            new(SysctlKeys.TcpAllowedCongestionControl, "reno cubic bbr"),
            new(SysctlKeys.TcpWmem, "4096 65536 8000000"),
            new(SysctlKeys.TcpAllowedCongestionControl, "reno cubic htcp"),
            new(SysctlKeys.WmemMax, "5000000"),
        ]);

        CollectionAssert.AreEqual(
            new[]
            {
                new SysctlChange(SysctlKeys.TcpWmem, "4096 65536 10000000"),
                new SysctlChange(SysctlKeys.TcpAllowedCongestionControl, "reno cubic bbr htcp"),
                new SysctlChange(SysctlKeys.WmemMax, "5000000"),
            },
            merged.ToArray());
    }

    [TestMethod]
    public void Command_ValueWithSpaces_IsQuoted()
    {
        Assert.AreEqual("sysctl -w net.ipv4.tcp_rmem=\"4096 131072 10000000\"", new SysctlChange(SysctlKeys.TcpRmem, "4096 131072 10000000").Command);
        Assert.AreEqual("sysctl -w net.core.rmem_max=5000000", new SysctlChange(SysctlKeys.RmemMax, "5000000").Command);
    }

    [TestMethod]
    public void Render_WithPreviousFile_KeepsItAndAppendsTheBlockThatWins()
    {
        string text = SysctlConfFile.Render("# site\nnet.core.wmem_max = 1048576", [new(SysctlKeys.WmemMax, "5000000")]);

        Assert.StartsWith("# site\nnet.core.wmem_max = 1048576\n\n# laneshim doctor --apply:", text);
        Assert.EndsWith("\nnet.core.wmem_max = 5000000\n", text);
        CollectionAssert.AreEqual(new[] { new SysctlChange(SysctlKeys.WmemMax, "5000000") }, SysctlConfFile.ReadBlock(text).ToArray());
    }

    [TestMethod]
    public void ReadBlock_FileWithoutOurBlock_IsEmpty()
    {
        Assert.IsEmpty(SysctlConfFile.ReadBlock("net.core.wmem_max = 1048576\n"));
    }

    [TestMethod]
    public void ApplyRecord_FormatThenParse_RoundTrips()
    {
        var record = new ApplyRecord(true, []).WithPrevious(SysctlKeys.TcpWmem, "4096 16384 1048576").WithPrevious(SysctlKeys.TcpWindowScaling, "0");
        ApplyRecord again = record.WithPrevious(SysctlKeys.TcpWmem, "4096 16384 10000000"); // the first value recorded wins

        ApplyRecord parsed = ApplyRecord.Parse(again.Format(), "state");

        Assert.IsTrue(parsed.HadFile);
        CollectionAssert.AreEqual(record.Previous.ToArray(), parsed.Previous.ToArray());
    }

    [TestMethod]
    public void ApplyRecord_ParseDamagedLine_NamesTheLine()
    {
        var e = Assert.ThrowsExactly<FormatException>(() => ApplyRecord.Parse("# x\nfile = absent\nbogus\n", "90-laneshim.conf.laneshim-state"));
        Assert.AreEqual("90-laneshim.conf.laneshim-state:3: expected 'value KEY = VALUE'", e.Message);
    }
}

