// LeaseOwnershipTests.cs - another uid (python3-grpcio as nobody) cannot renew, release or report a lease it does not own, nor see it.
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.Broker.Tests.Identity;

[TestClass]
public sealed class LeaseOwnershipTests
{
    private const int N = 100;
    private const string Policy = """
        class dmz rate=1gbit rtt=40ms ttl=10m
        rule dst=any -> dmz
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly string Peer = RepoPaths.File("tests", "interop", "identity_peer.py");

    [TestMethod]
    public async Task OtherUid_RenewReleaseReportOfRootLease_ZeroOfHundredEach_OwnerStillCan()
    {
        Privileges.RequireRoot("setpriv to another uid; pidfd_getfd");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        Privileges.RequireProgram("/usr/bin/setpriv");
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        LaneGrant grant = await broker.Client.RequestLaneAsync(BrokerUnderTest.RequestFor(socket), Deadline);
        string id = grant.LeaseId;

        string descriptor = WriteDescriptor(broker);

        string lease = JsonSerializer.Serialize(new { lease_id = id });
        JsonElement result = AsNobody(broker,
            ["--repeat", N.ToString(), "--call", $"RenewLane={lease}", "--call", $"ReleaseLane={lease}", "--call", $"ReportFlow={lease}"]);
        Assert.AreEqual(3 * N, result.GetProperty("calls").GetInt32(), result.ToString());
        Assert.AreEqual(0, result.GetProperty("ok").GetInt32(), result.ToString());
        Assert.AreEqual(3 * N, result.GetProperty("codes").GetProperty("PERMISSION_DENIED").GetInt32(), result.ToString());
        StringAssert.Contains(result.GetProperty("details").GetProperty("PERMISSION_DENIED").GetString(), "belongs to uid 0, not to uid 65534");

        // nobody sees none of root's leases, and cannot get a lane for a socket it does not hold (the broker's own fd 0..N are not its).
        JsonElement listed = AsNobody(broker, ["--call", "ListLeases={}"]);
        Assert.AreEqual(1, listed.GetProperty("ok").GetInt32(), listed.ToString());
        Assert.DoesNotContain(id, listed.GetProperty("first_ok").ToString());
        string request = JsonSerializer.Serialize(new
        {
            flow = new { local = new { address = "fwAAAQ==", port = ((IPEndPoint)socket.LocalEndPoint!).Port }, remote = new { address = "CgkJCQ==", port = 5201 }, direction = "DIRECTION_OUTBOUND", protocol = 6 },
            program = new { path = "/usr/bin/iperf3", pid = Environment.ProcessId, uid = 0, fd = (int)socket.Handle },
        });
        JsonElement stolen = AsNobody(broker, ["--repeat", N.ToString(), "--call", $"RequestLane={request}"]);
        Assert.AreEqual(0, stolen.GetProperty("ok").GetInt32(), stolen.ToString());
        Assert.AreEqual(N, stolen.GetProperty("codes").GetProperty("PERMISSION_DENIED").GetInt32(), stolen.ToString());

        // The owner's lease is intact: root renews and releases it.
        LaneGrant renewed = await broker.Client.RenewLaneAsync(new RenewRequest { LeaseId = id }, Deadline);
        Assert.AreEqual(id, renewed.LeaseId);
        await broker.Client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = id }, Deadline);

        await broker.StopAsync();
        string[] audit = broker.AuditLines();
        Assert.AreEqual(3 * N, audit.Count(l => l.Contains("\"verdict\":\"not-owner\"", StringComparison.Ordinal) && l.Contains("\"uid\":65534", StringComparison.Ordinal)));
        Assert.AreEqual(N, audit.Count(l => l.Contains("\"verdict\":\"proof-failed\"", StringComparison.Ordinal) && l.Contains("\"uid\":65534", StringComparison.Ordinal)));
    }

    [TestMethod]
    public async Task CallerThatChangedUid_AfterConnecting_IsDeniedItsNewSockets()
    {
        Privileges.RequireRoot("setresuid from root");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);
        string descriptor = WriteDescriptor(broker);

        ProcessResult run = ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "interop", "identity_setuid.py"), "--target", $"unix:{broker.Socket}", "--descriptor-set", descriptor],
            new Dictionary<string, string?> { ["PYTHONPATH"] = null, ["PYTHONHOME"] = null }, TimeSpan.FromSeconds(120));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        JsonElement result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;

        Assert.AreEqual("OK", result.GetProperty("before").GetString(), result.ToString());
        Assert.AreEqual("PERMISSION_DENIED", result.GetProperty("after").GetString(), result.ToString());
        StringAssert.Contains(result.GetProperty("after_detail").GetString(), "now runs as uid 65534 (effective 65534), not as the caller's uid 0");
    }

    [TestMethod]
    public async Task RootDaemonThatDroppedOnlyItsEffectiveUid_IsGrantedAsThatUid()
    {
        // xrootd -R nobody: real uid 0, effective uid nobody; SO_PEERCRED says nobody, and the proof accepts it as nobody.
        Privileges.RequireRoot("setresuid from root");
        Privileges.RequireProgram(RepoPaths.SystemPython);
        await using BrokerUnderTest broker = await BrokerUnderTest.StartAsync(Policy);
        string descriptor = WriteDescriptor(broker);

        ProcessResult run = ProcessRunner.Run(RepoPaths.SystemPython, [RepoPaths.File("tests", "interop", "identity_setuid.py"), "--target", $"unix:{broker.Socket}",
            "--descriptor-set", descriptor, "--effective-only"], new Dictionary<string, string?> { ["PYTHONPATH"] = null, ["PYTHONHOME"] = null }, TimeSpan.FromSeconds(120));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        JsonElement result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;

        Assert.AreEqual("OK", result.GetProperty("effective_only").GetString(), result.ToString());
        Assert.AreEqual(65534u, broker.Server.Service.Leases.List().Single(l => l.Program.Path == "/usr/bin/python3").Program.Uid);
    }

    // The broker's gRPC descriptor set, readable by every uid, for the python peers.
    private static string WriteDescriptor(BrokerUnderTest broker)
    {
        string descriptor = Path.Combine(broker.Directory, "broker.pb");
        ProcessResult made = ProcessRunner.Run(RepoPaths.SystemPython, [Peer, "--write-descriptor", descriptor], timeout: TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, made.ExitCode, made.Describe());
        File.SetUnixFileMode(descriptor, (UnixFileMode)0b110_100_100);
        return descriptor;
    }

    private static JsonElement AsNobody(BrokerUnderTest broker, string[] args)
    {
        ProcessResult run = ProcessRunner.Run("/usr/bin/setpriv",
            ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--", RepoPaths.SystemPython, Peer,
             "--descriptor-set", Path.Combine(broker.Directory, "broker.pb"), "--target", $"unix:{broker.Socket}", .. args],
            new Dictionary<string, string?> { ["PYTHONPATH"] = null, ["PYTHONHOME"] = null, ["HOME"] = "/tmp" }, TimeSpan.FromSeconds(120));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        return JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
    }
}
