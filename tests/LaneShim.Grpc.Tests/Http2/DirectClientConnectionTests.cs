// DirectClientConnectionTests.cs - pooled connections the server ends or refuses: the one safe retry, resets, idle closes, GOAWAY, and deadlines.
using Grpc.Core;
using LaneShim.Testing;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientConnectionTests
{
    public static IEnumerable<object[]> Refusals => [["goaway-below-ours"], ["refused-stream"]];

    [TestMethod]
    [DynamicData(nameof(Refusals))]
    public void Call_ReusedConnectionRefusesRequest_RetriedOnceOnNewConnection(string refusal)
    {
        // Call 0 is answered on connection 0. Call 1 goes out on that pooled connection, which refuses it in a way that
        // proves it was not processed (GOAWAY with last stream 1, or REFUSED_STREAM): the client sends it again, once, on a
        // fresh connection. The server keeps refusing everything else on connection 0, so a retry there fails the test.
        using var dir = new TestDirectory();
        var answered = new System.Collections.Concurrent.ConcurrentQueue<(int Connection, int Stream)>();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, _) =>
        {
            if (connection.Index == 0 && request.Stream > 1)
            {
                await connection.SendAsync(refusal == "goaway-below-ours"
                    ? H2FrameWriter.GoAway(1, 0x0, "draining")
                    : H2FrameWriter.RstStream(request.Stream, 0x7));
                return;
            }

            answered.Enqueue((connection.Index, request.Stream));
            await connection.SendAsync(DirectClientAnswerTests.OkAnswer("one-go", request.Stream));
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "call 0");
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "call 1, retried");

        Assert.AreEqual(2, server.Connections, "the retry must use a new connection");
        CollectionAssert.AreEqual(new[] { (0, 1), (1, 1) }, answered.ToArray(), "which (connection, stream) got answers");
        Assert.AreEqual(2, server.Frames.Count(f => f.Connection == 0 && f.Type == H2Frame.Headers), "requests on connection 0: call 0 and call 1's first try");
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Call_RefusedOnFreshConnection_NotRetriedUnavailable()
    {
        // A refusal on a connection opened for this very call says the server is not taking calls: no retry loop.
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, _) =>
            connection.SendAsync(H2FrameWriter.RstStream(request.Stream, 0x7)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), DirectCalls.Generous), StatusCode.Unavailable);
        Assert.AreEqual(1, server.Frames.Count(f => f.Type == H2Frame.Headers), "the refused request was sent again");
    }

    [TestMethod]
    public void Call_StreamResetWithCancel_CancelledAndConnectionReused()
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, call) => connection.SendAsync(call == 1
            ? H2FrameWriter.RstStream(request.Stream, 0x8)
            : DirectClientAnswerTests.OkAnswer("one-go", request.Stream)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));
        GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), DirectCalls.Generous), StatusCode.Cancelled);
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));

        Assert.AreEqual(1, server.Connections, "a stream reset must not cost the connection");
        Assert.AreEqual(3, server.Frames.Count(f => f.Type == H2Frame.Headers), "the cancelled call must not be retried");
        server.AssertNoProblems();
    }

    public static IEnumerable<object[]> IdleEnds => [["close"], ["goaway-after-answer"], ["goaway-with-answer"]];

    [TestMethod]
    [DynamicData(nameof(IdleEnds))]
    public async Task Call_ServerEndedIdlePooledConnection_NextCallGoesStraightToNewConnection(string how)
    {
        // The server ends connection 0 after its first answer: closing it, or with GOAWAY sent after the answer or in the
        // same write (so the client reads it with the answer, before the connection goes back to the pool). Either way
        // the next call must see that before writing to it.
        using var dir = new TestDirectory();
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, _) =>
        {
            byte[] answer = DirectClientAnswerTests.OkAnswer("one-go", request.Stream);
            if (connection.Index != 0)
            {
                await connection.SendAsync(answer);
                return;
            }

            switch (how)
            {
                case "close":
                    await connection.SendAsync(answer);
                    connection.Close();
                    break;
                case "goaway-after-answer":
                    await connection.SendAsync(answer);
                    await connection.SendAsync(H2FrameWriter.GoAway(request.Stream, 0x0, "idle"));
                    break;
                default:
                    await connection.SendAsync(answer, H2FrameWriter.GoAway(request.Stream, 0x0, "idle"));
                    break;
            }

            ended.SetResult();
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));
        await ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));

        Assert.AreEqual(2, server.Connections);
        Assert.AreEqual(1, server.Frames.Count(f => f.Connection == 0 && f.Type == H2Frame.Headers), "a request was written to the ended connection");
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Call_GoAwayCoveringOurStream_AnswerStillReadThenNewConnection()
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, _) => connection.SendAsync(connection.Index == 0
            ? H2FrameWriter.Concat(
                H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false),
                H2FrameWriter.GoAway(request.Stream, 0x0, "shutting down"),
                H2FrameWriter.Data(request.Stream, GrpcFraming.Encode(DirectCalls.Grant), endStream: false),
                H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true))
            : DirectClientAnswerTests.OkAnswer("one-go", request.Stream)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "the call the GOAWAY still covers");
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "the next call");

        Assert.AreEqual(2, server.Connections, "after GOAWAY the connection takes no new streams");
        server.AssertNoProblems();
    }

    [TestMethod]
    public async Task Call_ServerNeverAnswers_DeadlineExceededInTimeAndStreamCancelled()
    {
        // Call 0 is answered (the connection is warm and the code paths compiled); later calls are read and ignored.
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, call) => call == 0
            ? connection.SendAsync(DirectClientAnswerTests.OkAnswer("one-go", request.Stream))
            : Task.CompletedTask);
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));
        TimeSpan deadline = TimeSpan.FromMilliseconds(100);

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));
        for (int i = 0; i < 4; i++)
        {
            (_, TimeSpan elapsed) = GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), deadline), StatusCode.DeadlineExceeded);
            GrpcAssert.WithinDeadline(elapsed, deadline, TimeSpan.FromMilliseconds(15), i);
        }

        // Every ignored request: (connection, stream) of its HEADERS, each followed by RST_STREAM(CANCEL) on the same stream.
        (int, int)[] ignored = server.Frames.Where(f => f.Type == H2Frame.Headers).Skip(1).Select(f => (f.Connection, f.Stream)).ToArray();
        Assert.AreEqual(4, ignored.Length);
        await server.WaitForFramesAsync(
            frames => ignored.All(s => frames.Any(f => f.Type == H2Frame.RstStream && (f.Connection, f.Stream) == s && f.FirstWord == 0x8)),
            "RST_STREAM(CANCEL) for every request that passed its deadline");
        server.AssertNoProblems();
    }
}
