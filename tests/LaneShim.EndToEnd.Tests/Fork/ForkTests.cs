// ForkTests.cs - forked children get lanes of their own (kernel-checked) while the parent's agent is busy, and never hang.
using LaneShim.EndToEnd.Tests.Telemetry;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Fork;

[TestClass]
public sealed class ForkTests
{
    // capacity= admits per flow: every connect is a broker call (RequestLane) and every close a ReleaseLane.
    private const string Policy = "class lane rate=10mbit rtt=10ms cc=cubic capacity=100gbit\nrule -> lane\n";

    // The parent gets a lane, starts THREADS threads connecting in a loop (each connect a broker call), and forks
    // FORKS times; each child connects once and exits 3 unless its socket reads back cubic (its lane), 4 on error.
    // A child that takes over 10 s is a deadlock. Prints one summary line.
    private const string Script = """
        import os, socket, sys, threading, time
        port, threads, forks = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        def cc_of(s):
            return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
        first = socket.create_connection(("127.0.0.1", port))
        parent_cc = cc_of(first)
        stop, calls = False, [0]
        def busy():
            while not stop:
                socket.create_connection(("127.0.0.1", port)).close()
                calls[0] += 1
        workers = [threading.Thread(target=busy) for _ in range(threads)]
        for w in workers:
            w.start()
        hung, failed, slowest = 0, [], 0.0
        for i in range(forks):
            t0 = time.monotonic()
            pid = os.fork()
            if pid == 0:
                try:
                    s = socket.create_connection(("127.0.0.1", port))
                    ok = cc_of(s) == "cubic"
                    s.close()
                    os._exit(0 if ok else 3)
                except Exception:
                    os._exit(4)
            deadline = time.monotonic() + 10
            while True:
                r, status = os.waitpid(pid, os.WNOHANG)
                if r:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    hung += 1
                    break
                time.sleep(0.002)
            if r and status != 0:
                failed.append(os.waitstatus_to_exitcode(status))
            slowest = max(slowest, time.monotonic() - t0)
        stop = True
        for w in workers:
            w.join()
        again = socket.create_connection(("127.0.0.1", port))
        print(f"parent {parent_cc} again {cc_of(again)} calls {calls[0]} hung {hung} failed {failed} slowest {slowest:.3f}")
        """;

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void SixtyFourForks_WhileEightThreadsAreInBrokerCalls_EveryChildGetsItsLaneAndExitsZero()
    {
        using var fx = new TelemetryFixture(Policy);
        ProcessResult r = ProcessRunner.Run(RepoPaths.SystemPython, ["-c", Script, fx.SinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "8", "64"],
            fx.ShimEnv(), TimeSpan.FromSeconds(240));
        string details = $"{r.Describe()}\n--- broker (tail)\n{string.Join('\n', fx.BrokerLog.Split('\n').TakeLast(20))}";
        Assert.AreEqual(0, r.ExitCode, details);
        StringAssert.Contains(r.Stdout, "parent cubic again cubic", $"the parent's lanes were lost\n{details}");
        StringAssert.Contains(r.Stdout, "hung 0 failed []", $"children hung or had no lane (3) or failed (4)\n{details}");
        Assert.DoesNotContain(" calls 0 ", r.Stdout, $"the busy threads made no broker calls\n{details}");
        Console.WriteLine(r.Stdout);
    }
}
