// ExportedSymbolsTests.cs - both libraries export exactly their intended symbols (nm -D --defined-only).
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Native.Tests;

[TestClass]
public sealed class ExportedSymbolsTests
{
    [TestMethod]
    public void Shim_ExportsOnlyTheHookedLibcNames() =>
        AssertExports(RepoPaths.Shim, RepoPaths.File("native", "exports.txt"));

    [TestMethod]
    public void Agent_ExportsOnlyTheAbiEntryPoints() =>
        AssertExports(RepoPaths.Agent, RepoPaths.File("src", "LaneShim.Agent", "exports.txt"));

    private static void AssertExports(string library, string intendedList)
    {
        Assert.IsTrue(File.Exists(library), $"{library} missing: run ./build.sh");
        ProcessResult nm = ProcessRunner.Run("nm", ["-D", "--defined-only", library]);
        Assert.AreEqual(0, nm.ExitCode, nm.Describe());
        // Function and data symbols only; version definition nodes (type A) are not exports.
        string[] actual = nm.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f[1] != "A")
            .Select(f => f[2].Split('@')[0])
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] intended = File.ReadAllLines(intendedList)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        CollectionAssert.AreEqual(intended, actual, $"{library} exports [{string.Join(", ", actual)}], intended [{string.Join(", ", intended)}]");
    }
}
