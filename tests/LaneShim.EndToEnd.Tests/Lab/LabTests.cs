// LabTests.cs - `laneshim-lab lab`: the emulated WAN comes up with its RTT and routing, steers marked flows onto the bypass, and goes away completely, also after a crash.
using System.Globalization;
using System.Text.Json;
using LaneShim.Lab.Lab;
using LaneShim.Core.Topology;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Lab;

[TestClass]
public sealed class LabTests
{
    private const double ConfiguredRttMs = 40;
    private static int _counter;

    [TestMethod]
    public void Up_DefaultLab_PingTakesPath1ThroughTheMiddleboxAtTheConfiguredRtt()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState lab = Up(name);
            MiddleboxCounters mboxBefore = LabCounters.Middlebox(lab);
            InterfaceCounters p1Before = LabCounters.Interface(lab.Namespaces.Mbox, "p1m");
            InterfaceCounters p2Before = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);

            IReadOnlyList<double> rtts = Ping(lab.Namespaces.Client, lab.ServerAddress, count: 20);

            double median = Median(rtts);
            string all = string.Join(' ', rtts.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)));
            Assert.IsTrue(Math.Abs(median - ConfiguredRttMs) <= ConfiguredRttMs * 0.02, $"median RTT {median:0.00} ms is not within 2% of {ConfiguredRttMs} ms: {all}");
            Assert.IsTrue(rtts.Min() >= ConfiguredRttMs * 0.98, $"an RTT below the configured delay: {all}");
            MiddleboxCounters mbox = LabCounters.Middlebox(lab);
            InterfaceCounters p1 = LabCounters.Interface(lab.Namespaces.Mbox, "p1m");
            InterfaceCounters p2 = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            Assert.IsTrue(mbox.ForwardedPackets - mboxBefore.ForwardedPackets >= 40, $"the middlebox forwarded {mbox.ForwardedPackets - mboxBefore.ForwardedPackets} packets of 20 echoes and 20 replies");
            Assert.IsTrue(p1.RxPackets - p1Before.RxPackets >= 20 && p1.TxPackets - p1Before.TxPackets >= 20, $"p1m: before {p1Before}, after {p1}");
            Assert.AreEqual(p2Before, p2, "path 2 carried packets of an unmarked flow");
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void RuleToTable100_SendsTheClientsTrafficOverPath2AndRemovingItRestoresPath1()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState lab = Up(name);
            string edgeA = lab.Namespaces.EdgeA, edgeB = lab.Namespaces.EdgeB;
            string[] ruleA = ["rule", "add", "from", lab.ClientAddress, "lookup", "100", "priority", "50"];
            string[] ruleB = ["rule", "add", "to", lab.ClientAddress, "lookup", "100", "priority", "50"];
            Ip(["-n", edgeA, .. ruleA]);
            Ip(["-n", edgeB, .. ruleB]);
            MiddleboxCounters mboxBefore = LabCounters.Middlebox(lab);
            InterfaceCounters p2Before = LabCounters.Interface(edgeA, lab.Path2.EdgeADevice);

            Ping(lab.Namespaces.Client, lab.ServerAddress, count: 5);

            InterfaceCounters p2 = LabCounters.Interface(edgeA, lab.Path2.EdgeADevice);
            Assert.IsTrue(p2.TxPackets - p2Before.TxPackets >= 5 && p2.RxPackets - p2Before.RxPackets >= 5, $"p2a: before {p2Before}, after {p2}");
            Assert.AreEqual(mboxBefore.ForwardedPackets, LabCounters.Middlebox(lab).ForwardedPackets, "the middlebox saw a flow routed over path 2");

            Ip(["-n", edgeA, "rule", "del", .. ruleA[2..]]);
            Ip(["-n", edgeB, "rule", "del", .. ruleB[2..]]);
            Ping(lab.Namespaces.Client, lab.ServerAddress, count: 5);

            Assert.AreEqual(p2, LabCounters.Interface(edgeA, lab.Path2.EdgeADevice), "path 2 carried packets after the rules were removed");
            Assert.IsTrue(LabCounters.Middlebox(lab).ForwardedPackets - mboxBefore.ForwardedPackets >= 10, "the middlebox did not see the flow once the rules were removed");
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void LanesSetElement_MarksThatTcpFlowOntoPath2InBothDirections()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState lab = Up(name);
            LabSteering s = lab.Steering;
            const int clientPort = 40000, serverPort = 5201;
            Nft(lab.Namespaces.EdgeA, "add", "element", s.Family, s.Table, s.Set, $"{{ {lab.ClientAddress} . {clientPort} . {lab.ServerAddress} . {serverPort} }}");
            Nft(lab.Namespaces.EdgeB, "add", "element", s.Family, s.Table, s.Set, $"{{ {lab.ServerAddress} . {serverPort} . {lab.ClientAddress} . {clientPort} }}");
            MiddleboxCounters mboxBefore = LabCounters.Middlebox(lab);
            InterfaceCounters p2aBefore = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            InterfaceCounters p2bBefore = LabCounters.Interface(lab.Namespaces.EdgeB, lab.Path2.EdgeBDevice);
            const int bytes = 2 << 20;

            string sink = $"import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('{lab.ServerAddress}',{serverPort}));s.listen(1);print('listening',flush=True)\n" +
                "c,_=s.accept();n=0\nwhile True:\n b=c.recv(1<<16)\n if not b: break\n n+=len(b)\nprint('received',n,flush=True)\n";
            using var server = new BackgroundProcess("/sbin/ip", ["netns", "exec", lab.Namespaces.Server, RepoPaths.SystemPython, "-c", sink]);
            server.WaitForOutput("listening", TimeSpan.FromSeconds(10));
            string send = $"import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('{lab.ClientAddress}',{clientPort}))\n" +
                $"s.connect(('{lab.ServerAddress}',{serverPort}));s.sendall(b'x'*{bytes});s.shutdown(socket.SHUT_WR);s.recv(1);s.close()\n";
            ProcessResult client = ProcessRunner.Run("/sbin/ip", ["netns", "exec", lab.Namespaces.Client, RepoPaths.SystemPython, "-c", send], timeout: TimeSpan.FromSeconds(30));
            Assert.AreEqual(0, client.ExitCode, client.Describe());
            Assert.AreEqual(0, server.WaitForExit(TimeSpan.FromSeconds(10)), server.Stderr);
            Assert.Contains($"received {bytes}", server.Stdout);

            InterfaceCounters p2a = LabCounters.Interface(lab.Namespaces.EdgeA, lab.Path2.EdgeADevice);
            InterfaceCounters p2b = LabCounters.Interface(lab.Namespaces.EdgeB, lab.Path2.EdgeBDevice);
            Assert.IsTrue(p2a.TxBytes - p2aBefore.TxBytes >= bytes, $"client to server did not cross path 2: p2a before {p2aBefore}, after {p2a}");
            Assert.IsTrue(p2b.TxPackets - p2bBefore.TxPackets >= 10, $"server to client (ACKs) did not cross path 2: p2b before {p2bBefore}, after {p2b}");
            Assert.AreEqual(mboxBefore.ForwardedPackets, LabCounters.Middlebox(lab).ForwardedPackets, "the middlebox saw packets of a flow in lanes4");
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void Down_Twice_LeavesNoNamespaceProcessOrStateBehind()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            Up(name);

            ProcessResult first = Lab("down", "--name", name);
            ProcessResult second = Lab("down", "--name", name);

            Assert.AreEqual(0, first.ExitCode, first.Describe());
            Assert.Contains("stopped 2 process", first.Stdout, first.Describe());
            Assert.AreEqual(0, second.ExitCode, second.Describe());
            Assert.Contains("nothing to do", second.Stdout, second.Describe());
            AssertNothingLeft(name);
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void Down_AfterACrash_StopsTheStrayEmulatorAndDeletesTheNamespaces()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState lab = Up(name);
            // The crash: path 1's emulator killed, the state directory (pidfiles, lab.json) gone, path 2's emulator still running.
            int killed = lab.Link("path1").Emulator!.Pid, stray = lab.Link("path2").Emulator!.Pid;
            ProcessRunner.Check("/bin/kill", "-9", killed.ToString(CultureInfo.InvariantCulture));
            Directory.Delete(lab.StateDirectory, recursive: true);
            ProcessResult status = Lab("status", "--name", name);
            Assert.AreEqual(1, status.ExitCode, status.Describe());
            Assert.Contains("no state file", status.Stdout, status.Describe());

            ProcessResult down = Lab("down", "--name", name);

            Assert.AreEqual(0, down.ExitCode, down.Describe());
            Assert.IsFalse(Alive(stray), $"path 2's emulator (pid {stray}) survived down\n{down.Describe()}");
            AssertNothingLeft(name);
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void StatusJson_ListsEveryLinkWithTheFlagsParameters()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState lab = Up(name, "--p1-rate", "50mbit", "--p2-rtt", "30ms", "--p1-loss", "0.5%", "--queue", "1bdp");
            ProcessResult r = Lab("status", "--name", name, "--json");
            Assert.AreEqual(0, r.ExitCode, r.Describe());
            using JsonDocument doc = JsonDocument.Parse(r.Stdout);
            JsonElement root = doc.RootElement;
            Assert.IsTrue(root.GetProperty("healthy").GetBoolean(), r.Stdout);
            Dictionary<string, JsonElement> links = root.GetProperty("links").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
            CollectionAssert.AreEquivalent(new[] { "client-edgea", "path1", "mbox-edgeb", "path2", "edgeb-server" }, links.Keys.ToArray());
            Assert.AreEqual(50_000_000UL, links["path1"].GetProperty("rate_bps").GetUInt64());
            Assert.AreEqual(0.005, links["path1"].GetProperty("loss").GetDouble(), 1e-12);
            Assert.AreEqual(250_000L, links["path1"].GetProperty("queue_bytes").GetInt64()); // 1 BDP = 50 Mbit/s x 40 ms
            Assert.AreEqual(30.0, links["path2"].GetProperty("rtt_ms").GetDouble());
            Assert.AreEqual(1UL, links["path2"].GetProperty("mark").GetUInt64());
            foreach (string emulated in new[] { "path1", "path2" })
            {
                JsonElement e = links[emulated].GetProperty("emulator");
                Assert.IsTrue(e.GetProperty("alive").GetBoolean(), $"{emulated}: {e}");
                Assert.IsTrue(e.TryGetProperty("ab", out _), $"{emulated} has no stats: {e}");
            }
            Assert.AreEqual(5, root.GetProperty("namespaces").EnumerateArray().Count(n => n.GetProperty("present").GetBoolean()));

            Assert.AreEqual(1_000_000_000UL, lab.LineRateBps);
            Assert.AreEqual(30.0, lab.RttMs);
            Assert.AreEqual("p2a", lab.Path2.EdgeADevice);
            Assert.AreEqual($"{name}-mbox", lab.Middlebox.Namespace);
            ProcessResult text = Lab("status", "--name", name);
            Assert.AreEqual(0, text.ExitCode, text.Describe());
            Assert.Contains("50 Mbit/s", text.Stdout, text.Describe());
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void Up_OnAnExistingLab_RefusesUnlessForced()
    {
        Privileges.RequireRoot("network namespaces and TUN devices");
        string name = NewName();
        try
        {
            LabState first = Up(name);

            ProcessResult again = Lab("up", "--name", name, "-q");
            Assert.AreEqual(1, again.ExitCode, again.Describe());
            Assert.Contains("already exists", again.Stderr, again.Describe());
            Assert.IsTrue(Alive(first.Link("path1").Emulator!.Pid), "a refused up touched the running lab");

            LabState forced = Up(name, "--force");
            Assert.AreNotEqual(first.Link("path1").Emulator!.Pid, forced.Link("path1").Emulator!.Pid);
            Assert.IsFalse(Alive(first.Link("path1").Emulator!.Pid), "--force left the old emulator running");
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void Up_WhenAnEmulatorFails_ExitsOneAndRemovesWhatItBuilt()
    {
        Privileges.RequireRoot("network namespaces");
        string name = NewName();
        try
        {
            ProcessResult r = Lab("up", "--name", name, "-q", "--linkemu", "/bin/false");

            Assert.AreEqual(1, r.ExitCode, r.Describe());
            Assert.Contains("before it was ready", r.Stderr, r.Describe());
            AssertNothingLeft(name);
        }
        finally
        {
            Down(name);
        }
    }

    [TestMethod]
    public void Up_BadFlag_ExitsTwoNamingTheFlag()
    {
        ProcessResult r = Lab("up", "--name", NewName(), "--p1-loss", "150%");

        Assert.AreEqual(2, r.ExitCode, r.Describe());
        Assert.Contains("--p1-loss", r.Stderr, r.Describe());
    }

    [TestMethod]
    public void Topology_DefaultFlags_IsTheCheckedInFileAndTheBrokerParsesIt()
    {
        ProcessResult r = Lab("topology");
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        string file = RepoPaths.File("lab", "topology", "lab.topo");

        Assert.AreEqual(File.ReadAllText(file), r.Stdout, $"{file} is stale: regenerate it with `laneshim-lab lab topology > lab/topology/lab.topo`");
        SiteTopology topology = TopologyParser.Parse(r.Stdout, file);
        Assert.HasCount(5, topology.Nodes);
        Assert.HasCount(5, topology.Links);
        Assert.AreEqual(NodeRole.Middlebox, topology.Node("mbox")!.Role);
        Assert.AreEqual("firewall", topology.Node("mbox")!.MiddleboxType);
        TopologyLink bypass = topology.Links.Single(l => l.Mark != 0);
        Assert.AreEqual(("edgea", "edgeb", 1_000_000_000UL, 0x1u), (bypass.A, bypass.B, bypass.CapacityBps, bypass.Mark));
        TopologyLink path1 = topology.Links.Single(l => l.B == "mbox");
        Assert.AreEqual((100_000_000UL, TimeSpan.FromMilliseconds(20), 0.0001), (path1.CapacityBps, path1.Latency, path1.Loss));
    }

    private static string NewName() => $"lst{Environment.ProcessId % 1000}x{Interlocked.Increment(ref _counter)}";

    private static ProcessResult Lab(params string[] args) => ProcessRunner.Run(RepoPaths.Lab, ["lab", .. args], timeout: TimeSpan.FromSeconds(90));

    private static LabState Up(string name, params string[] flags)
    {
        ProcessResult r = Lab(["up", "--name", name, "-q", .. flags]);
        Assert.AreEqual(0, r.ExitCode, r.Describe());
        return LabState.Load(name);
    }

    private static void Down(string name)
    {
        ProcessResult r = Lab("down", "--name", name);
        Assert.AreEqual(0, r.ExitCode, r.Describe());
    }

    private static void Ip(string[] args) => ProcessRunner.Check("/sbin/ip", args);

    private static void Nft(string netns, params string[] args) => ProcessRunner.Check("/sbin/ip", ["netns", "exec", netns, "nft", .. args]);

    /// <summary>Round-trip times of <paramref name="count"/> echoes, ms; fails unless every one is answered.</summary>
    private static IReadOnlyList<double> Ping(string netns, string address, int count)
    {
        ProcessResult r = ProcessRunner.Run("/sbin/ip", ["netns", "exec", netns, "ping", "-n", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.05", "-W", "2", address], timeout: TimeSpan.FromSeconds(30));
        List<double> rtts = r.Stdout.Split('\n')
            .Select(l => l.IndexOf(" time=", StringComparison.Ordinal) is int i and >= 0 ? l[(i + 6)..].Split(' ')[0] : null)
            .Where(t => t is not null)
            .Select(t => double.Parse(t!, CultureInfo.InvariantCulture))
            .ToList();
        Assert.HasCount(count, rtts, r.Describe());
        return rtts;
    }

    private static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static bool Alive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void AssertNothingLeft(string name)
    {
        string namespaces = ProcessRunner.Check("/sbin/ip", "netns", "list").Stdout;
        List<string> left = namespaces.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(name + "-", StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(left, $"namespaces left behind: {string.Join(", ", left)}");
        var emulators = new List<string>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("laneshim-linkemu", StringComparison.Ordinal) && cmdline.Contains($" {name}-", StringComparison.Ordinal))
                {
                    emulators.Add($"{Path.GetFileName(dir)}: {cmdline}");
                }
            }
            catch (IOException)
            {
            }
        }
        Assert.IsEmpty(emulators, $"emulators left behind:\n{string.Join('\n', emulators)}");
        Assert.IsFalse(Directory.Exists(LabState.DirectoryFor(name)), $"{LabState.DirectoryFor(name)} left behind");
    }
}
