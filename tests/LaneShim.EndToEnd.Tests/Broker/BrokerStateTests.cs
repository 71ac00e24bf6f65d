// BrokerStateTests.cs - a real broker on a real lab with SQLite state: kill -9, a lease expires while it is down, restart
// reconciles the routers (expired and unknown rules gone, live ones present), lists, renews and keeps link usage.
using Grpc.Core;
using System.Net;
using System.Text.RegularExpressions;
using Google.Protobuf;
using LaneShim.Lab.Lab;
using LaneShim.Grpc;
using LaneShim.Protocol.V1;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Broker;

[TestClass]
public sealed partial class BrokerStateTests
{
    // "long" has a virtual link of 300 Mbit/s: after the restart its live lease must still hold 200 of it, and of the
    // lab's 1 Gbit/s bypass link (edgea-edgeb) too, so "big" (900 Mbit/s) finds 800 free there.
    private const string Policy = """
        class short rate=100mbit rtt=10ms ttl=3s
        class long rate=200mbit rtt=10ms ttl=10m capacity=300mbit
        class big rate=900mbit rtt=10ms ttl=10m
        rule port=6001 -> short
        rule port=6002 -> long
        rule port=6003 -> big
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [TestMethod]
    public void KillNine_ExpiryWhileDown_Restart_ReconcilesRulesLeasesAndUsage()
    {
        Privileges.RequireRoot("network namespaces and nftables");
        string name = $"lsk{Environment.ProcessId % 1000}";
        string dir = Directory.CreateTempSubdirectory("laneshim-state-").FullName;
        try
        {
            ProcessResult up = ProcessRunner.Run(RepoPaths.Lab, ["lab", "up", "--name", name, "-q", "--force"], timeout: TimeSpan.FromSeconds(90));
            Assert.AreEqual(0, up.ExitCode, up.Describe());
            LabState lab = LabState.Load(name);
            string policy = Path.Combine(dir, "lanes.conf");
            File.WriteAllText(policy, Policy);
            string socket = Path.Combine(dir, "broker.sock");
            string db = Path.Combine(dir, "state", "broker.db");
            // --no-socket-proof: the test asks for flows of the lab's client namespace from its own process.
            string[] brokerArgs = ["broker", "--listen", $"unix:{socket}", "--no-socket-proof", "--policy", policy, "--topology", lab.TopologyFile,
                "--enforce", "linux-router", "--state", db, "--admission", "links", "--verbose"];
            var address = BrokerAddress.Parse($"unix:{socket}");
            string[] routers = [lab.Namespaces.EdgeA, lab.Namespaces.EdgeB];

            string shortId, longId;
            long shortExpiresMs;
            using (var broker = new BackgroundProcess(RepoPaths.Cli, brokerArgs))
            {
                broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
                using var client = BrokerChannel.Open(address);
                LaneGrant shortLane = client.RequestLane(Request(lab, 41001, 6001), Deadline);
                LaneGrant longLane = client.RequestLane(Request(lab, 41002, 6002), Deadline);
                Assert.IsTrue(shortLane.PerFlow && longLane.PerFlow, $"both lanes must be steered: {shortLane.Reason} / {longLane.Reason}");
                (shortId, longId) = (shortLane.LeaseId, longLane.LeaseId);
                shortExpiresMs = shortLane.ExpiresUnixMs;
                Assert.IsTrue(routers.All(r => HasPort(r, 41001) && HasPort(r, 41002)), Sets(routers));

                ProcessRunner.Check("/bin/kill", "-9", broker.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                broker.WaitUntil(() => broker.HasExited, TimeSpan.FromSeconds(10), "the broker killed");
            }

            // A rule nobody leased (left by some earlier broker) must go too.
            ProcessRunner.Check("/sbin/ip", "netns", "exec", lab.Namespaces.EdgeA, "nft", "add", "element", "inet", "laneshim", "lanes4",
                $"{{ {lab.ClientAddress} . 41999 . {lab.ServerAddress} . 6002 timeout 1h }}");
            // The short lease (3 s) expires while the broker is down; its kernel element lives 5 s longer (grace), so
            // only reconciliation can remove it before that.
            Poll.Past(DateTimeOffset.FromUnixTimeMilliseconds(shortExpiresMs).AddMilliseconds(500));
            Assert.IsTrue(routers.All(r => HasPort(r, 41001)), "the expired lease's rules should still be in the kernel before the restart\n" + Sets(routers));

            using (var broker = new BackgroundProcess(RepoPaths.Cli, brokerArgs))
            {
                broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
                string sets = Sets(routers);
                Assert.IsTrue(routers.All(r => !HasPort(r, 41001)), "the expired lease's rules survived the restart\n" + sets);
                Assert.IsFalse(HasPort(lab.Namespaces.EdgeA, 41999), "an unleased rule survived the restart\n" + sets);
                Assert.IsTrue(routers.All(r => HasPort(r, 41002)), "the live lease's rules are missing after the restart\n" + sets);
                StringAssert.Contains(broker.Stdout + broker.Stderr, "1 live leases restored, 1 steered");

                using var client = BrokerChannel.Open(address);
                Lease listed = client.ListLeases(new ListLeasesRequest(), Deadline).Leases.Single();
                Assert.AreEqual(longId, listed.LeaseId);
                Assert.AreEqual(200_000_000UL, listed.Grant.RateBps);

                LaneGrant renewed = client.RenewLane(new RenewRequest { LeaseId = longId }, Deadline);
                Assert.IsTrue(renewed.ExpiresUnixMs > DateTimeOffset.UtcNow.AddMinutes(9).ToUnixTimeMilliseconds());
                RpcException gone = Assert.ThrowsExactly<RpcException>(() => client.RenewLane(new RenewRequest { LeaseId = shortId }, Deadline));
                Assert.AreEqual(StatusCode.NotFound, gone.StatusCode);

                // Usage came back with the lease: 200 of 300 Mbit/s held, so a second 200 Mbit/s lane gets a counter-offer.
                RpcException full = Assert.ThrowsExactly<RpcException>(() => client.RequestLane(Request(lab, 41003, 6002), Deadline));
                Assert.AreEqual(StatusCode.ResourceExhausted, full.StatusCode);
                StringAssert.Contains(full.Status.Detail, "class long has 100 Mbit/s of 300 Mbit/s free");
                Assert.AreEqual("100000000", full.Trailers.GetValue("laneshim-offer-bps"), "the offer travels as a trailer");
                RpcException link = Assert.ThrowsExactly<RpcException>(() => client.RequestLane(Request(lab, 41004, 6003), Deadline));
                StringAssert.Contains(link.Status.Detail, "link edgea-edgeb has 800 Mbit/s of 1 Gbit/s free, 900 Mbit/s asked; offered 800 Mbit/s");
                var accept = Request(lab, 41003, 6002);
                accept.RateBps = 100_000_000;
                Assert.AreEqual(100_000_000UL, client.RequestLane(accept, Deadline).RateBps);

                client.ReleaseLane(new ReleaseRequest { LeaseId = longId }, Deadline);
                broker.WaitUntil(() => routers.All(r => !HasPort(r, 41002)), TimeSpan.FromSeconds(5), "the restored lease's rules removed at release");
            }
        }
        finally
        {
            ProcessRunner.Run(RepoPaths.Lab, ["lab", "down", "--name", name], timeout: TimeSpan.FromSeconds(60));
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void UnusableStateFile_FailsAtStartWithWhatToDo()
    {
        string dir = Directory.CreateTempSubdirectory("laneshim-badstate-").FullName;
        try
        {
            string blocker = Path.Combine(dir, "not-a-dir");
            File.WriteAllText(blocker, "");
            ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["broker", "--listen", $"unix:{Path.Combine(dir, "b.sock")}", "--rate", "1gbit",
                "--state", Path.Combine(blocker, "broker.db")], timeout: TimeSpan.FromSeconds(60));
            Assert.AreEqual(1, r.ExitCode, r.Describe());
            StringAssert.Contains(r.Stderr, $"cannot open the state file {Path.Combine(blocker, "broker.db")}");
            StringAssert.Contains(r.Stderr, "--state memory");

            ProcessResult both = ProcessRunner.Run(RepoPaths.Cli, ["broker", "--listen", $"unix:{Path.Combine(dir, "b.sock")}", "--rate", "1gbit",
                "--state", "memory", "--postgres", "Host=/nonexistent"], timeout: TimeSpan.FromSeconds(60));
            Assert.AreNotEqual(0, both.ExitCode);
            StringAssert.Contains(both.Stderr, "give --state or --postgres, not both");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static LaneRequest Request(LabState lab, int localPort, int remotePort) => new()
    {
        Flow = new Flow
        {
            Direction = Direction.Outbound,
            Protocol = 6,
            Local = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(lab.ClientAddress).GetAddressBytes()), Port = (uint)localPort },
            Remote = new Endpoint { Address = ByteString.CopyFrom(IPAddress.Parse(lab.ServerAddress).GetAddressBytes()), Port = (uint)remotePort },
        },
        Program = new LaneShim.Protocol.V1.Program { Path = "/usr/bin/iperf3", Pid = 1 },
    };

    private static string Set(string netns) =>
        ProcessRunner.Run("/sbin/ip", ["netns", "exec", netns, "nft", "list", "set", "inet", "laneshim", "lanes4"]).Stdout;

    private static bool HasPort(string netns, int port) => Regex.IsMatch(Set(netns), $@"\. {port}\b");

    private static string Sets(IEnumerable<string> routers) => string.Join("\n", routers.Select(r => $"{r}:\n{Set(r)}"));
}
