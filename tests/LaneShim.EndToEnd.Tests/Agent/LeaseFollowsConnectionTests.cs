// LeaseFollowsConnectionTests.cs - a lease the broker keeps alive by watching its connection starts no renewal in the agent; one it does not watch is renewed by the agent.
using System.Diagnostics;
using System.Globalization;
using LaneShim.EndToEnd.Tests.Telemetry;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.EndToEnd.Tests.Agent;

[TestClass]
public sealed class LeaseFollowsConnectionTests
{
    // capacity= admits per flow: the broker (proving sockets) watches the connection in the kernel and keeps its lease.
    private const string Watched = "class lane rate=10mbit rtt=10ms cc=reno ttl=2s capacity=100gbit\nrule -> lane\n";

    // No capacity, no steering: a lease that only carries socket settings is not watched; the agent renews it.
    private const string Unwatched = "class lane rate=10mbit rtt=10ms cc=reno ttl=2s\nrule -> lane\n";

    // Connects once, waits until the socket carries the lane (reno), prints READY, then sends and samples
    // /proc/self/task/*/comm every 20 ms until the file DONE exists (the test holds it longer than the TTL), closes,
    // samples a little more and prints one "TASK tid comm" line per thread ever seen.
    private const string Script = ThreadSampler.Python + """
        port, done = int(sys.argv[1]), sys.argv[2]
        a = socket.create_connection(("127.0.0.1", port))
        deadline = time.monotonic() + 10
        while cc(a) != "reno" and time.monotonic() < deadline:
            sample(); time.sleep(0.02)
        print("READY", a.getsockname()[1], cc(a), flush=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(done) and time.monotonic() < deadline:
            a.send(b"x" * 1000); sample(); time.sleep(0.02)
        a.close()
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            sample(); time.sleep(0.02)
        for tid, comm in sorted(seen.items()):
            print(f"TASK {tid} {comm}")
        """;

    // Held for twice the TTL: long enough that an unrenewed lease would have expired, and that the agent's renewal
    // (at half the remaining time) has happened at least once.
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(4);

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void WatchedLease_FollowsItsConnection_AgentStartsNoRenewalThreadAndNeverRenews()
    {
        Privileges.RequireRoot("the broker's socket proof (pidfd_getfd) and sock_diag");
        (Lease lease, string[] threads, double renewals, bool gone, string details) = HoldLane(Watched);

        Assert.IsTrue(lease.Grant.PerFlow, $"the capacity class's grant should be per flow: {lease.Grant.Reason}\n{details}");
        Assert.IsTrue(lease.Grant.LeaseFollowsConnection, $"a watched lease must say lease_follows_connection: {lease.Grant.Reason}\n{details}");
        CollectionAssert.DoesNotContain(threads, "laneshim-agent", $"the agent started a renewal thread for a lease its broker keeps: {string.Join(", ", threads)}\n{details}");
        Assert.AreEqual(0, renewals, $"the agent renewed a lease the broker keeps alive\n{details}");
        Assert.IsTrue(gone, $"the watched lease outlived its connection by more than 2 s\n{details}");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void UnwatchedLease_DoesNotFollow_AgentRenewsItOnItsOwnThread()
    {
        Privileges.RequireRoot("the broker's socket proof (pidfd_getfd)");
        (Lease lease, string[] threads, double renewals, bool gone, string details) = HoldLane(Unwatched);

        Assert.IsFalse(lease.Grant.PerFlow, $"{lease.Grant.Reason}\n{details}");
        Assert.IsFalse(lease.Grant.LeaseFollowsConnection, $"an unwatched lease must not say lease_follows_connection: {lease.Grant.Reason}\n{details}");
        CollectionAssert.Contains(threads, "laneshim-agent", $"an inline-started agent holding a lease it must renew has no service thread: {string.Join(", ", threads)}\n{details}");
        Assert.IsGreaterThanOrEqualTo(1, renewals, $"the agent never renewed a lease nobody else keeps alive\n{details}");
        Assert.IsTrue(gone, $"the released lease stayed\n{details}");
    }

    // Runs the script under the shim (the agent started inline: a service thread of its own is then visible as
    // laneshim-agent), holds the lane for Hold while the lease must stay live, and returns the lease as listed at the
    // end of the hold, the program's threads, the broker's renewal count and whether the lease went within 2 s of the close.
    private static (Lease Lease, string[] Threads, double Renewals, bool Gone, string Details) HoldLane(string policy)
    {
        using var fx = new TelemetryFixture(policy, metrics: true, socketProof: true);
        string done = Path.Combine(Path.GetTempPath(), $"laneshim-follows-{Guid.NewGuid():N}");
        Dictionary<string, string?> env = fx.ShimEnv();
        env["LANESHIM_AGENT_START"] = "inline";
        using var program = new BackgroundProcess(RepoPaths.SystemPython, ["-c", Script, fx.SinkPort.ToString(CultureInfo.InvariantCulture), done], env);
        string Details() => $"--- program\n{program.Stdout}{program.Stderr}\n--- broker (tail)\n{string.Join('\n', fx.BrokerLog.Split('\n').TakeLast(30))}";
        try
        {
            program.WaitForOutput("READY", TimeSpan.FromSeconds(30));
            string[] ready = program.Stdout.Split('\n').First(l => l.StartsWith("READY ", StringComparison.Ordinal)).Split(' ');
            Assert.AreEqual("reno", ready[2].Trim(), $"the socket did not get its lane\n{Details()}");
            uint port = uint.Parse(ready[1], CultureInfo.InvariantCulture);

            var held = Stopwatch.StartNew();
            Lease? lease = null;
            while (held.Elapsed < Hold)
            {
                lease = fx.Leases().SingleOrDefault(l => l.Flow.Local.Port == port);
                Assert.IsNotNull(lease, $"the lease ended after {held.Elapsed.TotalSeconds:F1} s while its connection was open (TTL 2 s)\n{Details()}");
                Thread.Sleep(100); // polling interval
            }

            File.WriteAllText(done, "");
            Assert.AreEqual(0, program.WaitForExit(TimeSpan.FromSeconds(30)), Details());
            var closed = Stopwatch.StartNew();
            bool gone = false;
            while (!gone && closed.Elapsed < TimeSpan.FromSeconds(2))
            {
                gone = !fx.Leases().Any(l => l.Flow.Local.Port == port);
                if (!gone)
                {
                    Thread.Sleep(20); // polling interval
                }
            }

            string[] threads = program.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(l => l.StartsWith("TASK ", StringComparison.Ordinal)).Select(l => l.Split(' ', 3) is { Length: 3 } f ? f[2] : "").ToArray();
            string scrape = ProcessRunner.Run("/usr/bin/curl", ["-sS", fx.MetricsUrl!], timeout: TimeSpan.FromSeconds(10)).Stdout;
            double renewals = PrometheusParser.Parse(scrape).Sum("laneshim_lease_renewals_total");
            return (lease!, threads, renewals, gone, Details());
        }
        finally
        {
            File.Delete(done);
        }
    }
}
