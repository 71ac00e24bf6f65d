// DirectClientAnswerTests.cs - the direct client against scripted answers: every legal shape of an OK answer, gRPC errors, and HPACK state across calls.
using Grpc.Core;
using LaneShim.Testing;
using System.Collections.Concurrent;
using LaneShim.Grpc.Http2;
using LaneShim.Protocol.V1;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientAnswerTests
{
    private const string Denial = "lane 'dmz' is 100% booked → try later ✓";

    public static IEnumerable<object[]> OkShapes => [["one-go"], ["padded-split-body"], ["continuation"], ["priority"], ["informational"], ["huffman"]];

    // What Grpc.Net.Client makes of each answer: the handler hands the HTTP response over as it came, and the status is
    // the client library's. A stream that ends without grpc-status, or a 200 that is not application/grpc, is CANCELLED
    // there ("No grpc-status found on response", "Bad gRPC response. Invalid content-type value") whichever handler
    // carried it; the test runs every shape through both so the two transports cannot drift apart. The agent treats
    // CANCELLED as it treats INTERNAL (an unusable reply: back off, fail open).
    public static IEnumerable<object[]> ErrorShapes =>
        from shape in new object[][]
        {
            ["trailers-only-error", StatusCode.ResourceExhausted],
            ["error-after-body", StatusCode.NotFound],
            ["missing-grpc-status", StatusCode.Cancelled],
            ["http-503", StatusCode.Unavailable],
            ["http-404", StatusCode.Unimplemented],
            ["wrong-content-type", StatusCode.Cancelled],
            ["ok-without-message", StatusCode.Internal],
            ["body-ends-stream", StatusCode.Cancelled],
        }
        from transport in new[] { BrokerTransport.Direct, BrokerTransport.Sockets }
        select new object[] { shape[0], shape[1], transport };

    [TestMethod]
    [DynamicData(nameof(OkShapes))]
    public void Call_OkAnswerShape_GrantArrivesAndConnectionIsReused(string shape)
    {
        using var dir = new TestDirectory();
        var requests = new ConcurrentQueue<H2Request>();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, _) =>
        {
            requests.Enqueue(request);
            return connection.SendAsync(OkAnswer(shape, request.Stream));
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        for (int i = 0; i < 3; i++)
        {
            Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), $"call {i}");
        }

        Assert.AreEqual(1, server.Connections, "a clean answer must leave the connection reusable");
        Assert.AreEqual(3, requests.Count);
        CollectionAssert.AreEqual(new[] { 1, 3, 5 }, requests.Select(r => r.Stream).ToArray(), "stream ids on one connection");
        foreach (H2Request request in requests)
        {
            DirectCalls.AssertRequestLane(request);
        }

        server.AssertNoProblems();
    }

    [TestMethod]
    [DynamicData(nameof(ErrorShapes))]
    public void Call_ErrorAnswerShape_TypedStatusAndConnectionIsReused(string shape, StatusCode expected, BrokerTransport transport)
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, call) =>
            connection.SendAsync(call == 0 ? ErrorAnswer(shape, request.Stream) : OkAnswer("one-go", request.Stream)));
        using var client = BrokerChannel.Open(BrokerAddress.Unix(dir.File("h2.sock")), new BrokerChannelOptions { Transport = transport });

        (RpcException error, TimeSpan elapsed) = GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), DirectCalls.Generous), expected);
        Assert.IsTrue(elapsed < TimeSpan.FromSeconds(2), $"the error took {elapsed}: the client waited for more than the answer");
        if (shape == "trailers-only-error")
        {
            Assert.AreEqual(Denial, error.Status.Detail, "grpc-message was not percent-decoded");
            Assert.AreEqual("200000000", error.Trailers.GetValue("laneshim-offer-bps"), "the offer trailer was lost");
        }
        else if (shape == "error-after-body")
        {
            Assert.AreEqual("no lease 'l-1'", error.Status.Detail);
        }

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "the call after the error");
        Assert.AreEqual(1, server.Connections, "a complete exchange with an error status must leave the connection reusable");
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Calls_ServerIndexesHeadersInFirstAnswer_LaterAnswersDecodeFromDynamicTable()
    {
        // Call 0 adds content-type (then at 63) and grpc-status: 0 (at 62) to the client's table, Huffman-coded; later
        // calls send only indexes. A client that keeps no table, or one per call, fails call 1.
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, call) =>
            connection.SendAsync(call == 0 ? IndexingAnswer(request.Stream) : IndexedAnswer(request.Stream, headersAt: H2HeaderBlock.Dynamic + 1, statusAt: H2HeaderBlock.Dynamic)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        for (int i = 0; i < 10; i++)
        {
            Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), $"call {i}");
        }

        Assert.AreEqual(1, server.Connections);
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Calls_IndexingBlockOnAbandonedStream_StillDecodedSoLaterIndexesMatch()
    {
        // Call 0 fills the table; call 1 is reset (CANCEL), so the client gives its stream up but keeps the connection.
        // Call 2's answer first carries a late trailer block on call 1's stream that adds laneshim-late (now 62, pushing
        // grpc-status: 0 to 63 and content-type to 64), then refers to 63 and 64. Skipping that block desynchronises the table.
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, call) => connection.SendAsync(call switch
        {
            0 => IndexingAnswer(request.Stream),
            1 => H2FrameWriter.RstStream(request.Stream, 0x8),
            _ => H2FrameWriter.Concat(
                H2FrameWriter.Headers(request.Stream - 2, new H2HeaderBlock().Indexing("laneshim-late", "1", huffman: true).ToArray(), endStream: true),
                IndexedAnswer(request.Stream, headersAt: H2HeaderBlock.Dynamic + 2, statusAt: H2HeaderBlock.Dynamic + 1)),
        }));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));
        GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), DirectCalls.Generous), StatusCode.Cancelled);
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client));

        Assert.AreEqual(1, server.Connections, "a reset stream must not cost the connection");
        server.AssertNoProblems();
    }

    /// <summary>An OK answer to RequestLane in the given shape.</summary>
    internal static byte[] OkAnswer(string shape, int stream)
    {
        byte[] message = GrpcFraming.Encode(DirectCalls.Grant);
        byte[] headers = H2HeaderBlock.OkHeaders().ToArray();
        byte[] trailers = H2HeaderBlock.OkTrailers().ToArray();
        return shape switch
        {
            "one-go" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, trailers, endStream: true)),
            // Split inside the 5-byte message prefix too; padding of 0, 7 and 200 bytes.
            "padded-split-body" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false, padding: 3),
                H2FrameWriter.Data(stream, message.AsSpan(0, 3), endStream: false, padding: 0),
                H2FrameWriter.Data(stream, message.AsSpan(3, 40), endStream: false, padding: 7),
                H2FrameWriter.Data(stream, message.AsSpan(43), endStream: false, padding: 200),
                H2FrameWriter.Headers(stream, trailers, endStream: true, padding: 1)),
            "continuation" => SplitHeaders(stream, headers, message, trailers),
            "priority" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false, priority: true),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, trailers, endStream: true, padding: 4, priority: true)),
            "informational" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, new H2HeaderBlock().Literal(":status", "100").ToArray(), endStream: false),
                H2FrameWriter.Headers(stream, new H2HeaderBlock().Literal(":status", "103").Literal("link", "</x>").ToArray(), endStream: false),
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, trailers, endStream: true)),
            "huffman" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, H2HeaderBlock.OkHeaders(huffman: true).Literal("grpc-encoding", "identity", huffman: true).ToArray(), endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, H2HeaderBlock.OkTrailers(huffman: true).Literal("grpc-message", "", huffman: true).ToArray(), endStream: true)),
            _ => throw new ArgumentException(shape),
        };
    }

    private static byte[] SplitHeaders(int stream, byte[] headers, byte[] message, byte[] trailers)
    {
        // Padding the block with more fields makes three fragments worth having; the cuts fall inside fields.
        byte[] block = new H2HeaderBlock().Raw(headers).Literal("server", "scripted-h2").Literal("laneshim-note", new string('n', 40)).ToArray();
        int a = block.Length / 3;
        int b = 2 * block.Length / 3;
        return H2FrameWriter.Concat(
            H2FrameWriter.Headers(stream, block[..a], endStream: false, endHeaders: false),
            H2FrameWriter.Continuation(stream, block[a..b], endHeaders: false),
            H2FrameWriter.Continuation(stream, block[b..], endHeaders: true),
            H2FrameWriter.Data(stream, message, endStream: false),
            H2FrameWriter.Headers(stream, trailers[..1], endStream: true, endHeaders: false),
            H2FrameWriter.Continuation(stream, trailers[1..], endHeaders: true));
    }

    private static byte[] ErrorAnswer(string shape, int stream)
    {
        byte[] message = GrpcFraming.Encode(DirectCalls.Grant);
        byte[] headers = H2HeaderBlock.OkHeaders().ToArray();
        return shape switch
        {
            "trailers-only-error" => H2FrameWriter.Headers(stream, H2HeaderBlock.OkHeaders()
                .Literal("grpc-status", "8")
                .Literal("grpc-message", GrpcStatusMessage.Encode(Denial), huffman: true)
                .Literal("laneshim-offer-bps", "200000000").ToArray(), endStream: true),
            "error-after-body" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, new H2HeaderBlock().Literal("grpc-status", "5").Literal("grpc-message", "no lease 'l-1'").ToArray(), endStream: true)),
            "missing-grpc-status" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, new H2HeaderBlock().Literal("laneshim-note", "forgot the status").ToArray(), endStream: true)),
            "http-503" => H2FrameWriter.Headers(stream, new H2HeaderBlock().Literal(":status", "503").Literal("content-type", "text/plain").ToArray(), endStream: true),
            "http-404" => H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(13).ToArray(), endStream: true), // static 13 is :status 404
            "wrong-content-type" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(HpackStaticTable.Status200).Literal("content-type", "text/html").ToArray(), endStream: false),
                H2FrameWriter.Data(stream, message, endStream: false),
                H2FrameWriter.Headers(stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true)),
            "ok-without-message" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Headers(stream, H2HeaderBlock.OkTrailers().ToArray(), endStream: true)),
            "body-ends-stream" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, headers, endStream: false),
                H2FrameWriter.Data(stream, message, endStream: true)),
            _ => throw new ArgumentException(shape),
        };
    }

    // Huffman-coded literals with incremental indexing: content-type goes in first (ends at 63), grpc-status: 0 second (62).
    private static byte[] IndexingAnswer(int stream) => H2FrameWriter.Concat(
        H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(HpackStaticTable.Status200).Indexing("content-type", "application/grpc", huffman: true).ToArray(), endStream: false),
        H2FrameWriter.Data(stream, GrpcFraming.Encode(DirectCalls.Grant), endStream: false),
        H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexing("grpc-status", "0", huffman: true).ToArray(), endStream: true));

    private static byte[] IndexedAnswer(int stream, int headersAt, int statusAt) => H2FrameWriter.Concat(
        H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(HpackStaticTable.Status200).Indexed(headersAt).ToArray(), endStream: false),
        H2FrameWriter.Data(stream, GrpcFraming.Encode(DirectCalls.Grant), endStream: false),
        H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(statusAt).ToArray(), endStream: true));
}
