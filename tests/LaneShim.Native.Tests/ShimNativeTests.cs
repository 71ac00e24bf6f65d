// ShimNativeTests.cs - runs the table-driven C tester (tests/native/shim_test.c) and reports each failing case.
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Native.Tests;

[TestClass]
public sealed class ShimNativeTests
{
    [TestMethod]
    public void ShimTest_AllCasesPass()
    {
        string tester = Path.Combine(RepoPaths.NativeBuild, "tests", "shim_test");
        Assert.IsTrue(File.Exists(tester), $"{tester} missing: run ./build.sh");
        ProcessResult r = ProcessRunner.Run(tester, [], timeout: TimeSpan.FromMinutes(5));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains(" passed, 0 failed", r.Stdout, r.Describe());
    }
}
