// AddressSpaceTests.cs - programs that limit their address space (ulimit -v, batch limits) keep working under the shim, with lanes.
using LaneShim.EndToEnd.Tests.Telemetry;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.AddressSpace;

[TestClass]
public sealed class AddressSpaceTests
{
    // cubic, not this machine's default (bbr): a socket that reads back cubic got its lane.
    private const string Policy = "class lane rate=1gbit rtt=10ms cc=cubic\nrule -> lane\n";

    // Connects (a lane when a broker answers), then maps and touches MB megabytes; prints the congestion control.
    private const string ConnectThenMap = """
        import socket, sys
        port, mb = int(sys.argv[1]), int(sys.argv[2])
        s = socket.create_connection(("127.0.0.1", port))
        cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
        big = bytearray(mb << 20)
        for i in range(0, len(big), 4096):
            big[i] = 1
        print("cc", cc, "mapped", mb)
        """;

    private const string UlimitV = "ulimit -v 1000000";

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void UnderUlimitV_ProgramGetsItsLaneAndMaps500MB()
    {
        using var fx = new TelemetryFixture(Policy);
        ProcessResult r = Limited(fx.ShimEnv(), RepoPaths.SystemPython, "-c", ConnectThenMap, Port(fx), "500");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        StringAssert.Contains(r.Stdout, "cc cubic mapped 500", $"no lane, or the 500 MB did not fit\n{r.Describe()}");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void UnderUlimitV_NoBroker_ProgramStillMaps500MB()
    {
        using var fx = new TelemetryFixture(Policy);
        Dictionary<string, string?> env = fx.ShimEnv();
        env["LANESHIM_BROKER"] = "unix:/nonexistent-laneshim/broker.sock";
        ProcessResult r = Limited(env, RepoPaths.SystemPython, "-c", ConnectThenMap, Port(fx), "500");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        StringAssert.Contains(r.Stdout, "mapped 500", r.Describe());
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void LaneshimRun_UnderUlimitV_WithExternalBroker_RunsTheCommandWithALane()
    {
        using var fx = new TelemetryFixture(Policy);
        var env = new Dictionary<string, string?> { ["LANESHIM_INCLUDE_LOOPBACK"] = "1" };
        ProcessResult r = Limited(env, RepoPaths.Cli, "run", "--broker", $"unix:{fx.Socket}", "--", RepoPaths.SystemPython, "-c", ConnectThenMap, Port(fx), "300");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        StringAssert.Contains(r.Stdout, "cc cubic mapped 300", r.Describe());
        Assert.DoesNotContain("Unhandled exception", r.Stderr, r.Describe());
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void LaneshimRun_UnderUlimitV_NoBroker_RunsTheCommandAnyway()
    {
        using var fx = new TelemetryFixture(Policy);
        var env = new Dictionary<string, string?> { ["LANESHIM_INCLUDE_LOOPBACK"] = "1" };
        ProcessResult r = Limited(env, RepoPaths.Cli, "run", "--broker", "unix:/nonexistent-laneshim/broker.sock", "--",
            RepoPaths.SystemPython, "-c", ConnectThenMap, Port(fx), "300");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        StringAssert.Contains(r.Stdout, "mapped 300", r.Describe());
        Assert.DoesNotContain("Unhandled exception", r.Stderr, r.Describe());
    }

    private static string Port(TelemetryFixture fx) => fx.SinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // bash sets the limit, then execs the program: the limit holds from its first instruction, as under a batch system.
    private static ProcessResult Limited(Dictionary<string, string?> env, string program, params string[] args) =>
        ProcessRunner.Run("/bin/bash", ["-c", $"{UlimitV} && exec \"$0\" \"$@\"", program, .. args], env, TimeSpan.FromSeconds(90));
}
