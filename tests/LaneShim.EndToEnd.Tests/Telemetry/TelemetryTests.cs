// TelemetryTests.cs - real programs under the shim against a real broker: leases renew while a connection lives and
// lapse after close or kill -9; closed flows are reported (even by a program that exits at once) and show in /metrics.
using System.Diagnostics;
using System.Net.Http;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Telemetry;

[TestClass]
public sealed class TelemetryTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Sweep = TimeSpan.FromSeconds(1);

    // Connects, then writes a little every 100 ms for HOLD seconds, closes, says so, and lingers LINGER seconds.
    private const string Holder = """
        import socket, sys, time
        port, hold, linger = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
        c = socket.create_connection(("127.0.0.1", port))
        print("connected", flush=True)
        end = time.time() + hold
        while time.time() < end:
            c.sendall(b"x" * 1000); time.sleep(0.1)
        c.close()
        print("closed", flush=True)
        time.sleep(linger)
        """;

    // Sends COUNT flows of MB megabytes each, closes each, and exits at once.
    private const string Sender = """
        import socket, sys
        port, count, mb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        block = b"y" * (1 << 20)
        for _ in range(count):
            c = socket.create_connection(("127.0.0.1", port))
            for _ in range(mb): c.sendall(block)
            c.close()
        """;

    [TestMethod]
    public void LongConnection_LeaseRenewedAcrossSeveralTtls_ThenLapsesAfterClose()
    {
        using var fx = new TelemetryFixture($"class lane rate=1gbit rtt=10ms ttl={Ttl.TotalSeconds}s\nrule -> lane\n");
        using var client = new BackgroundProcess(RepoPaths.SystemPython, ["-c", Holder, fx.SinkPort.ToString(), "7", "6"], fx.ShimEnv());
        client.WaitForOutput("connected", TimeSpan.FromSeconds(20));
        client.WaitUntil(() => fx.Leases().Count == 1, TimeSpan.FromSeconds(5), "a lease for the connection");
        Lease first = fx.Leases().Single();

        // 3.5 TTLs: the lease must be there at every look, the same one, with its expiry moving forward.
        var held = Stopwatch.StartNew();
        long lastExpiry = first.Grant.ExpiresUnixMs;
        int renewalsSeen = 0;
        while (!client.Stdout.Contains("closed", StringComparison.Ordinal))
        {
            IReadOnlyList<Lease> now = fx.Leases();
            if (client.Stdout.Contains("closed", StringComparison.Ordinal))
            {
                break;
            }
            Assert.HasCount(1, now, $"the lease vanished {held.Elapsed.TotalSeconds:0.0} s into the connection\n{fx.BrokerLog}");
            Assert.AreEqual(first.LeaseId, now[0].LeaseId);
            renewalsSeen += now[0].Grant.ExpiresUnixMs > lastExpiry ? 1 : 0;
            lastExpiry = now[0].Grant.ExpiresUnixMs;
            Poll.Past(DateTimeOffset.UtcNow.AddMilliseconds(200)); // the next look, 200 ms on
        }
        Console.WriteLine($"lease held {held.Elapsed.TotalSeconds:0.0} s with TTL {Ttl.TotalSeconds} s; {renewalsSeen} renewals seen");
        Assert.IsGreaterThan(Ttl.TotalSeconds * 3, held.Elapsed.TotalSeconds);
        Assert.IsGreaterThanOrEqualTo(5, renewalsSeen, "renewed about every TTL/2");

        // After close nothing renews it: it is gone within what was left of its TTL (at most TTL/2 plus a tick).
        var closed = Stopwatch.StartNew();
        client.WaitUntil(() => fx.Leases().Count == 0, Ttl + Sweep, "the lease lapsed after close");
        Console.WriteLine($"lease gone {closed.Elapsed.TotalSeconds:0.00} s after close");
    }

    [TestMethod]
    public void KilledProgram_LeaseExpiresWithinTtlPlusSweep()
    {
        using var fx = new TelemetryFixture($"class lane rate=1gbit rtt=10ms ttl={Ttl.TotalSeconds}s\nrule -> lane\n");
        using var client = new BackgroundProcess(RepoPaths.SystemPython, ["-c", Holder, fx.SinkPort.ToString(), "60", "0"], fx.ShimEnv());
        client.WaitForOutput("connected", TimeSpan.FromSeconds(20));
        client.WaitUntil(() => fx.Leases().Count == 1, TimeSpan.FromSeconds(5), "a lease for the connection");
        // Alive past two TTLs: renewed, at every look.
        Poll.Throughout(Ttl * 2, TimeSpan.FromMilliseconds(250), () => Assert.HasCount(1, fx.Leases(), fx.BrokerLog));

        using (Process victim = Process.GetProcessById(client.Pid))
        {
            victim.Kill(); // SIGKILL: no close(), no exit handler
            victim.WaitForExit(5000);
        }
        var killed = Stopwatch.StartNew();
        Poll.Until(() => fx.Leases().Count == 0, Ttl + Sweep, $"the dead program's lease gone within TTL + sweep\n{fx.BrokerLog}");
        Console.WriteLine($"lease gone {killed.Elapsed.TotalSeconds:0.00} s after kill -9 (TTL {Ttl.TotalSeconds} s)");
    }

    [TestMethod]
    public void ProgramThatExitsRightAfterClose_ItsFlowsAreReportedInABatch_AndMetricsScrapeIsStrictlyValid()
    {
        using var fx = new TelemetryFixture("class lane rate=1gbit rtt=10ms\nrule -> lane\n", metrics: true);
        ProcessResult sent = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Sender, fx.SinkPort.ToString(), "3", "20"], fx.ShimEnv(), TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, sent.ExitCode, sent.Describe());

        // The reports left with the process (the exit handler flushed them); the broker has them now.
        ListFlowsReply flows = fx.Client.ListFlowsAsync(new ListFlowsRequest(), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        Assert.HasCount(3, flows.Flows, fx.BrokerLog);
        foreach (FlowRecord flow in flows.Flows)
        {
            // TCP_INFO is read inside close(), before the kernel drains the send buffer: up to a buffer's worth is not acked yet.
            Assert.IsGreaterThan(1UL << 20, flow.Stats.BytesAcked, flow.ToString());
            Assert.IsLessThanOrEqualTo(20UL << 20, flow.Stats.BytesAcked, flow.ToString());
            Assert.AreEqual((uint)fx.SinkPort, flow.Flow.Remote.Port, flow.ToString());
            Assert.AreNotEqual("unknown", flow.LimitedBy, flow.ToString());
            Assert.AreEqual("lane", flow.LaneClass);
        }
        StringAssert.Contains(fx.BrokerLog, "ReportFlows", "the agent used the batch call");

        ProcessResult scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", "-D", "-", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10));
        Assert.AreEqual(0, scrape.ExitCode, scrape.Describe());
        string[] parts = scrape.Stdout.Split("\r\n\r\n", 2);
        StringAssert.Contains(parts[0], "Content-Type: text/plain; version=0.0.4; charset=utf-8");
        PrometheusParser.Exposition metrics = PrometheusParser.Parse(parts[1]);
        Assert.IsGreaterThanOrEqualTo(1.0, metrics.Sum("laneshim_grants_total", ("class", "lane"), ("result", "granted")), parts[1]);
        Assert.AreEqual(3.0, metrics.Sum("laneshim_flows_reported_total"), parts[1]);
        Assert.AreEqual(flows.Flows.Sum(f => (double)f.Stats.BytesAcked), metrics.Sum("laneshim_flow_bytes_total", ("direction", "sent")), parts[1]);
        Assert.IsGreaterThan(0.0, metrics.Sum("laneshim_request_duration_seconds_count"), parts[1]);
        Assert.IsTrue(metrics.Has("laneshim_active_leases"), parts[1]);
        ProcessResult missing = ProcessRunner.Run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", fx.MetricsUrl!.Replace("/metrics", "/other", StringComparison.Ordinal)]);
        Assert.AreEqual("404", missing.Stdout);
    }

    // Sends for SECONDS to the port, closes; exits normally or with os._exit (which skips exit handlers).
    private const string TimedSender = """
        import os, socket, sys, time
        port, seconds, hard = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "hard"
        c = socket.create_connection(("127.0.0.1", port)); end = time.time() + seconds
        while time.time() < end: c.sendall(b"w" * 65536)
        c.close()
        if hard: os._exit(0)
        """;

    [TestMethod]
    public void NormalExit_FlushesTheLastReport_UnderscoreExitSkipsTheHandlerAndLosesIt()
    {
        using var fx = new TelemetryFixture("class lane rate=1gbit rtt=10ms\nrule -> lane\n");
        ProcessResult hard = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", TimedSender, fx.SinkPort.ToString(), "0.2", "hard"], fx.ShimEnv(), TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, hard.ExitCode, hard.Describe());
        ProcessResult normal = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", TimedSender, fx.SinkPort.ToString(), "0.2", "normal"], fx.ShimEnv(), TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, normal.ExitCode, normal.Describe());
        // The normal exit's report arrives (exit waits for it at most 300 ms); the hard exit's, sent never, cannot
        // overtake it: both went to the same broker, the hard one first.
        ListFlowsReply flows = new();
        Poll.Until(() => (flows = fx.Client.ListFlowsAsync(new ListFlowsRequest(), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult()).Flows.Count > 0,
            TimeSpan.FromSeconds(5), "the normal exit's report at the broker");
        Assert.HasCount(1, flows.Flows, $"only the normal exit's report should arrive\n{fx.BrokerLog}");
    }

    [TestMethod]
    public void ReceiverLimitedRealFlows_VerdictReceiverWindow_LaterGrantSizedAtWhatTheyAchieved()
    {
        using var fx = new TelemetryFixture("class lane rate=1gbit rtt=10ms\nrule -> lane\n", slowSink: true);
        for (int i = 0; i < 3; i++)
        {
            ProcessResult sent = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", TimedSender, fx.SinkPort.ToString(), "1.2", "normal"], fx.ShimEnv(), TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, sent.ExitCode, sent.Describe());
        }
        ListFlowsReply flows = fx.Client.ListFlowsAsync(new ListFlowsRequest(), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        Assert.HasCount(3, flows.Flows, fx.BrokerLog);
        foreach (FlowRecord flow in flows.Flows)
        {
            Console.WriteLine($"{flow.LimitedBy}: {flow.AchievedBps / 1e6:0.0} Mbit/s of {flow.GrantedRateBps / 1e6:0} granted; rwnd {flow.Stats.RwndLimitedUs} us of {flow.Stats.BusyTimeUs} us busy");
            Assert.AreEqual("receiver window", flow.LimitedBy, flow.ToString());
            Assert.IsLessThan(1_000_000_000UL / 2, flow.AchievedBps, flow.ToString());
        }

        // A new program asking for the same destination now gets a lane sized by what the receiver took.
        ulong median = flows.Flows.Select(f => f.AchievedBps).Order().ElementAt(1);
        LaneGrant later = fx.Client.RequestLane(new LaneRequest
        {
            Flow = new Flow
            {
                Direction = Direction.Outbound,
                Protocol = 6,
                Local = new Endpoint { Address = Google.Protobuf.ByteString.CopyFrom(127, 0, 0, 1), Port = 45000 },
                Remote = new Endpoint { Address = Google.Protobuf.ByteString.CopyFrom(127, 0, 0, 1), Port = (uint)fx.SinkPort },
            },
            Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/python3", Pid = 1 },
        }, TimeSpan.FromSeconds(5));
        Console.WriteLine(later.Reason);
        Assert.AreEqual((ulong)(median * 1.5), later.RateBps, later.Reason);
        Assert.AreEqual(1_000_000_000UL, flows.Flows[^1].GrantedRateBps, "the first flow had the class rate: one flow is not enough evidence");
        Assert.IsLessThan(1_000_000_000UL, flows.Flows[0].GrantedRateBps, "the third flow was already sized by the first two");
        StringAssert.Contains(later.Reason, "limited by the receiver's window");
    }

    // Opens a lane, forks; the child exits normally (exit handlers run) and says how long that took; the parent waits.
    private const string Forker = """
        import os, socket, sys, time
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        c.sendall(b"f" * 100000)
        pid = os.fork()
        if pid == 0:
            sys.stderr.write("child %d exiting\n" % os.getpid()); sys.stderr.flush()
            sys.exit(0)
        started = time.time(); os.waitpid(pid, 0)
        print("child exit took %.0f ms" % ((time.time() - started) * 1000), flush=True)
        print("parent %d" % os.getpid(), flush=True)
        c.close()
        """;

    [TestMethod]
    public void ForkedChildExit_NeverEntersTheAgent_ParentExitDoes()
    {
        using var fx = new TelemetryFixture("class lane rate=1gbit rtt=10ms\nrule -> lane\n");
        Dictionary<string, string?> env = fx.ShimEnv();
        env["LANESHIM_LOG"] = "debug";
        ProcessResult run = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Forker, fx.SinkPort.ToString()], env, TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        Console.WriteLine(run.Stdout);

        // The agent logs one line when the exit handler reaches it: exactly once, from the parent.
        string[] exiting = run.Stderr.Split('\n').Where(l => l.Contains("process exiting:", StringComparison.Ordinal)).ToArray();
        Assert.HasCount(1, exiting, run.Describe());
        string parentPid = run.Stdout.Split('\n').Single(l => l.StartsWith("parent ", StringComparison.Ordinal))["parent ".Length..];
        StringAssert.Contains(exiting[0], parentPid, run.Describe());
        int childMs = int.Parse(run.Stdout.Split('\n').Single(l => l.StartsWith("child exit took", StringComparison.Ordinal)).Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsLessThan(1000, childMs, "a forked child's exit must not wait for anything of the agent's");
    }
}
