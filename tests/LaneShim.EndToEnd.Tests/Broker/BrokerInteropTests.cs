// BrokerInteropTests.cs - a gRPC client nobody here wrote (Debian's python3-grpcio) drives a real `laneshim broker` process.
using System.Text.Json;
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.EndToEnd.Tests.Broker;

[TestClass]
public sealed class BrokerInteropTests
{
    private const string Policy = """
        # interop test policy
        class dmz rate=1gbit rtt=40ms cc=cubic dscp=46
        deny dst=192.0.2.0/24 reason="not to the printers"
        rule dst=10.20.0.0/16 port=5201 -> dmz
        """;

    private static string RequestJson(string remote, int port) => JsonSerializer.Serialize(new
    {
        flow = new
        {
            remote = new { address = Convert.ToBase64String(System.Net.IPAddress.Parse(remote).GetAddressBytes()), port },
            direction = "DIRECTION_OUTBOUND",
            protocol = 6,
        },
        program = new { path = "/usr/bin/iperf3", pid = 4242, uid = 1000 },
        host = new { rmemMax = "4194304", wmemMax = "4194304", tcpRmemMax = "6291456", tcpWmemMax = "4194304", privileged = true, congestionAvailable = new[] { "reno", "cubic", "bbr" } },
    });

    [TestMethod]
    public void PythonGrpcio_DrivesRealBroker_GrantsDeniesListsAndReleases()
    {
        Privileges.RequireProgram(RepoPaths.SystemPython);
        string dir = Directory.CreateTempSubdirectory("laneshim-interop-").FullName;
        string policy = Path.Combine(dir, "lanes.conf");
        File.WriteAllText(policy, Policy);
        string socket = Path.Combine(dir, "broker.sock");
        // The python peer names no socket of its own: this test is about the wire, so the socket proof is off.
        using var broker = new BackgroundProcess(RepoPaths.Cli, ["broker", "--listen", $"unix:{socket}", "--policy", policy, "--no-socket-proof"]);
        try
        {
            broker.WaitForOutput("listening on", TimeSpan.FromSeconds(30));
            string target = $"unix:{socket}";

            ProcessResult granted = Python(target, "RequestLane", RequestJson("10.20.1.2", 5201));
            Assert.AreEqual(0, granted.ExitCode, granted.Describe());
            JsonElement grant = JsonDocument.Parse(granted.Stdout).RootElement;
            Assert.AreEqual("dmz", grant.GetProperty("lane_class").GetString(), granted.Stdout);
            Assert.AreEqual("1000000000", grant.GetProperty("rate_bps").GetString(), granted.Stdout);
            Assert.AreEqual("5000000", grant.GetProperty("bdp_bytes").GetString(), granted.Stdout);
            Assert.AreEqual("5000000", grant.GetProperty("sndbuf_bytes").GetString(), granted.Stdout);
            Assert.AreEqual("BUFFER_MODE_FORCE", grant.GetProperty("sndbuf_mode").GetString(), granted.Stdout);
            Assert.AreEqual("cubic", grant.GetProperty("congestion").GetString(), granted.Stdout);
            Assert.AreEqual("125000000", grant.GetProperty("pacing_rate").GetString(), granted.Stdout);
            Assert.AreEqual(46, grant.GetProperty("dscp").GetInt32(), granted.Stdout);
            string leaseId = grant.GetProperty("lease_id").GetString()!;
            Assert.AreEqual(32, leaseId.Length, granted.Stdout);

            ProcessResult denied = Python(target, "RequestLane", RequestJson("192.0.2.7", 5201));
            Assert.AreEqual(1, denied.ExitCode, denied.Describe());
            Assert.StartsWith("STATUS PERMISSION_DENIED", denied.Stdout.Trim(), denied.Describe());
            Assert.Contains("not to the printers", denied.Stdout, denied.Describe());
            Assert.Contains("lanes.conf:3", denied.Stdout, denied.Describe());

            ProcessResult unmatched = Python(target, "RequestLane", RequestJson("10.99.0.1", 22));
            Assert.StartsWith("STATUS NOT_FOUND", unmatched.Stdout.Trim(), unmatched.Describe());

            ProcessResult invalid = Python(target, "RequestLane", """{"flow": {"remote": {"address": "AQID", "port": 5201}}}""");
            Assert.StartsWith("STATUS INVALID_ARGUMENT", invalid.Stdout.Trim(), invalid.Describe());

            ProcessResult listed = Python(target, "ListLeases", "{}");
            Assert.AreEqual(0, listed.ExitCode, listed.Describe());
            Assert.Contains(leaseId, listed.Stdout, listed.Describe());

            ProcessResult released = Python(target, "ReleaseLane", JsonSerializer.Serialize(new { lease_id = leaseId }));
            Assert.AreEqual(0, released.ExitCode, released.Describe());
            ProcessResult again = Python(target, "ReleaseLane", JsonSerializer.Serialize(new { lease_id = leaseId }));
            Assert.StartsWith("STATUS NOT_FOUND", again.Stdout.Trim(), again.Describe());
            Assert.DoesNotContain(leaseId, Python(target, "ListLeases", "{}").Stdout);
        }
        finally
        {
            broker.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static ProcessResult Python(string target, string method, string json) =>
        ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "interop", "grpc_peer.py"), "client", "--target", target, "--method", method, "--json", json],
            new Dictionary<string, string?> { ["PYTHONPATH"] = null, ["PYTHONHOME"] = null }, TimeSpan.FromSeconds(60));
}
