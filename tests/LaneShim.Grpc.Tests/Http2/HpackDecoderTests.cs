// HpackDecoderTests.cs - the RFC 7541 Appendix C examples with the dynamic table after every block, and every malformed block we refuse.
using System.Text;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackDecoderTests
{
    private const string Date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private const string Date22 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private const string Location = "https://www.example.com";
    private const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    [TestMethod]
    public void C2_1_LiteralWithIndexing()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", ("custom-key", "custom-header"));

        AssertTable(decoder, 55, ("custom-key", "custom-header"));
    }

    [TestMethod]
    public void C2_2_LiteralWithoutIndexing()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "040c 2f73 616d 706c 652f 7061 7468", (":path", "/sample/path"));

        AssertTable(decoder, 0);
    }

    [TestMethod]
    public void C2_3_LiteralNeverIndexed()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "1008 7061 7373 776f 7264 0673 6563 7265 74", ("password", "secret"));

        AssertTable(decoder, 0);
    }

    [TestMethod]
    public void C2_4_Indexed()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "82", (":method", "GET"));

        AssertTable(decoder, 0);
    }

    [TestMethod]
    public void C3_RequestsWithoutHuffman()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"));
        AssertTable(decoder, 57, (":authority", "www.example.com"));

        AssertBlock(decoder, "8286 84be 5808 6e6f 2d63 6163 6865",
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache"));
        AssertTable(decoder, 110, ("cache-control", "no-cache"), (":authority", "www.example.com"));

        AssertBlock(decoder, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            (":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value"));
        AssertTable(decoder, 164, ("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com"));
    }

    [TestMethod]
    public void C4_RequestsWithHuffman()
    {
        var decoder = new HpackDecoder();

        AssertBlock(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"));
        AssertTable(decoder, 57, (":authority", "www.example.com"));

        AssertBlock(decoder, "8286 84be 5886 a8eb 1064 9cbf",
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache"));
        AssertTable(decoder, 110, ("cache-control", "no-cache"), (":authority", "www.example.com"));

        AssertBlock(decoder, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            (":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value"));
        AssertTable(decoder, 164, ("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com"));
    }

    [TestMethod]
    public void C5_ResponsesWithoutHuffman_EvictWithA256ByteTable()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);

        AssertBlock(decoder,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            (":status", "302"), ("cache-control", "private"), ("date", Date21), ("location", Location));
        AssertTable(decoder, 222, ("location", Location), ("date", Date21), ("cache-control", "private"), (":status", "302"));

        AssertBlock(decoder, "4803 3330 37c1 c0bf",
            (":status", "307"), ("cache-control", "private"), ("date", Date21), ("location", Location));
        AssertTable(decoder, 222, (":status", "307"), ("location", Location), ("date", Date21), ("cache-control", "private"));

        AssertBlock(decoder,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
            (":status", "200"), ("cache-control", "private"), ("date", Date22), ("location", Location), ("content-encoding", "gzip"), ("set-cookie", Cookie));
        AssertTable(decoder, 215, ("set-cookie", Cookie), ("content-encoding", "gzip"), ("date", Date22));
    }

    [TestMethod]
    public void C6_ResponsesWithHuffman_EvictWithA256ByteTable()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);

        AssertBlock(decoder,
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            (":status", "302"), ("cache-control", "private"), ("date", Date21), ("location", Location));
        AssertTable(decoder, 222, ("location", Location), ("date", Date21), ("cache-control", "private"), (":status", "302"));

        AssertBlock(decoder, "4883 640e ffc1 c0bf",
            (":status", "307"), ("cache-control", "private"), ("date", Date21), ("location", Location));
        AssertTable(decoder, 222, (":status", "307"), ("location", Location), ("date", Date21), ("cache-control", "private"));

        AssertBlock(decoder,
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            (":status", "200"), ("cache-control", "private"), ("date", Date22), ("location", Location), ("content-encoding", "gzip"), ("set-cookie", Cookie));
        AssertTable(decoder, 215, ("set-cookie", Cookie), ("content-encoding", "gzip"), ("date", Date22));
    }

    [TestMethod]
    public void SizeUpdate_AtStart_EvictsAndLowersTheMaximum()
    {
        var decoder = new HpackDecoder();
        AssertBlock(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", ("custom-key", "custom-header"));

        AssertBlock(decoder, "20 82", (":method", "GET"));

        AssertTable(decoder, 0);
        Assert.AreEqual(0, decoder.MaxDynamicTableSize);
    }

    [TestMethod]
    public void SizeUpdate_TwoInARowUpToTheLimit_Accepted()
    {
        var decoder = new HpackDecoder();

        // To 0, then back to 4096 (31 + 0x61 + 0x1f << 7).
        AssertBlock(decoder, "20 3fe1 1f 82", (":method", "GET"));

        Assert.AreEqual(4096, decoder.MaxDynamicTableSize);
    }

    [TestMethod]
    public void Insert_EntryLargerThanTheTable_EmptiesItAndIsNotKept()
    {
        var decoder = new HpackDecoder(maxTableSize: 64);
        AssertBlock(decoder, "4003 6162 6301 78", ("abc", "x")); // 36 bytes

        byte[] block = Literal(0x40, "big", new string('v', 40)); // 75 bytes > 64
        var output = new List<KeyValuePair<string, string>>();
        decoder.Decode(block, output);

        Assert.AreEqual("big", output[0].Key);
        AssertTable(decoder, 0);
    }

    [TestMethod]
    public void Insert_ManyEntries_RingKeepsNewestFirst()
    {
        // 200 bytes holds five 36-byte entries (name "n", value "000".."999"); the ring wraps many times.
        var decoder = new HpackDecoder(maxTableSize: 200);
        var expected = new List<(string, string)>();
        for (int i = 0; i < 300; i++)
        {
            string value = i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            AssertBlock(decoder, Convert.ToHexString(Literal(0x40, "n", value)), ("n", value));
            expected.Insert(0, ("n", value));
            if (expected.Count > 5)
            {
                expected.RemoveAt(5);
            }

            AssertTable(decoder, 36 * expected.Count, [.. expected]);
        }

        // Indexed references into the wrapped ring.
        AssertBlock(decoder, "be c2", ("n", "299"), ("n", "295"));
    }

    [TestMethod]
    public void Decode_AppendsToTheOutput()
    {
        var decoder = new HpackDecoder();
        var output = new List<KeyValuePair<string, string>> { new("x", "y") };

        decoder.Decode(Hex("82"), output);

        Assert.AreEqual(2, output.Count);
        Assert.AreEqual(":method", output[1].Key);
    }

    [TestMethod]
    public void Decode_CommonGrpcStrings_AreInterned()
    {
        var decoder = new HpackDecoder();
        var output = new List<KeyValuePair<string, string>>();
        byte[] block = [.. Literal(0x00, "grpc-status", "0"), .. Literal(0x00, "grpc-message", "")];

        decoder.Decode(block, output);

        Assert.AreSame("grpc-status", output[0].Key);
        Assert.AreSame("0", output[0].Value);
        Assert.AreSame("grpc-message", output[1].Key);
    }

    [TestMethod]
    public void Decode_Latin1Value_OneCharPerOctet()
    {
        var decoder = new HpackDecoder();
        var output = new List<KeyValuePair<string, string>>();

        decoder.Decode(Hex("0001 6103 e9ff 7f"), output);

        Assert.AreEqual("\u00e9\u00ff\u007f", output[0].Value);
    }

    [TestMethod]
    public void Malformed_TruncatedInteger()
    {
        AssertRejected("ff", "ends inside");
        AssertRejected("ff 80", "ends inside");
        AssertRejected("1f", "ends inside");
    }

    [TestMethod]
    public void Malformed_IntegerOverflow()
    {
        AssertRejected("ff ff ff ff ff 0f", "exceeds");
        AssertRejected("ff 80 80 80 80 80 00", "continuation bytes");
        AssertRejected("00 7f ff ff ff ff 0f", "exceeds"); // a string length
    }

    [TestMethod]
    public void Malformed_StringLengthBeyondInput()
    {
        AssertRejected("00 05 6162", "only 2 are left");

        // 1.8 GiB claimed, nothing behind it: refused before any allocation.
        AssertRejected("00 01 61 7f ff ff ff ff 06", "are left");
        AssertRejected("00 ff ff ff ff ff 06", "are left");
    }

    [TestMethod]
    public void Malformed_Truncated()
    {
        AssertRejected("04", "ends where a value string should start");
        AssertRejected("00", "ends where a name string should start");
        AssertRejected("00 01 61", "ends where a value string should start");
        AssertRejected("40 01 61", "ends where a value string should start");
    }

    [TestMethod]
    public void Malformed_IndexZero()
    {
        AssertRejected("80", "index 0");
    }

    [TestMethod]
    public void Malformed_IndexBeyondTheTable()
    {
        AssertRejected("be", "index 62 is beyond");
        AssertRejected("ff 80 80 80 80 07", "is beyond");
        AssertRejected("7f 01 01 61", "index 64 is beyond"); // as a literal's name index

        var decoder = new HpackDecoder();
        AssertBlock(decoder, "4001 6101 62", ("a", "b"));
        AssertBlock(decoder, "be", ("a", "b"));
        var e = Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("bf"), []));
        StringAssert.Contains(e.Message, "index 63 is beyond");
    }

    [TestMethod]
    public void Malformed_SizeUpdateAboveTheAdvertisedLimit()
    {
        AssertRejected("3f e2 1f", "4097 bytes, above the 4096");
        var decoder = new HpackDecoder(maxTableSize: 100);
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("3f 46"), [])); // 101
        decoder.Decode(Hex("3f 45"), []); // 100
    }

    [TestMethod]
    public void Malformed_SizeUpdateAfterAField()
    {
        AssertRejected("82 20", "after a header field");
    }

    [TestMethod]
    public void Malformed_HuffmanWithEos()
    {
        AssertRejected("04 84 ffff ffff", "EOS");
    }

    [TestMethod]
    public void Malformed_HuffmanBadPadding()
    {
        AssertRejected("04 81 00", "padding");
        AssertRejected("04 82 07ff", "padding");
    }

    [TestMethod]
    public void Malformed_HeaderListOverTheLimit()
    {
        // :method GET is 7 + 3 + 32 = 42 bytes of list; two are 84.
        var decoder = new HpackDecoder(maxHeaderListSize: 84);
        decoder.Decode(Hex("8282"), []);
        var e = Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("828282"), []));
        StringAssert.Contains(e.Message, "header list larger than the 84-byte limit");

        // A literal whose value alone is over the budget fails before the value is decoded.
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Literal(0x00, "x", new string('v', 60)), []));
    }

    [TestMethod]
    public void Malformed_StringOverTheLimit()
    {
        var decoder = new HpackDecoder(maxStringLength: 11);

        var e = Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("040c 2f73 616d 706c 652f 7061 7468"), []));

        StringAssert.Contains(e.Message, "11-byte limit");

        // Same with Huffman: "https://www.example.com" is 23 bytes decoded, 17 encoded.
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("0491 9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"), []));
    }

    [TestMethod]
    public void Malformed_UpperCaseName()
    {
        var e = Assert.ThrowsExactly<HpackException>(() => new HpackDecoder().Decode(Literal(0x00, "Content-Type", "x"), []));
        StringAssert.Contains(e.Message, "upper-case");

        // Huffman-coded, with incremental indexing: refused too, and not added to the table.
        byte[] name = "X-Custom"u8.ToArray();
        var huffman = new byte[HpackHuffman.GetEncodedLength(name)];
        HpackHuffman.TryEncode(name, huffman, out _);
        byte[] block = [0x40, (byte)(0x80 | huffman.Length), .. huffman, 0x01, (byte)'v'];
        var decoder = new HpackDecoder();
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(block, []));
        Assert.AreEqual(0, decoder.DynamicTableCount);
    }

    [TestMethod]
    public void Malformed_ForbiddenNameAndValueBytes()
    {
        AssertRejected(Convert.ToHexString(Literal(0x00, "", "x")), "empty header name");
        AssertRejected(Convert.ToHexString(Literal(0x00, "a b", "x")), "0x20");
        AssertRejected(Convert.ToHexString(Literal(0x00, "a:b", "x")), "0x3a");
        AssertRejected(Convert.ToHexString(Literal(0x00, "caf\u00e9", "x")), "0xe9");
        AssertRejected(Convert.ToHexString(Literal(0x00, "a", "x\r\ny: z")), "0x0d");
        AssertRejected(Convert.ToHexString(Literal(0x00, "a", "x\0")), "0x00");

        // Pseudo-header names, and white space inside and around a value, are fine.
        var output = new List<KeyValuePair<string, string>>();
        new HpackDecoder().Decode(Literal(0x00, ":x", " spaced\tvalue "), output);
        Assert.AreEqual(" spaced\tvalue ", output[0].Value);
    }

    [TestMethod]
    public void HostileBlock_AllocationBoundedByTheListLimit()
    {
        // A 1 MiB Huffman-coded value of valid symbols: the decoder stops at the 16 KiB list limit.
        byte[] plain = new byte[1 << 20];
        plain.AsSpan().Fill((byte)'0');
        var huffman = new byte[HpackHuffman.GetEncodedLength(plain)];
        HpackHuffman.TryEncode(plain, huffman, out _);
        var length = new byte[8];
        HpackInteger.TryEncode(huffman.Length, 7, 0x80, length, out int lengthBytes);
        byte[] block = [0x04, .. length.AsSpan(0, lengthBytes), .. huffman];

        var decoder = new HpackDecoder();
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(block, [])); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(block, []));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsTrue(allocated < 8 * 1024, $"allocated {allocated} bytes (the scratch buffer is reused; only the exception is new)");
    }

    [TestMethod]
    public void Decoder_AfterAnError_StaysUsableAndConsistent()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        AssertBlock(decoder, "4001 6101 62", ("a", "b"));

        Assert.ThrowsExactly<HpackException>(() => decoder.Decode(Hex("4001 6301 64 80"), []));

        // The literal before the error was added; the table is still coherent.
        AssertTable(decoder, 68, ("c", "d"), ("a", "b"));
    }

    internal static byte[] Literal(byte pattern, string name, string value)
    {
        // A literal with a new name, raw strings; the lengths here stay under 127.
        byte[] nameBytes = Encoding.Latin1.GetBytes(name);
        byte[] valueBytes = Encoding.Latin1.GetBytes(value);
        return [pattern, (byte)nameBytes.Length, .. nameBytes, (byte)valueBytes.Length, .. valueBytes];
    }

    private static void AssertBlock(HpackDecoder decoder, string hex, params (string Name, string Value)[] expected)
    {
        var output = new List<KeyValuePair<string, string>>();
        decoder.Decode(Hex(hex), output);
        CollectionAssert.AreEqual(
            expected.Select(f => $"{f.Name}: {f.Value}").ToArray(),
            output.Select(f => $"{f.Key}: {f.Value}").ToArray(),
            hex);
    }

    private static void AssertTable(HpackDecoder decoder, int size, params (string Name, string Value)[] entries)
    {
        Assert.AreEqual(size, decoder.DynamicTableSize, "table size");
        Assert.AreEqual(entries.Length, decoder.DynamicTableCount, "table entries");
        for (int i = 0; i < entries.Length; i++)
        {
            KeyValuePair<string, string> entry = decoder.GetDynamicEntry(i + 1);
            Assert.AreEqual($"{entries[i].Name}: {entries[i].Value}", $"{entry.Key}: {entry.Value}", $"entry [{i + 1}]");
        }
    }

    private static void AssertRejected(string hex, string messagePart)
    {
        var e = Assert.ThrowsExactly<HpackException>(() => new HpackDecoder().Decode(Hex(hex), []), hex);
        StringAssert.Contains(e.Message, messagePart, hex);
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
}
