// HpackEncoderTests.cs - the request representations byte for byte, a gRPC request's headers through the decoder and back, and caller bugs.
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackEncoderTests
{
    [TestMethod]
    public void Indexed_StaticEntry_OneByte()
    {
        var buffer = new byte[4];

        Assert.IsTrue(HpackEncoder.TryWriteIndexed(HpackStaticTable.MethodGet, buffer, out int written));

        Assert.AreEqual(1, written);
        Assert.AreEqual(0x82, buffer[0]); // RFC 7541 C.2.4
    }

    [TestMethod]
    public void LiteralWithIndexedName_RfcC2_2()
    {
        var buffer = new byte[64];

        Assert.IsTrue(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, "/sample/path", buffer, out int written));

        CollectionAssert.AreEqual(Convert.FromHexString("040C2F73616D706C652F70617468"), buffer[..written]);
    }

    [TestMethod]
    public void LiteralWithNewName_RawStrings()
    {
        var buffer = new byte[64];

        Assert.IsTrue(HpackEncoder.TryWriteLiteralWithoutIndexing("custom-key", "custom-header", buffer, out int written));

        // C.2.1's bytes with the 0000 pattern instead of 01.
        CollectionAssert.AreEqual(Convert.FromHexString("000A637573746F6D2D6B65790D637573746F6D2D686561646572"), buffer[..written]);
    }

    [TestMethod]
    public void LongValue_MultiByteLength()
    {
        string value = new('x', 300);
        var buffer = new byte[400];

        Assert.IsTrue(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.UserAgent, value, buffer, out int written));

        // 0x0f 0x2b (58 = 15 + 43), then 300 = 127 + 173 as 0x7f 0xad 0x01.
        CollectionAssert.AreEqual(new byte[] { 0x0F, 0x2B, 0x7F, 0xAD, 0x01 }, buffer[..5]);
        Assert.AreEqual(5 + 300, written);
    }

    [TestMethod]
    public void GrpcRequestHeaders_RoundTripThroughTheDecoder()
    {
        var buffer = new byte[512];
        int length = 0;
        Write(HpackEncoder.TryWriteIndexed(HpackStaticTable.MethodPost, buffer.AsSpan(length), out int n), ref length, n);
        Write(HpackEncoder.TryWriteIndexed(HpackStaticTable.SchemeHttp, buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, "/laneshim.v1.LaneBroker/Acquire", buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Authority, "localhost", buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.ContentType, "application/grpc", buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing("te", "trailers", buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing("grpc-timeout", "5000m", buffer.AsSpan(length), out n), ref length, n);
        Write(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.UserAgent, "laneshim/1.0 (caf\u00e9)", buffer.AsSpan(length), out n), ref length, n);

        var decoder = new HpackDecoder();
        var output = new List<KeyValuePair<string, string>>();
        decoder.Decode(buffer.AsSpan(0, length), output);

        CollectionAssert.AreEqual(
            new[]
            {
                ":method: POST", ":scheme: http", ":path: /laneshim.v1.LaneBroker/Acquire", ":authority: localhost",
                "content-type: application/grpc", "te: trailers", "grpc-timeout: 5000m", "user-agent: laneshim/1.0 (caf\u00e9)",
            },
            output.Select(f => $"{f.Key}: {f.Value}").ToArray());
        Assert.AreEqual(0, decoder.DynamicTableCount, "nothing the encoder writes is indexed");
    }

    [TestMethod]
    public void DestinationTooSmall_FalseForEveryShortLength()
    {
        int needed = Encode(static d => (HpackEncoder.TryWriteLiteralWithoutIndexing("grpc-timeout", "5000m", d, out int w), w));
        for (int size = 0; size < needed; size++)
        {
            var buffer = new byte[size];
            Assert.IsFalse(HpackEncoder.TryWriteLiteralWithoutIndexing("grpc-timeout", "5000m", buffer, out int written), $"{size} bytes");
            Assert.AreEqual(0, written);
            Assert.IsFalse(HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, "/a/b", buffer.AsSpan(0, Math.Min(size, 5)), out _), $"{size} bytes");
        }

        Assert.IsFalse(HpackEncoder.TryWriteIndexed(HpackStaticTable.MethodPost, [], out _));
    }

    [TestMethod]
    public void CallerBugs_ThrowArgumentExceptions()
    {
        var buffer = new byte[64];
        Assert.ThrowsExactly<ArgumentException>(() => HpackEncoder.TryWriteLiteralWithoutIndexing("Grpc-Timeout", "1S", buffer, out _));
        Assert.ThrowsExactly<ArgumentException>(() => HpackEncoder.TryWriteLiteralWithoutIndexing("", "1S", buffer, out _));
        Assert.ThrowsExactly<ArgumentException>(() => HpackEncoder.TryWriteLiteralWithoutIndexing("x", "a\r\nb", buffer, out _));
        Assert.ThrowsExactly<ArgumentException>(() => HpackEncoder.TryWriteLiteralWithoutIndexing(HpackStaticTable.Path, "/\u0101", buffer, out _));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => HpackEncoder.TryWriteIndexed(0, buffer, out _));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => HpackEncoder.TryWriteIndexed(62, buffer, out _));
    }

    private static void Write(bool ok, ref int length, int written)
    {
        Assert.IsTrue(ok, "buffer large enough");
        length += written;
    }

    private static int Encode(Func<Span<byte>, (bool Ok, int Written)> write)
    {
        var buffer = new byte[256];
        (bool ok, int written) = write(buffer);
        Assert.IsTrue(ok);
        return written;
    }
}
