// ShimNativeTests.cs - runs the table-driven C tester (tests/native/shim_test.c) plainly, under ASan+UBSan and under valgrind memcheck.
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

    /// <summary>The shim and every case rebuilt with -fsanitize=address,undefined (native/build/asan); any report fails the case.</summary>
    [TestMethod]
    public void ShimTest_UnderAddressAndUndefinedBehaviorSanitizers_AllCasesPass()
    {
        ProcessResult r = ProcessRunner.Run("make", ["-s", "-C", RepoPaths.File("native"), "asan"], timeout: TimeSpan.FromMinutes(10));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains(" passed, 0 failed", r.Stdout, r.Describe());
    }

    /// <summary>Every case's process under valgrind memcheck (errors and definite leaks exit 88, which fails the case).</summary>
    [TestMethod]
    public void ShimTest_UnderValgrindMemcheck_AllCasesPass()
    {
        Privileges.RequireProgram("/usr/bin/valgrind");
        ProcessResult r = ProcessRunner.Run("make", ["-s", "-C", RepoPaths.File("native"), "valgrind"], timeout: TimeSpan.FromMinutes(15));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains(" passed, 0 failed", r.Stdout, r.Describe());
    }
}
