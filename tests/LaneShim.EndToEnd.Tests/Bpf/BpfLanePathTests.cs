// BpfLanePathTests.cs - the kernel lane path on a real kernel: a static program and rclone under `laneshim run --bpf`
// get the lane before their SYN, leases and closed flows are listed; a process outside the cgroup is untouched; a
// preloaded program inside keeps the agent's values and one lease; a refused flow is reverted; a stopped or killed
// broker leaves nothing attached or pinned.
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Bpf;

[TestClass]
public sealed class BpfLanePathTests
{
    private const string Policy = "class bpf rate=1gbit rtt=40ms cc=cubic dscp=ef ttl=1m\nrule -> bpf\n";
    private const ulong PacingOneGbit = 125_000_000;

    [TestMethod]
    public void StaticProgram_UnderRunBpf_GetsTheLaneBeforeItsSyn_IsLeased_AndItsFlowIsListedWithStats_WhileAnOutsiderIsUntouched()
    {
        BpfHost.Require();
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-").FullName;
        try
        {
            int metricsPort = BpfHost.FreePort();
            using BackgroundProcess broker = BpfHost.StartBroker(dir, Policy, "broker.sock", "--metrics", $"http://127.0.0.1:{metricsPort}");
            string socket = Path.Combine(dir, "broker.sock");
            int port = BpfHost.FreePort();
            using BackgroundProcess sink = BpfHost.StartSink(port);
            using var client = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", BpfHost.Client, "127.0.0.1", $"{port}", "3", "2000000"]);
            client.WaitForOutput("connect cc=", TimeSpan.FromSeconds(30));
            SocketView atConnect = BpfHost.Parse(client.Stdout, "connect");

            // The same destination at the same time, from outside the cgroup: the system's settings.
            ProcessResult outsider = ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "e2e", "sockopt_client.py"), "127.0.0.1", $"{port}", "0"]);
            Assert.AreEqual(0, outsider.ExitCode, outsider.Describe());
            SocketView outside = BpfHost.Parse(outsider.Stdout, "connect");
            string systemCc = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim();

            Lease? lease = null;
            broker.WaitUntil(() => (lease = BpfHost.Leases(socket).FirstOrDefault(l => l.Flow.Local.Port == (uint)atConnect.LocalPort)) is not null,
                TimeSpan.FromSeconds(5), "the static program's lease listed");
            Assert.AreEqual(1, BpfHost.Leases(socket).Count, "the outsider got a lease");
            client.WaitForOutput("later cc=", TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, client.WaitForExit(TimeSpan.FromSeconds(30)), client.Stdout + client.Stderr);
            SocketView later = BpfHost.Parse(client.Stdout, "later");

            Assert.AreEqual("cubic", atConnect.Congestion, client.Stdout);
            Assert.AreEqual(PacingOneGbit, atConnect.Pacing, client.Stdout);
            Assert.AreEqual(46 << 2, atConnect.Tos, client.Stdout);
            Assert.IsGreaterThan(1_000_000L, atConnect.Sndbuf, "the lane's send buffer was not set");
            // What bpf_setsockopt may not (above net.core.wmem_max), the broker set on the socket after the report:
            // SO_SNDBUFFORCE at the 5 MB BDP, which the kernel doubles.
            Assert.AreEqual(atConnect with { LocalPort = later.LocalPort, Sndbuf = 10_000_000 }, later, "an admitted flow kept its lane, with the broker's FORCE buffer");
            Assert.AreEqual(systemCc, outside.Congestion, outsider.Stdout);
            Assert.AreEqual(SocketView.Unpaced, outside.Pacing, outsider.Stdout);
            Assert.AreEqual(0, outside.Tos, outsider.Stdout);

            Assert.AreEqual("bpf", lease!.Grant.LaneClass);
            Assert.AreEqual("bpf_client", Path.GetFileName(lease.Program.Path));
            Assert.AreEqual(Direction.Outbound, lease.Flow.Direction);
            FlowRecord? closed = null;
            broker.WaitUntil(() => (closed = BpfHost.Flows(socket).FirstOrDefault(f => f.LeaseId == lease.LeaseId)) is not null,
                TimeSpan.FromSeconds(5), "the closed flow listed");
            Assert.IsGreaterThanOrEqualTo(2_000_000UL, closed!.Stats.BytesAcked, closed.ToString());
            Assert.IsGreaterThan(0U, closed.Stats.MinRttUs, closed.ToString());
            Assert.IsGreaterThan(2_000UL, closed.Stats.DurationMs, closed.ToString());
            Assert.IsEmpty(BpfHost.Leases(socket), "the lease outlived its flow");
            using var http = new HttpClient();
            string metrics = http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics").GetAwaiter().GetResult();
            Assert.Contains("laneshim_bpf_reports_total{result=\"granted\"} 1", metrics, metrics);
            // The broker's own counters: its start-up warm-up grant and the kernel path's.
            Assert.Contains("laneshim_grants_total{class=\"bpf\",result=\"granted\"} 2", metrics, metrics);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void UnprivilegedUser_RunBpf_IsMovedInByTheBroker_AndOwnsItsLease()
    {
        BpfHost.Require();
        Privileges.RequireProgram("/usr/bin/setpriv");
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-user-").FullName;
        try
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101); // nobody reaches the broker's socket (0666) through it
            using BackgroundProcess broker = BpfHost.StartBroker(dir, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            int port = BpfHost.FreePort();
            using BackgroundProcess sink = BpfHost.StartSink(port);
            string client = Path.Combine(dir, "bpf_client");
            File.Copy(BpfHost.Client, client);
            var env = new Dictionary<string, string?> { ["HOME"] = "/tmp", ["DOTNET_CLI_HOME"] = "/tmp" };
            ProcessResult r = ProcessRunner.Run("/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--",
                RepoPaths.Cli, "run", "--bpf", "--broker", $"unix:{socket}", "--", client, "127.0.0.1", $"{port}", "0", "1000"], env, TimeSpan.FromSeconds(60));
            Assert.AreEqual(0, r.ExitCode, r.Describe());
            SocketView view = BpfHost.Parse(r.Stdout, "connect");
            Assert.AreEqual("cubic", view.Congestion, r.Describe());
            Assert.AreEqual(PacingOneGbit, view.Pacing, r.Describe());
            FlowRecord? flow = null;
            broker.WaitUntil(() => (flow = BpfHost.Flows(socket).FirstOrDefault(f => f.Flow.Local.Port == (uint)view.LocalPort)) is not null, TimeSpan.FromSeconds(5), "the flow listed");
            Assert.AreEqual(65534U, flow!.Program.Uid, "the lease belongs to the user the kernel named");
            Assert.Contains("(uid 65534) entered the BPF lane path", broker.Stdout + broker.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Rclone_BothEndsUnderRunBpf_GetTheLaneOnTheirSockets_AndLeasesAndFlows()
    {
        BpfHost.Require();
        Privileges.RequireProgram("/usr/bin/rclone");
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-rclone-").FullName;
        try
        {
            using BackgroundProcess broker = BpfHost.StartBroker(dir, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            Directory.CreateDirectory(Path.Combine(dir, "src"));
            Directory.CreateDirectory(Path.Combine(dir, "dst"));
            // 1 Gbit/s pacing: 250 MB take 2 s, long enough to see the sockets mid-transfer.
            using (FileStream f = File.Create(Path.Combine(dir, "src", "data.bin")))
            {
                f.SetLength(250_000_000);
            }
            int port = BpfHost.FreePort();
            var quiet = new Dictionary<string, string?> { ["RCLONE_CONFIG"] = Path.Combine(dir, "rclone.conf") };
            using var server = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", "/usr/bin/rclone", "serve", "http", Path.Combine(dir, "src"), "--addr", $"127.0.0.1:{port}"], quiet);
            server.WaitUntil(() => ProcessRunner.Run("/usr/bin/ss", ["-tlnH", $"( sport = :{port} )"]).Stdout.Contains($":{port}", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "rclone serving");
            using var copy = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", "/usr/bin/rclone", "copy", "--http-url", $"http://127.0.0.1:{port}", ":http:data.bin", Path.Combine(dir, "dst")], quiet);

            // Mid-transfer, the server's sending socket as ss shows it: the lane's cc and pacing, set by the kernel path.
            string seen = "";
            copy.WaitUntil(() => (seen = ProcessRunner.Run("/usr/bin/ss", ["-tmiHn", "state", "established", $"( sport = :{port} )"]).Stdout).Contains("bytes_acked:1", StringComparison.Ordinal)
                && seen.Contains("cubic", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the server's socket mid-transfer");
            IReadOnlyList<Lease> leases = BpfHost.Leases(socket);
            Assert.AreEqual(0, copy.WaitForExit(TimeSpan.FromSeconds(60)), copy.Stdout + copy.Stderr);

            Assert.Contains("bps/1000000000bps", seen, "the lane's SO_MAX_PACING_RATE (ss: pacing_rate now/max)");
            long sndbuf = long.Parse(System.Text.RegularExpressions.Regex.Match(seen, @",tb(\d+),").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.IsGreaterThanOrEqualTo(8_000_000L, sndbuf, $"the server socket's send buffer (skmem tb) is not the lane's: {seen}");
            Assert.AreEqual(250_000_000L, new FileInfo(Path.Combine(dir, "dst", "data.bin")).Length);
            Assert.IsTrue(leases.Any(l => l.Program.Path.EndsWith("rclone", StringComparison.Ordinal) && l.Flow.Direction == Direction.Outbound), string.Join('\n', leases));
            Assert.IsTrue(leases.Any(l => l.Program.Path.EndsWith("rclone", StringComparison.Ordinal) && l.Flow.Direction == Direction.Inbound), string.Join('\n', leases));
            broker.WaitUntil(() => BpfHost.Flows(socket).Any(f => f.Program.Path.EndsWith("rclone", StringComparison.Ordinal) && f.Stats.BytesAcked >= 250_000_000UL),
                TimeSpan.FromSeconds(10), "the server's flow listed with its bytes after close");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void FlowTheBrokerRefuses_IsRevertedToTheSystemsSettings_AndGetsNoLease()
    {
        BpfHost.Require();
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-refuse-").FullName;
        try
        {
            // Room for one lane: the kernel tunes both sockets before the broker has admitted either.
            using BackgroundProcess broker = BpfHost.StartBroker(dir, "class one rate=100mbit capacity=100mbit rtt=10ms cc=cubic dscp=ef ttl=1m\nrule -> one\n");
            string socket = Path.Combine(dir, "broker.sock");
            int port = BpfHost.FreePort();
            using BackgroundProcess sink = BpfHost.StartSink(port);
            using var first = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", BpfHost.Client, "127.0.0.1", $"{port}", "4", "1000"]);
            first.WaitForOutput("connect cc=", TimeSpan.FromSeconds(30));
            broker.WaitUntil(() => BpfHost.Leases(socket).Count == 1, TimeSpan.FromSeconds(5), "the first flow admitted");
            ProcessResult second = ProcessRunner.Run(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", BpfHost.Client, "127.0.0.1", $"{port}", "1", "1000"], timeout: TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, second.ExitCode, second.Describe());
            SocketView tuned = BpfHost.Parse(second.Stdout, "connect"), reverted = BpfHost.Parse(second.Stdout, "later");
            string systemCc = File.ReadAllText("/proc/sys/net/ipv4/tcp_congestion_control").Trim();

            Assert.AreEqual("cubic", tuned.Congestion, "the kernel tunes before admission");
            Assert.AreEqual(systemCc, reverted.Congestion, second.Stdout);
            Assert.AreEqual(SocketView.Unpaced, reverted.Pacing, second.Stdout);
            Assert.AreEqual(0, reverted.Tos, second.Stdout);
            Assert.Contains("ResourceExhausted", broker.Stdout + broker.Stderr);
            Assert.AreEqual(1, BpfHost.Leases(socket).Count, "the refused flow got a lease");
            first.WaitForOutput("later cc=", TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, first.WaitForExit(TimeSpan.FromSeconds(30)), first.Stdout);
            Assert.AreEqual(BpfHost.Parse(first.Stdout, "connect") with { LocalPort = 0 }, BpfHost.Parse(first.Stdout, "later") with { LocalPort = 0 }, "the admitted flow lost its lane");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void PreloadedProgramInsideTheCgroup_KeepsTheAgentsValues_AndHasExactlyOneLease()
    {
        BpfHost.Require();
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-agent-").FullName;
        try
        {
            // Broker A serves the agent a class unlike the one broker B's kernel path would apply.
            using BackgroundProcess agentBroker = BpfHost.StartBroker(dir, "class agent rate=200mbit rtt=10ms cc=reno dscp=af11 ttl=1m\nrule -> agent\n", "agent.sock");
            using BackgroundProcess bpfBroker = BpfHost.StartBroker(dir, Policy, "bpf.sock");
            string agentSocket = Path.Combine(dir, "agent.sock"), bpfSocket = Path.Combine(dir, "bpf.sock");
            int port = BpfHost.FreePort();
            using BackgroundProcess sink = BpfHost.StartSink(port);
            string client = RepoPaths.File("tests", "e2e", "sockopt_client.py");
            // A deadline no load can miss: this test is about the two paths, not about the agent's budget.
            var env = new Dictionary<string, string?> { ["LANESHIM_INCLUDE_LOOPBACK"] = "1", ["LANESHIM_DEADLINE_MS"] = "5000" };

            // Inside B's cgroup, with the shim preloaded and its agent asking A.
            using var twoBrokers = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{bpfSocket}", "--",
                "/usr/bin/env", $"LANESHIM_BROKER=unix:{agentSocket}", RepoPaths.SystemPython, client, "127.0.0.1", $"{port}", "1", "3"], env);
            twoBrokers.WaitForOutput("later cc=", TimeSpan.FromSeconds(30));
            int localPort = BpfHost.Parse(twoBrokers.Stdout, "later").LocalPort;
            twoBrokers.WaitUntil(() => !BpfHost.Leases(bpfSocket).Any(l => l.Flow.Local.Port == (uint)localPort), TimeSpan.FromSeconds(2), "no kernel-path lease for the agent's flow");
            List<Lease> agentLeases = BpfHost.Leases(agentSocket).Where(l => l.Flow.Local.Port == (uint)localPort).ToList();
            SocketView later = BpfHost.Parse(twoBrokers.Stdout, "later");
            Assert.AreEqual(0, twoBrokers.WaitForExit(TimeSpan.FromSeconds(30)), twoBrokers.Stdout + twoBrokers.Stderr);
            Assert.AreEqual("reno", later.Congestion, twoBrokers.Stdout);
            Assert.AreEqual(25_000_000UL, later.Pacing, twoBrokers.Stdout);
            Assert.AreEqual(10 << 2, later.Tos, twoBrokers.Stdout);
            Assert.HasCount(1, agentLeases, "the agent's lease");

            // One broker for both paths: its agent asks it, its kernel path sees the agent's socket and stands aside.
            ProcessResult oneBroker = ProcessRunner.Run(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{bpfSocket}", "--", RepoPaths.SystemPython, client, "127.0.0.1", $"{port}", "0"], env, TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, oneBroker.ExitCode, oneBroker.Describe());
            int onePort = BpfHost.Parse(oneBroker.Stdout, "connect").LocalPort;
            bpfBroker.WaitUntil(() => BpfHost.Flows(bpfSocket).Any(f => f.Flow.Local.Port == (uint)onePort), TimeSpan.FromSeconds(5), "the agent's flow reported closed");
            List<FlowRecord> records = BpfHost.Flows(bpfSocket).Where(f => f.Flow.Local.Port == (uint)onePort).ToList();
            Assert.HasCount(1, records.Select(f => f.LeaseId).Distinct().ToList(), string.Join('\n', records));
            Assert.AreEqual("cubic", BpfHost.Parse(oneBroker.Stdout, "connect").Congestion, "the agent's grant from the same broker");
            Assert.Contains("tuned in user space", bpfBroker.Stdout + bpfBroker.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void LaneOptionsSetAfterConnect_AsALateAgentDoes_WithdrawTheKernelPathsLease()
    {
        BpfHost.Require();
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-late-").FullName;
        try
        {
            using BackgroundProcess broker = BpfHost.StartBroker(dir, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            int port = BpfHost.FreePort();
            using BackgroundProcess sink = BpfHost.StartSink(port);
            using var late = new BackgroundProcess(RepoPaths.Cli, ["run", "--bpf", "--broker", $"unix:{socket}", "--", "/usr/bin/env", "LANESHIM_DISABLE=1",
                RepoPaths.SystemPython, RepoPaths.File("tests", "e2e", "sockopt_client.py"), "127.0.0.1", $"{port}", "1", "3", "reno"]);
            late.WaitForOutput("connect cc=", TimeSpan.FromSeconds(30));
            int localPort = BpfHost.Parse(late.Stdout, "connect").LocalPort;
            Assert.AreEqual("cubic", BpfHost.Parse(late.Stdout, "connect").Congestion, late.Stdout);
            broker.WaitUntil(() => BpfHost.Leases(socket).Any(l => l.Flow.Local.Port == (uint)localPort), TimeSpan.FromSeconds(5), "the kernel path's lease");
            late.WaitForOutput("later cc=", TimeSpan.FromSeconds(30));
            broker.WaitUntil(() => !BpfHost.Leases(socket).Any(l => l.Flow.Local.Port == (uint)localPort), TimeSpan.FromSeconds(2), "the lease withdrawn");
            Assert.AreEqual("reno", BpfHost.Parse(late.Stdout, "later").Congestion, late.Stdout);
            Assert.AreEqual(0, late.WaitForExit(TimeSpan.FromSeconds(30)), late.Stdout + late.Stderr);
            Assert.IsFalse(BpfHost.Flows(socket).Any(f => f.Flow.Local.Port == (uint)localPort), "a withdrawn lease is no closed flow");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void StoppedOrKilledBroker_LeavesNoAttachedProgramNoPinAndNoCgroup()
    {
        BpfHost.Require();
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-stop-").FullName;
        try
        {
            string before = BpfHost.AttachedPrograms();
            using (BackgroundProcess broker = BpfHost.StartBroker(dir, Policy))
            {
                Assert.AreNotEqual(before, BpfHost.AttachedPrograms(), "the broker attached nothing");
                ProcessRunner.Check("/bin/kill", "-TERM", $"{broker.Pid}");
                Assert.AreEqual(0, broker.WaitForExit(TimeSpan.FromSeconds(20)), broker.Stdout + broker.Stderr);
            }
            Assert.AreEqual(before, BpfHost.AttachedPrograms(), "programs left attached after SIGTERM");
            Assert.AreEqual("", BpfHost.Leftovers(), "pins or cgroups left after SIGTERM");

            int killedPid;
            using (BackgroundProcess broker = BpfHost.StartBroker(dir, Policy))
            {
                killedPid = broker.Pid;
                ProcessRunner.Check("/bin/kill", "-KILL", $"{broker.Pid}");
                broker.WaitForExit(TimeSpan.FromSeconds(20));
            }
            // The kernel detaches a dead process's links at once; its pins wait for the next broker.
            Assert.AreEqual(before, BpfHost.AttachedPrograms(), "programs left attached after SIGKILL");
            StringAssert.Contains(BpfHost.Leftovers(), $"broker-{killedPid}");
            using (BackgroundProcess restarted = BpfHost.StartBroker(dir, Policy))
            {
                Assert.DoesNotContain($"broker-{killedPid}", BpfHost.Leftovers(), "the restarted broker kept the dead one's pins");
                ProcessRunner.Check("/bin/kill", "-TERM", $"{restarted.Pid}");
                restarted.WaitForExit(TimeSpan.FromSeconds(20));
            }
            Assert.AreEqual(before, BpfHost.AttachedPrograms());
            Assert.AreEqual("", BpfHost.Leftovers());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
