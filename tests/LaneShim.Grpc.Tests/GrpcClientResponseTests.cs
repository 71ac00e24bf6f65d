// GrpcClientResponseTests.cs - GrpcClient against scripted HTTP responses: what it sends, how it reads status, and its backstop.
using System.Diagnostics;
using System.Net;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests;

[TestClass]
public sealed class GrpcClientResponseTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private static readonly BrokerAddress Unix = BrokerAddress.Unix("/run/test/broker.sock");

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Request_CarriesGrpcHeadersAndOneFrame()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(Ok(new ReleaseReply())));
        using var client = new GrpcClient(Unix, null, handler);
        var request = new ReleaseRequest { LeaseId = "lease-9" };

        await client.CallUnaryAsync(LaneBrokerMethods.ReleaseLane, request, ReleaseReply.Parser, TimeSpan.FromMilliseconds(1500));

        HttpRequestMessage sent = handler.LastRequest!;
        Assert.AreEqual(HttpMethod.Post, sent.Method);
        Assert.AreEqual(HttpVersion.Version20, sent.Version);
        Assert.AreEqual(HttpVersionPolicy.RequestVersionExact, sent.VersionPolicy);
        Assert.AreEqual("http://localhost/laneshim.v1.LaneBroker/ReleaseLane", sent.RequestUri!.ToString());
        Assert.AreEqual("application/grpc", sent.Content!.Headers.GetValues("Content-Type").Single());
        Assert.AreEqual("trailers", sent.Headers.GetValues("TE").Single());
        Assert.AreEqual("laneshim-grpc/1", sent.Headers.GetValues("User-Agent").Single());
        Assert.IsTrue(GrpcTimeout.TryParse(sent.Headers.GetValues("grpc-timeout").Single(), out TimeSpan timeout));
        Assert.IsTrue(timeout > TimeSpan.FromMilliseconds(1400) && timeout <= TimeSpan.FromMilliseconds(1500), timeout.ToString());
        CollectionAssert.AreEqual(GrpcFraming.Encode(request), handler.LastBody);
    }

    [TestMethod]
    public async Task Request_TcpAddress_UsesHostAndPortAsAuthority()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(Ok(new ReleaseReply())));
        using var client = new GrpcClient(BrokerAddress.Parse("tcp:[::1]:5051"), null, handler);

        await client.CallUnaryAsync(LaneBrokerMethods.ReleaseLane, new ReleaseRequest(), ReleaseReply.Parser, Generous);

        Assert.AreEqual("http://[::1]:5051/laneshim.v1.LaneBroker/ReleaseLane", handler.LastRequest!.RequestUri!.ToString());
    }

    [TestMethod]
    [DataRow(400, GrpcStatusCode.Internal)]
    [DataRow(401, GrpcStatusCode.Unauthenticated)]
    [DataRow(403, GrpcStatusCode.PermissionDenied)]
    [DataRow(404, GrpcStatusCode.Unimplemented)]
    [DataRow(429, GrpcStatusCode.Unavailable)]
    [DataRow(503, GrpcStatusCode.Unavailable)]
    [DataRow(500, GrpcStatusCode.Unknown)]
    public async Task NonOkHttpStatus_MappedPerSpec(int http, GrpcStatusCode expected)
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(new HttpResponseMessage((HttpStatusCode)http) { Content = new StringContent("<html>") }));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.ListLeases, new ListLeasesRequest(), ListLeasesReply.Parser, Generous), expected);

        StringAssert.Contains(error.Detail, http.ToString());
    }

    [TestMethod]
    public async Task TrailersOnly_StatusFromHeadersPercentDecoded()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc([],
            headers: [("grpc-status", "5"), ("grpc-message", "no lease %E2%86%92 gone 100%25")])));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.NotFound);

        Assert.AreEqual("no lease → gone 100%", error.Detail);
    }

    [TestMethod]
    public async Task Trailers_OkWithMessage_ReturnsMessage()
    {
        var grant = new LaneGrant { LeaseId = "l-7", RateBps = 42 };
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(Ok(grant)));
        using var client = new GrpcClient(Unix, null, handler);

        LaneGrant got = client.CallUnary(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous);

        Assert.AreEqual(grant, got);
    }

    [TestMethod]
    public async Task Trailers_ErrorStatusAfterBody_ErrorWins()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(GrpcFraming.Encode(new LaneGrant()),
            trailers: [("grpc-status", "9"), ("grpc-message", "lease expired")])));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.FailedPrecondition);

        Assert.AreEqual("lease expired", error.Detail);
    }

    [TestMethod]
    public async Task MissingGrpcStatus_Internal()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(GrpcFraming.Encode(new LaneGrant()))));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);

        StringAssert.Contains(error.Detail, "grpc-status");
    }

    [TestMethod]
    public async Task OkWithoutMessage_Internal()
    {
        var trailersOnly = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc([], headers: [("grpc-status", "0")])));
        var emptyBody = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc([], trailers: [("grpc-status", "0")])));
        using var a = new GrpcClient(Unix, null, trailersOnly);
        using var b = new GrpcClient(Unix, null, emptyBody);

        await GrpcAssert.FailsAsync(() => a.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);
        await GrpcAssert.FailsAsync(() => b.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);
    }

    [TestMethod]
    [DataRow("abc", GrpcStatusCode.Internal)]
    [DataRow("-1", GrpcStatusCode.Internal)]
    [DataRow("99", GrpcStatusCode.Unknown)]
    [DataRow("16", GrpcStatusCode.Unauthenticated)]
    public async Task OddGrpcStatusValues_Mapped(string value, GrpcStatusCode expected)
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc([], headers: [("grpc-status", value)])));
        using var client = new GrpcClient(Unix, null, handler);

        await GrpcAssert.FailsAsync(() => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), expected);
    }

    [TestMethod]
    public async Task WrongContentType_Internal()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(GrpcFraming.Encode(new LaneGrant()),
            trailers: [("grpc-status", "0")], contentType: "text/html")));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);

        StringAssert.Contains(error.Detail, "text/html");
    }

    [TestMethod]
    public async Task CompressedResponse_GzipUnimplemented_NoEncodingInternal()
    {
        byte[] frame = GrpcFraming.Encode(new LaneGrant { LeaseId = "x" });
        frame[0] = 1;
        var gzip = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(frame, headers: [("grpc-encoding", "gzip")], trailers: [("grpc-status", "0")])));
        var none = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(frame, trailers: [("grpc-status", "0")])));
        using var a = new GrpcClient(Unix, null, gzip);
        using var b = new GrpcClient(Unix, null, none);

        await GrpcAssert.FailsAsync(() => a.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Unimplemented);
        await GrpcAssert.FailsAsync(() => b.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);
    }

    [TestMethod]
    public async Task UnparsableResponseMessage_Internal()
    {
        byte[] frame = [0, 0, 0, 0, 3, 0x0A, 100, 0x01];
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(FakeHttpHandler.Grpc(frame, trailers: [("grpc-status", "0")])));
        using var client = new GrpcClient(Unix, null, handler);

        await GrpcAssert.FailsAsync(() => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);
    }

    [TestMethod]
    [DataRow("invalid-operation")]
    [DataRow("not-supported")]
    [DataRow("null-reference")]
    public async Task HandlerThrowsUnexpectedException_GrpcExceptionOnly(string kind)
    {
        Exception thrown = kind switch
        {
            "invalid-operation" => new InvalidOperationException("boom"),
            "not-supported" => new NotSupportedException("boom"),
            _ => new NullReferenceException("boom"),
        };
        var handler = new FakeHttpHandler((_, _) => Task.FromException<HttpResponseMessage>(thrown));
        using var client = new GrpcClient(Unix, null, handler);

        (GrpcException error, _) = await GrpcAssert.FailsAsync(
            () => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);
        GrpcAssert.Fails(() => client.CallUnary(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous), GrpcStatusCode.Internal);

        Assert.AreSame(thrown, error.InnerException);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public async Task StackIgnoresCancellation_CallerStillReleasedAtDeadline(bool sync)
    {
        // An HTTP stack that never completes and never looks at its token: only the hard stop can release the caller.
        var handler = new FakeHttpHandler((_, _) => new TaskCompletionSource<HttpResponseMessage>().Task);
        using var client = new GrpcClient(Unix, null, handler);
        TimeSpan deadline = TimeSpan.FromMilliseconds(20);
        var overshoots = new List<double>();

        for (int i = 0; i < 10; i++)
        {
            (_, TimeSpan elapsed) = sync
                ? GrpcAssert.Fails(() => client.CallUnary(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, deadline), GrpcStatusCode.DeadlineExceeded)
                : await GrpcAssert.FailsAsync(() => client.CallUnaryAsync(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, deadline), GrpcStatusCode.DeadlineExceeded);
            GrpcAssert.WithinDeadline(elapsed, deadline, TimeSpan.FromMilliseconds(15), i);
            overshoots.Add((elapsed - deadline).TotalMilliseconds);
        }

        TestContext.WriteLine($"{(sync ? "sync" : "async")} overshoot past a 20 ms deadline, ms: {string.Join(", ", overshoots.Select(o => o.ToString("0.00")))}");
    }

    [TestMethod]
    public async Task CallerTokenCancelledWhileStackStuck_CancelledPromptly()
    {
        var handler = new FakeHttpHandler((_, _) => new TaskCompletionSource<HttpResponseMessage>().Task);
        using var client = new GrpcClient(Unix, null, handler);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        var sw = Stopwatch.StartNew();

        (_, TimeSpan elapsed) = GrpcAssert.Fails(
            () => client.CallUnary(LaneBrokerMethods.RenewLane, new RenewRequest(), LaneGrant.Parser, Generous, cts.Token), GrpcStatusCode.Cancelled);

        Assert.IsTrue(elapsed < TimeSpan.FromMilliseconds(500), $"took {elapsed.TotalMilliseconds:0} ms");
        await Task.CompletedTask;
    }

    private static HttpResponseMessage Ok<T>(T message)
        where T : Google.Protobuf.IMessage<T>
        => FakeHttpHandler.Grpc(GrpcFraming.Encode(message), trailers: [("grpc-status", "0")]);
}
