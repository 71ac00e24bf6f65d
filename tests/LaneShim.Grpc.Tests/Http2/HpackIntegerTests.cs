// HpackIntegerTests.cs - N-bit-prefix integers: the RFC 7541 C.1 examples, round trips at the edges, and the overflow guards.
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackIntegerTests
{
    // RFC 7541 C.1.1-C.1.3: (value, prefix bits, encoding). The high bits of the first byte are the caller's pattern.
    private static readonly (int Value, int Prefix, byte[] Bytes)[] s_examples =
    [
        (10, 5, [0x0a]),
        (1337, 5, [0x1f, 0x9a, 0x0a]),
        (42, 8, [0x2a]),
    ];

    [TestMethod]
    public void Encode_RfcExamples()
    {
        foreach ((int value, int prefix, byte[] bytes) in s_examples)
        {
            var buffer = new byte[8];
            Assert.IsTrue(HpackInteger.TryEncode(value, prefix, 0, buffer, out int written));
            CollectionAssert.AreEqual(bytes, buffer[..written], $"{value} with a {prefix}-bit prefix");
        }
    }

    [TestMethod]
    public void Decode_RfcExamples_IgnoringThePatternBits()
    {
        foreach ((int value, int prefix, byte[] bytes) in s_examples)
        {
            for (int pattern = 0; pattern < 1 << (8 - prefix); pattern++)
            {
                byte[] input = [.. bytes, 0x55]; // a trailing byte that must stay unread
                input[0] |= (byte)(pattern << prefix);
                int pos = 0;
                Assert.AreEqual(value, HpackInteger.Decode(input, ref pos, prefix));
                Assert.AreEqual(bytes.Length, pos);
            }
        }
    }

    [TestMethod]
    public void RoundTrip_EdgeValues_EveryPrefix()
    {
        int[] values = [0, 1, 30, 31, 32, 126, 127, 128, 254, 255, 256, 16383, 16384, 1 << 21, (1 << 28) - 1, 1 << 28, int.MaxValue - 1, int.MaxValue];
        for (int prefix = 1; prefix <= 8; prefix++)
        {
            foreach (int value in values)
            {
                var buffer = new byte[8];
                Assert.IsTrue(HpackInteger.TryEncode(value, prefix, 0xFF, buffer, out int written));
                int pos = 0;
                Assert.AreEqual(value, HpackInteger.Decode(buffer.AsSpan(0, written), ref pos, prefix), $"{value}, {prefix}-bit prefix");
                Assert.AreEqual(written, pos);
            }
        }
    }

    [TestMethod]
    public void Encode_PatternBitsKept()
    {
        var buffer = new byte[4];
        Assert.IsTrue(HpackInteger.TryEncode(2, 7, 0x80, buffer, out int written));
        Assert.AreEqual(1, written);
        Assert.AreEqual(0x82, buffer[0]);
    }

    [TestMethod]
    public void Encode_DestinationTooSmall_False()
    {
        for (int size = 0; size < 3; size++)
        {
            Assert.IsFalse(HpackInteger.TryEncode(1337, 5, 0, new byte[size], out _), $"{size} bytes");
        }
    }

    [TestMethod]
    public void Decode_Truncated_Throws()
    {
        AssertRejected("", 5, "ends where an integer should start");
        AssertRejected("1f", 5, "ends inside");
        AssertRejected("1f 9a", 5, "ends inside");
        AssertRejected("ff 80 80", 7, "ends inside");
    }

    [TestMethod]
    public void Decode_AboveIntMaxValue_Throws()
    {
        // 127 + 0x7f + (0x7f << 7) + ... + (0x0f << 28) = 2^32 + 126.
        AssertRejected("ff ff ff ff ff 0f", 7, "exceeds");

        // int.MaxValue + 1 exactly: 255 + (2^31 - 255) = 2^31, as 0x81 0xfe 0xff 0xff 0x07.
        AssertRejected("ff 81 fe ff ff 07", 8, "exceeds");
    }

    [TestMethod]
    public void Decode_IntMaxValue_Accepted()
    {
        // 255 + (2^31 - 256) = 2^31 - 1.
        byte[] input = Convert.FromHexString("FF80FEFFFF07");
        int pos = 0;
        Assert.AreEqual(int.MaxValue, HpackInteger.Decode(input, ref pos, 8));
    }

    [TestMethod]
    public void Decode_SixContinuationBytes_Throws()
    {
        // Small value, padded with zero groups: still refused, the guard counts bytes, not value.
        AssertRejected("1f 80 80 80 80 80 00", 5, "continuation bytes");
    }

    private static void AssertRejected(string hex, int prefix, string messagePart)
    {
        byte[] input = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        var e = Assert.ThrowsExactly<HpackException>(() =>
        {
            int pos = 0;
            HpackInteger.Decode(input, ref pos, prefix);
        }, hex);
        StringAssert.Contains(e.Message, messagePart, hex);
    }
}
