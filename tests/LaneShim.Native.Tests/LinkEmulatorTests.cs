// LinkEmulatorTests.cs - the lab's TUN link emulator: its C unit tests, and its self-test against ping and iperf3
// (RTT within 2% of the configured delay, TCP goodput within 5% of the configured rate, loss and tail drop).
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Native.Tests;

[TestClass]
public sealed class LinkEmulatorTests
{
    [TestMethod]
    public void UnitTests_Pass()
    {
        ProcessResult r = ProcessRunner.Run("make", ["-s", "-C", RepoPaths.File("lab", "linkemu"), "check"], timeout: TimeSpan.FromMinutes(3));
        Assert.AreEqual(0, r.ExitCode, r.Describe());
    }

    [TestMethod]
    public void SelfTest_Quick_MeetsRttRateLossAndQueueTolerances()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        Privileges.RequireProgram("/usr/bin/iperf3");
        string binary = Path.Combine(RepoPaths.Out, "bin", "laneshim-linkemu");
        Assert.IsTrue(File.Exists(binary), $"{binary} missing: run ./build.sh");
        ProcessResult r = ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "lab", "linkemu_selftest.py"), "--quick", "--bin", binary],
            timeout: TimeSpan.FromMinutes(3));
        Console.WriteLine(r.Stdout);
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.Contains(" passed, 0 failed", r.Stdout, r.Describe());
    }
}
