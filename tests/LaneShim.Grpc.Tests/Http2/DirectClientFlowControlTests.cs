// DirectClientFlowControlTests.cs - requests larger than the server's windows wait for WINDOW_UPDATE; large replies get the client's WINDOW_UPDATEs.
using Grpc.Core;
using LaneShim.Testing;
using Google.Protobuf;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientFlowControlTests
{
    /// <summary>A ReportFlows batch of about <paramref name="bytes"/> bytes, every report different.</summary>
    internal static FlowReportBatch Batch(int bytes)
    {
        var batch = new FlowReportBatch();
        for (int i = 0; batch.CalculateSize() < bytes; i++)
        {
            batch.Reports.Add(new FlowReport { LeaseId = $"lease-{i:D6}-" + new string((char)('a' + (i % 26)), 90) });
        }

        return batch;
    }

    [TestMethod]
    public void Call_RequestOfTwoHundredKilobytes_WaitsForWindowUpdatesAndArrivesIntact()
    {
        // The server refills the connection window 40000 bytes at a time and each stream window 65535 at a time, and only
        // once the client used all of it: a client that sends beyond a window is reported by the server, one that stops
        // short of it waits for an update that never comes.
        using var dir = new TestDirectory();
        var received = new List<FlowReportBatch>();
        H2ServerConnection? first = null;
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, _) =>
        {
            first ??= connection;
            connection.ConnectionIncrement = 40000;
            lock (received)
            {
                received.Add(request.Message(FlowReportBatch.Parser));
            }

            await connection.AnswerOkAsync(request.Stream, new ReportReply());
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));
        FlowReportBatch[] sent = [Batch(200_000), Batch(210_000), Batch(70_000)];

        foreach (FlowReportBatch batch in sent)
        {
            GrpcAssert.OnOwnThread(() => client.ReportFlows(batch, DirectCalls.Generous));
        }

        server.AssertNoProblems();
        CollectionAssert.AreEqual(sent, received, "a request arrived damaged");
        Assert.AreEqual(1, server.Connections);
        Assert.IsTrue(first!.WindowUpdatesSent >= 10, $"only {first.WindowUpdatesSent} WINDOW_UPDATEs: the requests did not need the windows refilled");

        // From the recording: per stream, DATA never exceeded what the server had granted before it arrived.
        H2Frame[] data = server.Frames.Where(f => f.Type == H2Frame.Data).ToArray();
        Assert.IsTrue(data.All(f => f.Payload.Length <= 16384), "a DATA frame above 16384 bytes");
        Assert.AreEqual(sent.Sum(b => b.CalculateSize() + 5), data.Sum(f => f.Payload.Length), "DATA bytes on the wire");
        Assert.AreEqual(sent.Length, data.Count(f => f.HasFlag(H2FrameWriter.EndStream)), "one END_STREAM per request");
    }

    [TestMethod]
    public void Call_ReplyLargerThanStreamWindow_ClientSendsWindowUpdatesAndReplyArrivesIntact()
    {
        // The client grants 1 MiB per stream; a 2.5 MB reply can only arrive if it updates the stream window on the way.
        // The server sends strictly within the windows the client granted (SendBodyAsync).
        using var dir = new TestDirectory();
        ListLeasesReply reply = Leases(2_500_000);
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, _) =>
        {
            await connection.SendAsync(H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false));
            await connection.SendBodyAsync(request.Stream, GrpcFraming.Encode(reply), 16384, endStream: false);
            await connection.SendAsync(H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true));
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        for (int i = 0; i < 2; i++)
        {
            ListLeasesReply got = GrpcAssert.OnOwnThread(() => client.ListLeases(new ListLeasesRequest(), DirectCalls.Generous));
            Assert.AreEqual(reply, got, $"call {i}: the reply arrived damaged");
        }

        server.AssertNoProblems();
        H2Frame[] updates = server.Frames.Where(f => f.Type == H2Frame.WindowUpdate && f.Stream != 0).ToArray();
        Assert.IsTrue(updates.Length >= 4, $"{updates.Length} stream WINDOW_UPDATEs for two 2.5 MB replies in 1 MiB windows");
        Assert.IsTrue(updates.All(f => f.FirstWord >= (1 << 19)), "stream updates should come in halves of the window, not byte by byte");
        Assert.AreEqual(1, server.Connections);
    }

    internal static ListLeasesReply Leases(int bytes)
    {
        var reply = new ListLeasesReply();
        for (int i = 0; reply.CalculateSize() < bytes; i++)
        {
            reply.Leases.Add(new Lease { LeaseId = $"lease-{i:D6}", Principal = "CN=" + new string((char)('a' + (i % 26)), 200) });
        }

        return reply;
    }
}
