// SteeringTests.cs - a real broker with the lab topology and the Linux-router backend steers a wrapped program's
// flow onto the bypass (interface counters), and once the lease expires the same 5-tuple takes path 1 again.
// (A broker that watches the connection renews the lease while it lives: ConnectionLifetimeTests. Here the broker
// runs without socket proof, so it has nothing to watch and the TTL is all there is, as for a remote caller.)
using System.Text.RegularExpressions;
using LaneShim.Lab.Lab;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Lab;

[TestClass]
public sealed partial class SteeringTests
{
    private const string Policy = "class lane rate=10gbit rtt=100ms cc=cubic ttl=4s\nrule -> lane\n";

    [TestMethod]
    public void LaneFlow_CrossesTheBypassNotTheMiddlebox_ThenPath1AfterExpiry_AndNoRuleIsLeft()
    {
        Privileges.RequireRoot("network namespaces, TUN devices and nftables");
        string name = $"lss{Environment.ProcessId % 1000}";
        string dir = Directory.CreateTempSubdirectory("laneshim-steer-").FullName;
        try
        {
            ProcessResult up = ProcessRunner.Run(RepoPaths.Lab, ["lab", "up", "--name", name, "-q", "--force"], timeout: TimeSpan.FromSeconds(90));
            Assert.AreEqual(0, up.ExitCode, up.Describe());
            LabState lab = LabState.Load(name);
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", policy,
                "--topology", lab.TopologyFile, "--enforce", "linux-router", "--verbose", "--no-socket-proof"]);
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
            using var server = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, "iperf3", "-s", "-1", "-p", "5201"]);
            server.WaitUntil(() => ProcessRunner.Run("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, "ss", "-tlnH", "( sport = :5201 )"]).Stdout.Contains(":5201", StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "iperf3 listening");

            InterfaceCounters p2Before = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            long mboxBefore = LabCounters.Middlebox(lab).ForwardedPackets;
            var env = new Dictionary<string, string?>
            {
                ["LD_PRELOAD"] = RepoPaths.Shim,
                ["LANESHIM_AGENT"] = RepoPaths.Agent,
                ["LANESHIM_BROKER"] = $"unix:{socket}",
            };
            // 10 s at 100 Mbit/s on path 1 would be 125 MB; on the bypass the flow moves far more while the lease lives.
            // 20 s: the program is stopped for a while below, and iperf3 counts that time too.
            using var client = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Namespaces.Client, "iperf3", "-c", lab.ServerAddress, "-p", "5201", "-t", "20", "-i", "1", "--forceflush"], env);

            // While the lease lives (4 s): the data flow's packets cross p2a, and the middlebox sees next to nothing.
            client.WaitUntil(() => LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice).TxBytes - p2Before.TxBytes > 50_000_000,
                TimeSpan.FromSeconds(4), "50 MB over the bypass");
            long mboxDuringLane = LabCounters.Middlebox(lab).ForwardedPackets - mboxBefore;
            Assert.IsLessThan(100, mboxDuringLane, $"the middlebox forwarded {mboxDuringLane} packets of a lane flow\n{broker.Stderr}{broker.Stdout}");
            string steered = Nft(lab.Namespaces.EdgeA, "list", "set", "inet", "laneshim", "lanes4");
            Assert.Contains(lab.ClientAddress, steered, steered);

            // The agent renews the lease while the connection lives. A stopped program renews nothing, as a dead agent
            // would not, and this broker cannot see the connection: the lease expires, the broker removes the rules, and
            // once the program runs again (its next renewal is NOT_FOUND) the same connection's packets go back through
            // the middlebox.
            Signal(client.Pid, "STOP");
            broker.WaitUntil(() => !Nft(lab.Namespaces.EdgeA, "list", "set", "inet", "laneshim", "lanes4").Contains(lab.ClientAddress, StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "steering removed at lease expiry");
            Signal(client.Pid, "CONT");
            long mboxAtExpiry = LabCounters.Middlebox(lab).ForwardedPackets;
            InterfaceCounters p2AtExpiry = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            client.WaitUntil(() => LabCounters.Middlebox(lab).ForwardedPackets - mboxAtExpiry > 1000, TimeSpan.FromSeconds(5), "the flow back on path 1");
            InterfaceCounters p2After = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            Assert.IsLessThan(200_000, p2After.TxBytes - p2AtExpiry.TxBytes, "path 2 still carries the flow after its lease expired");

            Assert.AreEqual(0, client.WaitForExit(TimeSpan.FromSeconds(40)), client.Stdout + client.Stderr);
            foreach (string router in new[] { lab.Namespaces.EdgeA, lab.Namespaces.EdgeB })
            {
                string set = Nft(router, "list", "set", "inet", "laneshim", "lanes4");
                Assert.IsFalse(Element().IsMatch(set), $"a rule was left behind in {router}:\n{set}");
            }
        }
        finally
        {
            ProcessRunner.Run(RepoPaths.Lab, ["lab", "down", "--name", name], timeout: TimeSpan.FromSeconds(60));
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void LaneFlow_ClosedByTheProgram_ReleasesItsLeaseAndRulesAtOnce()
    {
        Privileges.RequireRoot("network namespaces, TUN devices and nftables");
        string name = $"lsr{Environment.ProcessId % 1000}";
        string dir = Directory.CreateTempSubdirectory("laneshim-release-").FullName;
        try
        {
            ProcessResult up = ProcessRunner.Run(RepoPaths.Lab, ["lab", "up", "--name", name, "-q", "--force"], timeout: TimeSpan.FromSeconds(90));
            Assert.AreEqual(0, up.ExitCode, up.Describe());
            LabState lab = LabState.Load(name);
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, "class lane rate=1gbit rtt=40ms ttl=10m\nrule -> lane\n");
            string socket = Path.Combine(dir, "broker.sock");
            using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", policy,
                "--topology", lab.TopologyFile, "--enforce", "linux-router", "--verbose"]);
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
            using var server = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, "iperf3", "-s", "-1", "-p", "5201"]);
            server.WaitUntil(() => ProcessRunner.Run("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, "ss", "-tlnH", "( sport = :5201 )"]).Stdout.Contains(":5201", StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "iperf3 listening");
            var env = new Dictionary<string, string?> { ["LD_PRELOAD"] = RepoPaths.Shim, ["LANESHIM_AGENT"] = RepoPaths.Agent, ["LANESHIM_BROKER"] = $"unix:{socket}" };

            ProcessResult client = ProcessRunner.Run("/sbin/ip", ["netns", "exec", lab.Namespaces.Client, "iperf3", "-c", lab.ServerAddress, "-p", "5201", "-t", "2"], env, TimeSpan.FromSeconds(60));
            Assert.AreEqual(0, client.ExitCode, client.Describe());
            Assert.Contains("steered by 2 rules", broker.Stdout + broker.Stderr, "the flows had no steered lane");

            // The leases last 10 minutes; only their release at close can empty the sets this soon.
            broker.WaitUntil(() => new[] { lab.Namespaces.EdgeA, lab.Namespaces.EdgeB }.All(r => !Element().IsMatch(Nft(r, "list", "set", "inet", "laneshim", "lanes4"))),
                TimeSpan.FromSeconds(5), "every rule removed after the program closed its sockets");
            StringAssert.Contains(broker.Stdout + broker.Stderr, "ReleaseLane lease");
        }
        finally
        {
            ProcessRunner.Run(RepoPaths.Lab, ["lab", "down", "--name", name], timeout: TimeSpan.FromSeconds(60));
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Signal(int pid, string signal) => ProcessRunner.Check("/bin/kill", $"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string Nft(string netns, params string[] args) => ProcessRunner.Run("/sbin/ip", ["netns", "exec", netns, "nft", .. args]).Stdout;

    [GeneratedRegex(@"\d+\.\d+\.\d+\.\d+ \. \d+ \. \d+\.\d+\.\d+\.\d+ \. \d+")]
    private static partial Regex Element();
}
