// DirectClientLimitTests.cs - oversized and malformed answers: a typed failure well within the deadline, and the connection is never used again.
using Grpc.Core;
using LaneShim.Testing;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class DirectClientLimitTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    public static IEnumerable<object[]> Violations =>
    [
        ["frame-too-large"], ["header-list-too-large"], ["header-block-too-large"], ["garbage-hpack"], ["unknown-index"],
        ["data-before-headers"], ["continuation-without-headers"], ["interleaved-continuation"], ["push-promise"],
        ["bad-padding"], ["short-ping"], ["settings-on-stream"],
    ];

    [TestMethod]
    [DynamicData(nameof(Violations))]
    public void Call_ServerBreaksProtocol_InternalWithinDeadlineAndConnectionDropped(string violation)
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), (connection, request, _) => connection.SendAsync(connection.Index == 0
            ? Violation(violation, request.Stream)
            : DirectClientAnswerTests.OkAnswer("one-go", request.Stream)));
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")));

        (RpcException error, TimeSpan elapsed) = GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), Deadline), StatusCode.Internal);
        Assert.IsTrue(elapsed < Deadline / 2, $"{violation}: the failure took {elapsed.TotalMilliseconds:0} ms; it should not wait for the deadline");
        StringAssert.Contains(error.Status.Detail, "HTTP/2", $"{violation}: {error.Status.Detail}");

        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "the call after the violation");
        Assert.AreEqual(2, server.Connections, "a connection that broke the protocol must not be reused");
        server.AssertNoProblems();
    }

    [TestMethod]
    public void Call_ReplyAboveMaxReceiveMessageSize_ResourceExhaustedStreamCancelledConnectionDropped()
    {
        using var dir = new TestDirectory();
        using var server = ScriptedH2Server.Answering(dir.File("h2.sock"), async (connection, request, call) =>
        {
            if (call == 0)
            {
                // Headers and the first 16 kB of a 40 kB reply, then silence: the client must stop at its limit, not wait.
                await connection.SendAsync(
                    H2FrameWriter.Headers(request.Stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false),
                    H2FrameWriter.Data(request.Stream, GrpcFraming.Encode(DirectClientFlowControlTests.Leases(40_000))[..16384], endStream: false));
            }
            else
            {
                await connection.SendAsync(DirectClientAnswerTests.OkAnswer("one-go", request.Stream));
            }
        });
        using var client = DirectCalls.Open(BrokerAddress.Unix(dir.File("h2.sock")), 10_000);

        (_, TimeSpan elapsed) = GrpcAssert.Fails(() => client.RequestLane(SampleMessages.Request(), Deadline), StatusCode.ResourceExhausted);
        Assert.IsTrue(elapsed < Deadline / 2, $"took {elapsed.TotalMilliseconds:0} ms");
        Assert.AreEqual(DirectCalls.Grant, DirectCalls.RequestLane(client), "the call after the oversized reply");

        Assert.AreEqual(2, server.Connections, "the connection with the rest of the oversized reply in flight must not be reused");
        H2Frame? reset = server.Frames.FirstOrDefault(f => f.Connection == 0 && f.Type == H2Frame.RstStream);
        Assert.IsNotNull(reset, "the abandoned stream was not reset");
        Assert.AreEqual(1, reset.Stream);
        Assert.AreEqual(0x8u, reset.FirstWord, "RST_STREAM error code");
        server.AssertNoProblems();
    }

    private static byte[] Violation(string violation, int stream)
    {
        byte[] headers = H2FrameWriter.Headers(stream, H2HeaderBlock.OkHeaders().ToArray(), endStream: false);
        byte[] message = GrpcFraming.Encode(DirectCalls.Grant);
        return violation switch
        {
            "frame-too-large" => H2FrameWriter.Concat(headers, H2FrameWriter.Data(stream, new byte[20000], endStream: false)),
            // 3000 bytes indexed once, then referred to 25 times: 75 kB of decoded headers from a 3 kB block (an HPACK bomb).
            "header-list-too-large" => H2FrameWriter.Headers(stream, Bomb(), endStream: false),
            "header-block-too-large" => LargeBlock(stream),
            "garbage-hpack" => H2FrameWriter.Headers(stream, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], endStream: false),
            "unknown-index" => H2FrameWriter.Headers(stream, new H2HeaderBlock().Indexed(HpackStaticTable.Status200).Indexed(70).ToArray(), endStream: false),
            "data-before-headers" => H2FrameWriter.Data(stream, message, endStream: false),
            "continuation-without-headers" => H2FrameWriter.Continuation(stream, H2HeaderBlock.OkHeaders().ToArray(), endHeaders: true),
            "interleaved-continuation" => H2FrameWriter.Concat(
                H2FrameWriter.Headers(stream, H2HeaderBlock.OkHeaders().ToArray()[..1], endStream: false, endHeaders: false),
                H2FrameWriter.Data(stream, message, endStream: false)),
            "push-promise" => H2FrameWriter.Frame(0x5, H2FrameWriter.EndHeaders, stream, [0, 0, 0, 2, 0x82]),
            "bad-padding" => H2FrameWriter.Concat(headers, H2FrameWriter.Frame(0x0, H2FrameWriter.Padded, stream, [200, 1, 2, 3])),
            "short-ping" => H2FrameWriter.Frame(0x6, 0, 0, [1, 2, 3]),
            "settings-on-stream" => H2FrameWriter.Frame(0x4, 0, stream, []),
            _ => throw new ArgumentException(violation),
        };
    }

    private static byte[] Bomb()
    {
        H2HeaderBlock block = H2HeaderBlock.OkHeaders().Indexing("laneshim-pad", new string('x', 3000));
        for (int i = 0; i < 25; i++)
        {
            block.Indexed(H2HeaderBlock.Dynamic);
        }

        return block.ToArray();
    }

    private static byte[] LargeBlock(int stream)
    {
        // 70 kB of literal fields (each well under the list limit on its own) in HEADERS and four CONTINUATIONs.
        H2HeaderBlock block = H2HeaderBlock.OkHeaders();
        for (int i = 0; i < 35; i++)
        {
            block.Literal($"laneshim-pad-{i}", new string('y', 2000));
        }

        byte[] bytes = block.ToArray();
        var frames = new List<byte[]> { H2FrameWriter.Headers(stream, bytes[..16000], endStream: false, endHeaders: false) };
        for (int offset = 16000; offset < bytes.Length; offset += 16000)
        {
            int end = Math.Min(offset + 16000, bytes.Length);
            frames.Add(H2FrameWriter.Continuation(stream, bytes[offset..end], endHeaders: end == bytes.Length));
        }

        return H2FrameWriter.Concat([.. frames]);
    }
}
