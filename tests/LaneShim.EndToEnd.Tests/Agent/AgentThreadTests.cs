// AgentThreadTests.cs - what the agent adds to a program's threads: python3 holding two lanes (renewed, reported, released) has its own thread, the shim's loader/serve thread and .NET Finalizer, nothing else.
using System.Globalization;
using LaneShim.EndToEnd.Tests.Telemetry;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Agent;

[TestClass]
public sealed class AgentThreadTests
{
    // capacity= admits per flow: each connect is its own lease (a broker call), each close a ReleaseLane. ttl=2s: the
    // agent renews every lease about once a second while the sockets live.
    private const string Policy = "class lane rate=10mbit rtt=10ms cc=reno ttl=2s capacity=100gbit\nrule -> lane\n";

    // Connects twice, waits until both sockets carry the lane (reno, unlike the host's default), then samples
    // /proc/self/task/*/comm every 20 ms while it holds both for HOLD seconds (renewals, reports), closes one (release)
    // and holds the other a little longer. Prints "CC a b" and one "TASK tid comm" line per thread ever seen.
    private const string Script = ThreadSampler.Python + """
        port, hold = int(sys.argv[1]), float(sys.argv[2])
        a = socket.create_connection(("127.0.0.1", port))
        b = socket.create_connection(("127.0.0.1", port))
        deadline = time.monotonic() + 10
        while (cc(a), cc(b)) != ("reno", "reno") and time.monotonic() < deadline:
            sample(); time.sleep(0.02)
        print("CC", cc(a), cc(b), flush=True)
        end = time.monotonic() + hold
        while time.monotonic() < end:
            a.send(b"x" * 1000); sample(); time.sleep(0.02)
        a.close()
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            sample(); time.sleep(0.02)
        b.close()
        sample()
        print(f"MAIN {os.getpid()}")
        for tid, comm in sorted(seen.items()):
            print(f"TASK {tid} {comm}")
        """;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void Python_HoldingTwoRenewedLanes_HasOnlyItsThreadTheShimsThreadAndTheFinalizer()
    {
        using var fx = new TelemetryFixture(Policy, metrics: true);
        ProcessResult r = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Script, fx.SinkPort.ToString(CultureInfo.InvariantCulture), "2.5"],
            fx.ShimEnv(), TimeSpan.FromSeconds(60));
        string details = $"{r.Describe()}\n--- broker (tail)\n{string.Join('\n', fx.BrokerLog.Split('\n').TakeLast(20))}";
        Assert.AreEqual(0, r.ExitCode, details);
        StringAssert.Contains(r.Stdout, "CC reno reno", $"the two sockets did not get their lanes\n{details}");

        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int main = int.Parse(lines.Single(l => l.StartsWith("MAIN ", StringComparison.Ordinal))[5..], CultureInfo.InvariantCulture);
        var tasks = lines.Where(l => l.StartsWith("TASK ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', 3)).ToDictionary(f => int.Parse(f[1], CultureInfo.InvariantCulture), f => f.Length > 2 ? f[2] : "");
        string all = string.Join(", ", tasks.Select(t => $"{t.Key} '{t.Value}'"));
        Assert.IsTrue(tasks.ContainsKey(main), $"the main thread is missing: {all}");
        // The shim's loader thread is unnamed, so it carries the comm of the thread that started it (the program's).
        CollectionAssert.AreEquivalent(new[] { tasks[main], tasks[main], ".NET Finalizer" }, tasks.Values.ToArray(),
            $"threads of python3 under the shim holding two lanes: {all}\n{details}");

        // The two leases were renewed (by the shim's thread: no other thread existed to do it) and released at close.
        string scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10)).Stdout;
        PrometheusParser.Exposition metrics = PrometheusParser.Parse(scrape);
        Assert.IsTrue(metrics.Sum("laneshim_lease_renewals_total") >= 2, $"no renewals while the lanes were held\n{scrape}\n{details}");
        Assert.IsTrue(metrics.Sum("laneshim_lease_releases_total") >= 2, $"the closes released no lease\n{scrape}\n{details}");
    }
}
