// BpfLabTests.cs - the kernel lane path in the lab: a static program's flow is steered onto the bypass from its
// connect report (how many packets leave by the default route first is measured), moves 50 MB with almost nothing
// through the middlebox, and its rules go within 2 s of close, when the broker stops, and after kill -9 and restart.
using System.Text.RegularExpressions;
using LaneShim.Lab.Lab;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Bpf;

[TestClass]
public sealed partial class BpfLabTests
{
    private const string Policy = "class lane rate=1gbit rtt=40ms cc=cubic ttl=10m\nrule -> lane\n";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void BpfFlow_FollowsItsConnectReportOntoTheBypass_AndItsRulesNeverOutliveIt()
    {
        BpfHost.Require();
        string name = $"lsb{Environment.ProcessId % 1000}";
        string dir = Directory.CreateTempSubdirectory("laneshim-bpf-lab-").FullName;
        try
        {
            ProcessResult up = ProcessRunner.Run(RepoPaths.Lab, ["lab", "up", "--name", name, "-q", "--force"], timeout: TimeSpan.FromSeconds(90));
            Assert.AreEqual(0, up.ExitCode, up.Describe());
            LabState lab = LabState.Load(name);
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            string[] brokerArgs = ["broker", "--listen", $"unix:{socket}", "--policy", policy, "--topology", lab.TopologyFile, "--enforce", "linux-router", "--bpf", "--verbose"];
            using var sink = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, RepoPaths.SystemPython, RepoPaths.File("tests", "e2e", "sink_server.py"), lab.ServerAddress, "5201"]);
            sink.WaitForOutput("listening", TimeSpan.FromSeconds(20));
            string[] Client(int seconds, long bytes) => ["run", "--bpf", "--broker", $"unix:{socket}", "--", "/sbin/ip", "netns", "exec", lab.Namespaces.Client,
                BpfHost.Client, lab.ServerAddress, "5201", $"{seconds}", $"{bytes}"];

            var broker = new BackgroundProcess(RepoPaths.Cli, brokerArgs);
            try
            {
                broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));

                // The rules follow the connect report: count what crosses the middlebox before they are in place.
                // Each flow sends 100 kB and then a small write every 50 ms for a second: on path 1 that is about 100 packets.
                var early = new List<long>();
                for (int i = 0; i < 5; i++)
                {
                    long before = LabCounters.Middlebox(lab).ForwardedPackets;
                    ProcessResult flow = ProcessRunner.Run(RepoPaths.Cli, Client(1, 100_000), timeout: TimeSpan.FromSeconds(30));
                    Assert.AreEqual(0, flow.ExitCode, flow.Describe());
                    early.Add(LabCounters.Middlebox(lab).ForwardedPackets - before);
                }
                TestContext.WriteLine($"packets through the middlebox per BPF-path flow (before its rules followed the connect report): {string.Join(", ", early)}");
                Assert.IsLessThanOrEqualTo(10L, early.Max(), $"packets through the middlebox per flow: {string.Join(", ", early)}\n{broker.Stdout}");

                // 50 MB over the bypass, then the rules go within 2 s of close.
                long mboxBefore = LabCounters.Middlebox(lab).ForwardedPackets;
                InterfaceCounters bypassBefore = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
                ProcessResult bulk = ProcessRunner.Run(RepoPaths.Cli, Client(0, 50_000_000), timeout: TimeSpan.FromSeconds(60));
                Assert.AreEqual(0, bulk.ExitCode, bulk.Describe());
                var closedAt = System.Diagnostics.Stopwatch.StartNew();
                long mbox = LabCounters.Middlebox(lab).ForwardedPackets - mboxBefore;
                long bypass = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice).TxBytes - bypassBefore.TxBytes;
                Assert.IsGreaterThan(50_000_000L, bypass, $"{bypass} bytes crossed the bypass");
                Assert.IsLessThan(100L, mbox, $"the middlebox forwarded {mbox} packets of a BPF-path flow\n{broker.Stdout}");
                broker.WaitUntil(() => NoRules(lab), TimeSpan.FromSeconds(2), "every rule removed within 2 s of close");
                TestContext.WriteLine($"50 MB flow: {mbox} packets through the middlebox, rules gone {closedAt.ElapsedMilliseconds} ms after close");

                // A live flow when the broker stops: its rules, programs and pins go with the broker.
                using (var live = new BackgroundProcess(RepoPaths.Cli, Client(30, 1000)))
                {
                    live.WaitForOutput("connect cc=", TimeSpan.FromSeconds(30));
                    broker.WaitUntil(() => !NoRules(lab), TimeSpan.FromSeconds(5), "the live flow steered");
                    ProcessRunner.Check("/bin/kill", "-TERM", $"{broker.Pid}");
                    Assert.AreEqual(0, broker.WaitForExit(TimeSpan.FromSeconds(20)), broker.Stdout + broker.Stderr);
                    Assert.IsTrue(NoRules(lab), "rules left after SIGTERM");
                    Assert.AreEqual("", BpfHost.AttachedPrograms(), "programs left after SIGTERM");
                    Assert.AreEqual("", BpfHost.Leftovers(), "pins or cgroups left after SIGTERM");
                }

                // kill -9 with a live flow: the kernel detaches the programs at once; the restart removes rules and pins.
                broker.Dispose();
                broker = new BackgroundProcess(RepoPaths.Cli, brokerArgs);
                broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
                using (var live = new BackgroundProcess(RepoPaths.Cli, Client(30, 1000)))
                {
                    live.WaitForOutput("connect cc=", TimeSpan.FromSeconds(30));
                    broker.WaitUntil(() => !NoRules(lab), TimeSpan.FromSeconds(5), "the live flow steered");
                    ProcessRunner.Check("/bin/kill", "-KILL", $"{broker.Pid}");
                    broker.WaitForExit(TimeSpan.FromSeconds(20));
                    Assert.AreEqual("", BpfHost.AttachedPrograms(), "programs left attached after SIGKILL");
                    broker.Dispose();
                    broker = new BackgroundProcess(RepoPaths.Cli, brokerArgs);
                    broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
                    Assert.IsTrue(NoRules(lab), "the restarted broker kept the killed one's rules");
                    ProcessRunner.Check("/bin/kill", "-TERM", $"{broker.Pid}");
                    Assert.AreEqual(0, broker.WaitForExit(TimeSpan.FromSeconds(20)), broker.Stdout + broker.Stderr);
                }
                Assert.AreEqual("", BpfHost.AttachedPrograms());
                Assert.AreEqual("", BpfHost.Leftovers());
            }
            finally
            {
                broker.Dispose();
            }
        }
        finally
        {
            ProcessRunner.Run(RepoPaths.Lab, ["lab", "down", "--name", name], timeout: TimeSpan.FromSeconds(60));
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool NoRules(LabState lab) =>
        new[] { lab.Namespaces.EdgeA, lab.Namespaces.EdgeB }.All(r => !Element().IsMatch(ProcessRunner.Run("/sbin/ip", ["netns", "exec", r, "nft", "list", "set", "inet", "laneshim", "lanes4"]).Stdout));

    [GeneratedRegex(@"\d+\.\d+\.\d+\.\d+ \. \d+ \. \d+\.\d+\.\d+\.\d+ \. \d+")]
    private static partial Regex Element();
}
