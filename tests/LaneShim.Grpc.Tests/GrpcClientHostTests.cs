// GrpcClientHostTests.cs - GrpcClient against an in-process GrpcHost over a real Unix socket and loopback TCP.
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LaneShim.Broker.Hosting;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcClientHostTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DeadlineSlack = TimeSpan.FromMilliseconds(15);

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task RequestLane_OkRoundTrip_ReturnsGrantBuiltFromRequest(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        LaneShim.Protocol.V1.LaneRequest? seen = null;
        host.Broker.RequestLane = (request, _) =>
        {
            seen = request;
            return Task.FromResult(SampleMessages.GrantFor(request));
        };
        using var client = new LaneBrokerClient(host.Address);

        LaneRequest request = SampleMessages.Request();
        LaneGrant grant = await client.RequestLaneAsync(request, Generous);

        Assert.AreEqual(request, seen, "the handler saw a different request");
        Assert.AreEqual(SampleMessages.GrantFor(request), grant);
        Assert.AreEqual("lease-4242", grant.LeaseId);
        Assert.AreEqual("bbr", grant.Congestion);
        Assert.AreEqual(BufferMode.Force, grant.SndbufMode);
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task RequestLane_SyncForm_ReturnsSameGrant(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using var client = new LaneBrokerClient(host.Address);

        LaneGrant grant = GrpcAssert.OnOwnThread(() => client.RequestLane(SampleMessages.Request(), Generous));

        Assert.AreEqual(SampleMessages.GrantFor(SampleMessages.Request()), grant);
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task Handler_ThrowsPermissionDenied_ClientSeesCodeAndDetail(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using var client = new LaneBrokerClient(host.Address);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.RenewLaneAsync(new RenewRequest { LeaseId = "x" }, Generous), GrpcStatusCode.PermissionDenied);

        Assert.AreEqual(TestLaneBroker.DenialDetail, error.Detail);
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task Call_UnknownMethod_Unimplemented(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using GrpcClient client = host.Client();

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync("/laneshim.v1.LaneBroker/NoSuchMethod", new ListLeasesRequest(), ListLeasesReply.Parser, Generous),
            GrpcStatusCode.Unimplemented);

        StringAssert.Contains(error.Detail, "/laneshim.v1.LaneBroker/NoSuchMethod");
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task HangingHandler_AsyncCall_DeadlineExceededWithinDeadline(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using var client = new LaneBrokerClient(host.Address);
        await client.ListLeasesAsync(new ListLeasesRequest(), Generous); // connection up: measure the deadline, not the handshake
        TimeSpan deadline = TimeSpan.FromMilliseconds(50);

        for (int i = 0; i < 5; i++)
        {
            (_, TimeSpan elapsed) = await GrpcAssert.FailsAsync(
                () => client.ReleaseLaneAsync(new ReleaseRequest { LeaseId = "hang" }, deadline), GrpcStatusCode.DeadlineExceeded);
            GrpcAssert.WithinDeadline(elapsed, deadline, DeadlineSlack, i);
            Assert.IsTrue(elapsed >= deadline, $"gave up early, after {elapsed.TotalMilliseconds:0.0} ms");
        }
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task HangingHandler_SyncCall_DeadlineExceededWithinDeadline(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using var client = new LaneBrokerClient(host.Address);
        GrpcAssert.OnOwnThread(() => client.ListLeases(new ListLeasesRequest(), Generous));
        TimeSpan deadline = TimeSpan.FromMilliseconds(20);

        for (int i = 0; i < 5; i++)
        {
            (_, TimeSpan elapsed) = GrpcAssert.Fails(
                () => client.ReleaseLane(new ReleaseRequest { LeaseId = "hang" }, deadline), GrpcStatusCode.DeadlineExceeded);
            GrpcAssert.WithinDeadline(elapsed, deadline, DeadlineSlack, i);
        }
    }

    [TestMethod]
    public async Task HandlerIgnoringItsToken_ServerStillAnswersDeadlineExceeded()
    {
        // A handler that never looks at its token: the server must answer by the deadline itself.
        var release = new TaskCompletionSource<ReleaseReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using RunningHost host = await RunningHost.StartAsync("unix");
        host.Broker.ReleaseLane = (_, _) => release.Task;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(host.Address.UnixPath!), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + LaneBrokerMethods.ReleaseLane)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(GrpcFraming.Encode(new ReleaseRequest { LeaseId = "x" })),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        request.Headers.TryAddWithoutValidation("grpc-timeout", "100m");

        using HttpResponseMessage response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        string? status = response.Headers.TryGetValues("grpc-status", out var h) ? h.First()
            : response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First() : null;
        Assert.AreEqual(((int)GrpcStatusCode.DeadlineExceeded).ToString(), status);
        release.SetResult(new ReleaseReply());
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task Handler_SeesDeadlineFromGrpcTimeout(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        DateTimeOffset? seen = null;
        host.Broker.ReportFlow = (_, context) =>
        {
            seen = context.Deadline;
            return Task.FromResult(new ReportReply());
        };
        using var client = new LaneBrokerClient(host.Address);

        DateTimeOffset before = DateTimeOffset.UtcNow;
        await client.ReportFlowAsync(new FlowReport(), TimeSpan.FromSeconds(30));

        Assert.IsNotNull(seen, "no deadline reached the handler");
        TimeSpan left = seen.Value - before;
        Assert.IsTrue(left > TimeSpan.FromSeconds(29) && left <= TimeSpan.FromSeconds(30.1), $"deadline {left} after the call started");
    }

    [TestMethod]
    public async Task ServerNotRunning_Unix_UnavailableQuickly()
    {
        using var dir = new TestDirectory();
        using var client = new GrpcClient(BrokerAddress.Unix(dir.File("nobody.sock")));

        (GrpcException error, TimeSpan elapsed) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.ListLeases, new ListLeasesRequest(), ListLeasesReply.Parser, TimeSpan.FromSeconds(5)),
            GrpcStatusCode.Unavailable);

        Assert.IsTrue(elapsed < TimeSpan.FromMilliseconds(500), $"took {elapsed.TotalMilliseconds:0} ms to notice nobody listens");
        StringAssert.Contains(error.Detail, dir.File("nobody.sock"));
    }

    [TestMethod]
    public async Task ServerNotRunning_Tcp_UnavailableQuickly()
    {
        int port = FreeTcpPort();
        using var client = new GrpcClient(BrokerAddress.Tcp("127.0.0.1", port));

        (_, TimeSpan elapsed) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.ListLeases, new ListLeasesRequest(), ListLeasesReply.Parser, TimeSpan.FromSeconds(5)),
            GrpcStatusCode.Unavailable);

        Assert.IsTrue(elapsed < TimeSpan.FromMilliseconds(500), $"took {elapsed.TotalMilliseconds:0} ms to notice nobody listens");
    }

    [TestMethod]
    public async Task ServerNotRunning_SyncCall_Unavailable()
    {
        using var dir = new TestDirectory();
        using var client = new LaneBrokerClient(BrokerAddress.Unix(dir.File("nobody.sock")));

        GrpcAssert.Fails(() => client.ListLeases(new ListLeasesRequest(), TimeSpan.FromSeconds(5)), GrpcStatusCode.Unavailable);
        await Task.CompletedTask;
    }

    [TestMethod]
    public async Task ServerRestarted_NextCallReconnects()
    {
        await using RunningHost first = await RunningHost.StartAsync("unix");
        using var client = new LaneBrokerClient(first.Address);
        await client.ListLeasesAsync(new ListLeasesRequest(), Generous);
        await first.Host.StopAsync();

        await GrpcAssert.FailsAsync(() => client.ListLeasesAsync(new ListLeasesRequest(), Generous), GrpcStatusCode.Unavailable);

        await using GrpcHost second = await GrpcHost.StartAsync(first.Address, first.Broker.Definition());
        ListLeasesReply reply = await client.ListLeasesAsync(new ListLeasesRequest(), Generous);
        Assert.IsNotNull(reply);
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task OversizeResponse_ResourceExhausted(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        host.Broker.RequestLane = (request, _) =>
        {
            LaneGrant grant = SampleMessages.GrantFor(request);
            grant.Reason = new string('x', 64 * 1024);
            return Task.FromResult(grant);
        };
        using var client = new LaneBrokerClient(host.Address, new GrpcClientOptions { MaxReceiveMessageSize = 16 * 1024 });

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.RequestLaneAsync(SampleMessages.Request(), Generous), GrpcStatusCode.ResourceExhausted);

        StringAssert.Contains(error.Detail, "16384");
        // The connection survives an abandoned oversize answer.
        host.Broker.RequestLane = (request, _) => Task.FromResult(SampleMessages.GrantFor(request));
        Assert.AreEqual("lease-4242", (await client.RequestLaneAsync(SampleMessages.Request(), Generous)).LeaseId);
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task OversizeRequest_ServerAnswersResourceExhausted(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport, options: new GrpcHostOptions { MaxReceiveMessageSize = 1024 });
        using var client = new LaneBrokerClient(host.Address);
        LaneRequest request = SampleMessages.Request();
        request.Program.Path = "/" + new string('p', 4096);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(() => client.RequestLaneAsync(request, Generous), GrpcStatusCode.ResourceExhausted);

        StringAssert.Contains(error.Detail, "1024");
    }

    [TestMethod]
    public async Task MalformedRequest_ServerAnswersInternal()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        using GrpcClient client = host.Client();
        // Field 1 (flow) holds bytes 0x05 0x01: tag 0 is never valid protobuf.
        var garbage = new BytesValue { Value = ByteString.CopyFrom(0x05, 0x01) };

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RequestLane, garbage, LaneGrant.Parser, Generous), GrpcStatusCode.Internal);

        StringAssert.StartsWith(error.Detail, "malformed request:");
    }

    [TestMethod]
    public async Task Handler_ThrowsUnexpectedException_InternalWithoutDetails()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        host.Broker.ReportFlow = (_, _) => throw new InvalidOperationException("secret stack detail");
        using var client = new LaneBrokerClient(host.Address);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(() => client.ReportFlowAsync(new FlowReport(), Generous), GrpcStatusCode.Internal);

        Assert.AreEqual("internal error", error.Detail);
    }

    [TestMethod]
    public async Task UnixCaller_HandlerSeesOwnPidUidGid()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        ServerCallContext? seen = null;
        host.Broker.ListLeases = (_, context) =>
        {
            seen = context;
            return Task.FromResult(new ListLeasesReply());
        };
        using var client = new LaneBrokerClient(host.Address);

        await client.ListLeasesAsync(new ListLeasesRequest(), Generous);

        Assert.IsNotNull(seen);
        Assert.IsNotNull(seen.Credentials, "SO_PEERCRED was not available to the handler");
        Assert.AreEqual(new PeerCredentials(Environment.ProcessId, Native.GetEuid(), Native.GetEgid()), seen.Credentials.Value);
        Assert.AreEqual("unix:", seen.Peer);
        Assert.AreEqual(LaneBrokerMethods.ListLeases, seen.Method);
    }

    [TestMethod]
    public async Task TcpCaller_NoCredentialsAndIpPeer()
    {
        await using RunningHost host = await RunningHost.StartAsync("tcp");
        ServerCallContext? seen = null;
        host.Broker.ListLeases = (_, context) =>
        {
            seen = context;
            return Task.FromResult(new ListLeasesReply());
        };
        using var client = new LaneBrokerClient(host.Address);

        await client.ListLeasesAsync(new ListLeasesRequest(), Generous);

        Assert.IsNotNull(seen);
        Assert.IsNull(seen.Credentials);
        StringAssert.StartsWith(seen.Peer, "ipv4:127.0.0.1:");
    }

    [TestMethod]
    [DataRow("unix")]
    [DataRow("tcp")]
    public async Task ManyConcurrentCalls_AllSucceedOnOneClient(string transport)
    {
        await using RunningHost host = await RunningHost.StartAsync(transport);
        using var client = new LaneBrokerClient(host.Address);

        LaneGrant[] grants = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
        {
            LaneRequest request = SampleMessages.Request();
            request.Program.Pid = (uint)i;
            return client.RequestLaneAsync(request, Generous);
        }));

        CollectionAssert.AreEqual(Enumerable.Range(0, 200).Select(i => "lease-" + i).ToArray(), grants.Select(g => g.LeaseId).ToArray());
    }

    [TestMethod]
    public async Task CallerCancels_Cancelled()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        using var client = new LaneBrokerClient(host.Address);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(30));

        (_, TimeSpan elapsed) = await GrpcAssert.FailsAsync(
            () => client.ReleaseLaneAsync(new ReleaseRequest(), Generous, cts.Token), GrpcStatusCode.Cancelled);

        Assert.IsTrue(elapsed < TimeSpan.FromSeconds(1), $"cancellation took {elapsed.TotalMilliseconds:0} ms");
    }

    [TestMethod]
    public async Task Call_ZeroOrNegativeDeadline_DeadlineExceededWithoutSending()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        int calls = 0;
        host.Broker.ListLeases = (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(new ListLeasesReply());
        };
        using var client = new LaneBrokerClient(host.Address);

        await GrpcAssert.FailsAsync(() => client.ListLeasesAsync(new ListLeasesRequest(), TimeSpan.Zero), GrpcStatusCode.DeadlineExceeded);
        GrpcAssert.Fails(() => client.ListLeases(new ListLeasesRequest(), TimeSpan.FromMilliseconds(-5)), GrpcStatusCode.DeadlineExceeded);

        Assert.AreEqual(0, calls);
    }

    [TestMethod]
    public async Task Call_InfiniteDeadline_Succeeds()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        DateTimeOffset? seen = DateTimeOffset.MinValue;
        host.Broker.ListLeases = (_, context) =>
        {
            seen = context.Deadline;
            return Task.FromResult(new ListLeasesReply());
        };
        using var client = new LaneBrokerClient(host.Address);

        await client.ListLeasesAsync(new ListLeasesRequest(), Timeout.InfiniteTimeSpan);

        Assert.IsNull(seen, "no grpc-timeout should be sent without a deadline");
    }

    [TestMethod]
    public async Task DisposedClient_Unavailable()
    {
        await using RunningHost host = await RunningHost.StartAsync("unix");
        var client = new LaneBrokerClient(host.Address);
        client.Dispose();

        await GrpcAssert.FailsAsync(() => client.ListLeasesAsync(new ListLeasesRequest(), Generous), GrpcStatusCode.Unavailable);
    }

    [TestMethod]
    public async Task Call_InvalidArguments_InvalidArgumentNotArgumentException()
    {
        using var dir = new TestDirectory();
        using var client = new GrpcClient(BrokerAddress.Unix(dir.File("x.sock")));

        await GrpcAssert.FailsAsync(() => client.CallUnaryAsync("no-slash", new ListLeasesRequest(), ListLeasesReply.Parser, Generous), GrpcStatusCode.InvalidArgument);
        await GrpcAssert.FailsAsync(() => client.CallUnaryAsync<ListLeasesRequest, ListLeasesReply>(LaneBrokerMethods.ListLeases, null!, ListLeasesReply.Parser, Generous), GrpcStatusCode.InvalidArgument);
        GrpcAssert.Fails(() => client.CallUnary<ListLeasesRequest, ListLeasesReply>(LaneBrokerMethods.ListLeases, new ListLeasesRequest(), null!, Generous), GrpcStatusCode.InvalidArgument);
    }

    private static int FreeTcpPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
