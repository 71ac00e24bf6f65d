// ShortFlowReportTests.cs - short per-flow lanes under the real shim: each connect report rides with its release, none arrives late.
using System.Text.RegularExpressions;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Telemetry;

[TestClass]
public sealed partial class ShortFlowReportTests
{
    // A class with capacity= admits per flow, so every connection gets its own lease and releases it at close.
    private const string Policy = "class lane rate=10mbit rtt=10ms capacity=10gbit ttl=10m\nrule -> lane\n";

    // N connections, each sends a little and closes at once: all of them well inside the reporter's 50 ms linger.
    private const string ShortFlows = """
        import socket, sys
        port, n = int(sys.argv[1]), int(sys.argv[2])
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"x" * 1000)
            s.close()
        """;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void ShortPerFlowLanes_ConnectReportsRideWithReleases_NoneArrivesAfterItsLease()
    {
        Privileges.RequireProgram(RepoPaths.SystemPython);
        using var fx = new TelemetryFixture(Policy);
        const int flows = 20;

        ProcessResult run = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", ShortFlows, fx.SinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{flows}"],
            fx.ShimEnv(), TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, run.ExitCode, run.Describe());

        // The broker's console logger writes on its own thread: wait (bounded) until every release is in the log.
        // Its own warm-up at start adds one grant and one release for program /laneshim/warm-up.
        string log = fx.BrokerLog;
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); Regex.Matches(log, "ReleaseLane lease").Count < flows + 1 && wait.Elapsed < TimeSpan.FromSeconds(10);)
        {
            Thread.Sleep(20); // polling interval, bounded by the 10 s above
            log = fx.BrokerLog;
        }

        Assert.AreEqual(flows, Regex.Matches(log, "RequestLane .* for /usr/bin/python[0-9.]* .*: grant by").Count, log);
        Assert.AreEqual(flows + 1, Regex.Matches(log, "ReleaseLane lease").Count, log);
        // Each release carried its flow's connect report: the RTT the handshake measured was learned from it.
        Assert.AreEqual(flows, Regex.Matches(log, "ReleaseLane lease .*RTT sample taken").Count, log);
        // Before, each of these reports came 50 ms after its lease was released, and the broker could only skip it.
        MatchCollection skipped = SkippedReports().Matches(log);
        Assert.IsTrue(skipped.All(m => m.Groups[1].Value == "0"), "reports for leases already gone:\n" + log);
        Assert.AreEqual(0, fx.Leases().Count, "every lease released at close");
    }

    [GeneratedRegex("ReportFlows: \\d+ reports, (\\d+) skipped")]
    private static partial Regex SkippedReports();
}
