// DirectClientControlFrameTests.cs - the direct client answers the server's PING and SETTINGS while it waits, applies the settings, and skips unknown frames.
using Grpc.Core;
using LaneShim.Testing;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientControlFrameTests
{
    [TestMethod]
    public void Call_ServerPingsMidAnswer_ClientAcksSameBytesBeforeTheRestArrives()
    {
        byte[] opaque = [1, 2, 3, 4, 0xFD, 0xFE, 0xFF, 0];
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, _) =>
        {
            await connection.SendAsync(
                H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false),
                H2FrameWriter.Ping(opaque));
            // The rest of the answer only after the acknowledgement: a client that queues it without sending waits forever.
            await connection.ReadUntilAsync(f => f.Type == H2Frame.Ping);
            await connection.SendAsync(
                H2FrameWriter.Data(request.Stream, GrpcFraming.Encode(DirectCalls.Grant), endStream: false),
                H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true));
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        for (int i = 0; i < 2; i++)
        {
            Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), $"call {i}");
        }

        H2Frame[] pings = server.Frames.Where(f => f.Type == H2Frame.Ping).ToArray();
        Assert.AreEqual(2, pings.Length, "one PING ACK per server PING");
        foreach (H2Frame ping in pings)
        {
            Assert.IsTrue(ping.HasFlag(H2FrameWriter.Ack), "the client's PING is not an acknowledgement");
            CollectionAssert.AreEqual(opaque, ping.Payload, "the PING ACK must echo the 8 opaque bytes");
            Assert.AreEqual(0, ping.Stream);
        }

        Assert.AreEqual(1, server.Connections);
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Call_ServerChangesSettings_ClientAcksAndUsesBiggerFramesAndWindow()
    {
        // SETTINGS_MAX_FRAME_SIZE 32768 and SETTINGS_INITIAL_WINDOW_SIZE 100000, acknowledged before the answer. The next,
        // 150 kB request may then use 32 kB frames and 100000-byte stream windows; the connection window stays 65535
        // (settings never change it), refilled 30000 at a time.
        using var dir = new TestDirectory();
        H2Request? big = null;
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, call) =>
        {
            if (call == 0)
            {
                await connection.SendAsync(H2FrameWriter.Settings((0x5, 32768), (0x4, 100000)));
                // Two acknowledgements: of StartAsync's empty SETTINGS and of these.
                int acks = 0;
                await connection.ReadUntilAsync(f => f.Type == H2Frame.Settings && f.HasFlag(H2FrameWriter.Ack) && ++acks == 2);
                connection.MaxFrame = 32768;
                connection.InitialStreamWindow = 100000;
                connection.ConnectionIncrement = 30000;
                connection.StreamIncrement = 100000;
                await connection.AnswerOkAsync(request.Stream, DirectCalls.Grant);
            }
            else
            {
                big = request;
                await connection.AnswerOkAsync(request.Stream, new ReportReply());
            }
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));
        FlowReportBatch batch = DirectClientFlowControlTests.Batch(150_000);

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));
        GrpcAssert.OnOwnThread(() => client.ReportFlows(batch, DirectCalls.Generous));

        server.AssertNoProblems();
        Assert.IsNotNull(big);
        Assert.AreEqual(batch, big.Message(FlowReportBatch.Parser), "the big request arrived damaged");
        H2Frame[] frames = server.Frames;
        Assert.AreEqual(2, frames.Count(f => f.Type == H2Frame.Settings && f.HasFlag(H2FrameWriter.Ack)), "one SETTINGS ACK per server SETTINGS");
        int largest = frames.Where(f => f.Type == H2Frame.Data).Max(f => f.Payload.Length);
        Assert.IsTrue(largest > 16384, $"the largest DATA frame was {largest} bytes: the client ignored SETTINGS_MAX_FRAME_SIZE");
        Assert.AreEqual(1, server.Connections);
    }

    [TestMethod]
    public void Call_UnknownFrameTypesAndPriorityFrames_Ignored()
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, _) => connection.SendAsync(
            H2FrameWriter.Frame(0xEE, 0xFF, 0, [1, 2, 3]),
            H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false),
            H2FrameWriter.Frame(0x0B, 0, request.Stream, new byte[100]), // unknown type on our stream
            H2FrameWriter.Frame(0x2, 0, request.Stream, [0, 0, 0, 0, 7]), // PRIORITY
            H2FrameWriter.Frame(0x0A, 0, 0, [0, 0]), // ALTSVC, which we do not implement
            H2FrameWriter.Data(request.Stream, GrpcFraming.Encode(DirectCalls.Grant), endStream: false),
            H2FrameWriter.Frame(0xEE, 0, request.Stream + 2, []),
            H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        for (int i = 0; i < 2; i++)
        {
            Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), $"call {i}");
        }

        Assert.AreEqual(1, server.Connections);
        server.AssertNoProblems();
    }
}
