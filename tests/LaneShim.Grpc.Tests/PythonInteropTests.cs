// PythonInteropTests.cs - our client and host against python3-grpcio, a gRPC implementation nobody here wrote.
using Grpc.Core;
using LaneShim.Grpc.Tests.Http2;
using System.Text.Json;
using Google.Protobuf;
using LaneShim.Protocol.V1;
using LaneShim.Testing;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class PythonInteropTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    // Proto field names, as the python side prints them; also accepted by both JSON parsers.
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    [TestInitialize]
    public void RequirePython() => PythonGrpcPeer.RequireGrpcio();

    // ---- A: python client -> our GrpcHost ----

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task PythonClient_RequestLaneOnOurHost_GrantFieldsArrive(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        LaneRequest? seen = null;
        host.Broker.OnRequestLane = (request, _) =>
        {
            seen = request;
            return Task.FromResult(SampleMessages.GrantFor(request));
        };
        LaneRequest sent = SampleMessages.Request();

        ProcessResult r = await Task.Run(() => PythonGrpcPeer.Client(host.Address.ToString(), "RequestLane", Json.Format(sent)));

        Assert.AreEqual(0, r.ExitCode, r.Describe());
        Assert.AreEqual(sent, seen, "the host parsed a different request than python sent");
        using JsonDocument grant = JsonDocument.Parse(r.Stdout);
        JsonElement g = grant.RootElement;
        Assert.AreEqual("lease-4242", g.GetProperty("lease_id").GetString());
        Assert.AreEqual("10000000000", g.GetProperty("rate_bps").GetString());
        Assert.AreEqual("134217728", g.GetProperty("sndbuf_bytes").GetString());
        Assert.AreEqual("BUFFER_MODE_FORCE", g.GetProperty("sndbuf_mode").GetString());
        Assert.AreEqual("bbr", g.GetProperty("congestion").GetString());
        Assert.AreEqual(80000, g.GetProperty("rtt_us").GetInt32());
        Assert.AreEqual(SampleMessages.GrantFor(sent).Reason, g.GetProperty("reason").GetString());
        Assert.AreEqual(SampleMessages.GrantFor(sent), JsonParser.Default.Parse<LaneGrant>(r.Stdout), "python's view of the grant differs");
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task PythonClient_PermissionDeniedFromOurHost_SeesCodeAndDetails(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);

        ProcessResult r = await Task.Run(() => PythonGrpcPeer.Client(host.Address.ToString(), "RenewLane", """{"lease_id": "l-1"}"""));

        Assert.AreEqual(1, r.ExitCode, r.Describe());
        Assert.AreEqual($"STATUS PERMISSION_DENIED {TestLaneBroker.DenialDetail}", r.Stdout.Trim());
    }

    [TestMethod]
    public async Task PythonClient_HangingHandlerOnOurHost_DeadlineExceeded()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");

        ProcessResult r = await Task.Run(() => PythonGrpcPeer.Client(host.Address.ToString(), "ReleaseLane", "{}", timeoutSeconds: 0.2));

        Assert.AreEqual(1, r.ExitCode, r.Describe());
        StringAssert.StartsWith(r.Stdout, "STATUS DEADLINE_EXCEEDED");
    }

    // ---- B: our GrpcClient -> python grpcio server ----

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task OurClient_RequestLaneOnPythonServer_FieldsArriveBothWays(string transport)
    {
        using var dir = new TestDirectory();
        LaneRequest sent = SampleMessages.Request();
        LaneGrant expected = SampleMessages.GrantFor(sent);
        (BackgroundProcess server, BrokerAddress address) = PythonGrpcPeer.StartServer(Listen(transport, dir), "RequestLane=reply:" + Json.Format(expected));
        using (server)
        using (var client = DirectCalls.Open(address))
        {
            LaneGrant grant = await client.RequestLaneAsync(sent, Generous);
            LaneGrant again = GrpcAssert.OnOwnThread(() => client.RequestLane(sent, Generous));

            Assert.AreEqual(expected, grant);
            Assert.AreEqual(expected, again);
            string[] requests = PythonGrpcPeer.Requests(server, 2);
            using JsonDocument seen = JsonDocument.Parse(requests[0]);
            JsonElement root = seen.RootElement;
            Assert.AreEqual("RequestLane", root.GetProperty("method").GetString());
            Assert.AreEqual(sent, JsonParser.Default.Parse<LaneRequest>(root.GetProperty("request").GetRawText()), "python parsed a different request");
            // Grpc.Net.Client names itself (as it does on SocketsHttpHandler); the direct handler must carry it unchanged.
            StringAssert.StartsWith(root.GetProperty("user_agent").GetString(), $"grpc-dotnet/{GrpcDotnetVersion} (.NET ");
            double remaining = root.GetProperty("timeout_remaining").GetDouble();
            Assert.IsTrue(remaining > 0 && remaining <= Generous.TotalSeconds, $"python saw {remaining} s left: grpc-timeout did not arrive intact");
        }
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task OurClient_PythonAbortsResourceExhausted_SeesCodeAndMessage(string transport)
    {
        const string why = "lane 'dmz' has 200 of 1000 Mbit/s free; offered 200 → 100% ✓";
        using var dir = new TestDirectory();
        (BackgroundProcess server, BrokerAddress address) = PythonGrpcPeer.StartServer(Listen(transport, dir), "RenewLane=abort:RESOURCE_EXHAUSTED:" + why);
        using (server)
        using (var client = DirectCalls.Open(address))
        {
            (RpcException error, _) = await GrpcAssert.FailsAsync(
                () => client.RenewLaneAsync(new RenewRequest { LeaseId = "l-1" }, Generous), StatusCode.ResourceExhausted);
            Assert.AreEqual(why, error.Status.Detail);

            (error, _) = GrpcAssert.Fails(() => client.RenewLane(new RenewRequest { LeaseId = "l-1" }, Generous), StatusCode.ResourceExhausted);
            Assert.AreEqual(why, error.Status.Detail);
        }
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task OurClient_PythonSleepsPastDeadline_DeadlineExceededWithinDeadline(string transport)
    {
        using var dir = new TestDirectory();
        (BackgroundProcess server, BrokerAddress address) = PythonGrpcPeer.StartServer(Listen(transport, dir), "ReleaseLane=sleep:5", "ReportFlow=reply:{}");
        using (server)
        using (var client = DirectCalls.Open(address))
        {
            await client.ReportFlowAsync(new FlowReport(), Generous); // connection up: measure the deadline, not the handshake
            TimeSpan deadline = TimeSpan.FromMilliseconds(100);
            for (int i = 0; i < 3; i++)
            {
                (_, TimeSpan elapsed) = await GrpcAssert.FailsAsync(
                    () => client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = "slow" }, deadline), StatusCode.DeadlineExceeded);
                GrpcAssert.WithinDeadline(elapsed, deadline, TimeSpan.FromMilliseconds(20), i);
                (_, elapsed) = GrpcAssert.Fails(() => client.ReleaseLane(new ReleaseRequest { LeaseId = "slow" }, deadline), StatusCode.DeadlineExceeded);
                GrpcAssert.WithinDeadline(elapsed, deadline, TimeSpan.FromMilliseconds(20), i);
            }
        }
    }

    [TestMethod]
    public async Task OurClient_MethodPythonDoesNotServe_Unimplemented()
    {
        using var dir = new TestDirectory();
        (BackgroundProcess server, BrokerAddress address) = PythonGrpcPeer.StartServer(Listen("unix", dir), "ReportFlow=reply:{}");
        using (server)
        using (var client = DirectCalls.Open(address))
        {
            await GrpcAssert.FailsAsync(() => client.ListLeasesAsync(new ListLeasesRequest(), Generous), StatusCode.Unimplemented);
        }
    }

    // The informational version Grpc.Net.Client puts in its user-agent (e.g. 2.85.0), without any "+commit" suffix.
    private static string GrpcDotnetVersion =>
        typeof(global::Grpc.Net.Client.GrpcChannel).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];

    private static string Listen(string transport, TestDirectory dir) => transport == "unix"
        ? "unix:" + dir.File("py.sock")
        : "tcp:127.0.0.1:0";
}
