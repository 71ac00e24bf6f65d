// HpackHuffmanTests.cs - the Huffman table is RFC 7541 Appendix B, the decoder enforces section 5.2, and both directions agree.
using System.Reflection;
using System.Text;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

[TestClass]
public sealed class HpackHuffmanTests
{
    // The Huffman-coded strings of RFC 7541 C.4 and C.6.
    private static readonly (string Text, string Hex)[] s_rfcStrings =
    [
        ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
        ("no-cache", "a8eb 1064 9cbf"),
        ("custom-key", "25a8 49e9 5ba9 7d7f"),
        ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
        ("302", "6402"),
        ("307", "640e ff"),
        ("private", "aec3 771a 4b"),
        ("Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"),
        ("Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"),
        ("https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"),
        ("gzip", "9bd9 ab"),
        ("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"),
    ];

    [TestMethod]
    public void Codes_KnownSymbols_MatchAppendixB()
    {
        // (symbol, code, bits) as printed in RFC 7541 Appendix B.
        (int Symbol, uint Code, int Bits)[] known =
        [
            ('0', 0b00000, 5),
            ('a', 0b00011, 5),
            (' ', 0b010100, 6),
            ('A', 0b100001, 6),
            (':', 0x5c, 7),
            ('z', 0x7b, 7),
            ('&', 0xf8, 8),
            (0, 0x1ff8, 13),
            (1, 0x7fffd8, 23),
            (254, 0x7fffff0, 27),
            (255, 0x3ffffee, 26),
            (HpackHuffman.Eos, 0x3fffffff, 30),
        ];

        foreach ((int symbol, uint code, int bits) in known)
        {
            Assert.AreEqual((code, bits), HpackHuffman.GetCode(symbol), $"symbol {symbol}");
        }
    }

    [TestMethod]
    public void Codes_KraftSum_IsExactlyOne()
    {
        // A complete prefix code: sum of 2^-length over all 257 symbols is 1, counted in units of 2^-30.
        long sum = 0;
        for (int symbol = 0; symbol <= HpackHuffman.Eos; symbol++)
        {
            sum += 1L << (HpackHuffman.MaxCodeLength - HpackHuffman.GetCode(symbol).BitLength);
        }

        Assert.AreEqual(1L << HpackHuffman.MaxCodeLength, sum);
    }

    [TestMethod]
    public void Codes_AreCanonicalAndPrefixFree()
    {
        // Ordered by (length, symbol), each left-aligned code is strictly above the previous one's whole subtree.
        int[] order = Enumerable.Range(0, HpackHuffman.Eos + 1)
            .OrderBy(s => HpackHuffman.GetCode(s).BitLength).ThenBy(s => s).ToArray();
        ulong previousEnd = 0;
        foreach (int symbol in order)
        {
            (uint code, int bits) = HpackHuffman.GetCode(symbol);
            Assert.IsTrue(code < (1u << bits), $"symbol {symbol}: code wider than its length");
            ulong start = (ulong)code << (32 - bits);
            Assert.AreEqual(previousEnd, start, $"symbol {symbol} does not follow the previous code canonically");
            previousEnd = start + (1UL << (32 - bits));
        }

        Assert.AreEqual(1UL << 32, previousEnd, "the codes cover the whole code space");
    }

    [TestMethod]
    public void Codes_MatchTheInstalledRuntimesTable()
    {
        // A second, independent copy of Appendix B: System.Net.Http's own HPACK table, read by reflection.
        Type? huffman = typeof(HttpClient).Assembly.GetType("System.Net.Http.HPack.Huffman");
        MethodInfo? codesGetter = huffman?.GetMethod("get_EncodingTableCodes", BindingFlags.Static | BindingFlags.NonPublic);
        MethodInfo? lengthsGetter = huffman?.GetMethod("get_EncodingTableBitLengths", BindingFlags.Static | BindingFlags.NonPublic);
        if (codesGetter is null || lengthsGetter is null)
        {
            Assert.Inconclusive("this runtime's System.Net.Http has no HPack.Huffman table to compare with (internal; it moved)");
        }

        uint[] codes = codesGetter.CreateDelegate<Func<ReadOnlySpan<uint>>>()().ToArray();
        byte[] lengths = lengthsGetter.CreateDelegate<Func<ReadOnlySpan<byte>>>()().ToArray();
        Assert.AreEqual(HpackHuffman.Eos + 1, codes.Length);
        Assert.AreEqual(HpackHuffman.Eos + 1, lengths.Length);
        for (int symbol = 0; symbol <= HpackHuffman.Eos; symbol++)
        {
            (uint code, int bits) = HpackHuffman.GetCode(symbol);
            Assert.AreEqual(lengths[symbol], bits, $"length of symbol {symbol}");
            Assert.AreEqual(codes[symbol], code << (32 - bits), $"code of symbol {symbol} (runtime's is left-aligned)");
        }
    }

    [TestMethod]
    public void Encode_RfcExamples_ExactBytes()
    {
        foreach ((string text, string hex) in s_rfcStrings)
        {
            byte[] expected = Hex(hex);
            byte[] plain = Encoding.Latin1.GetBytes(text);
            Assert.AreEqual(expected.Length, HpackHuffman.GetEncodedLength(plain), text);
            var buffer = new byte[expected.Length];
            Assert.IsTrue(HpackHuffman.TryEncode(plain, buffer, out int written), text);
            Assert.AreEqual(expected.Length, written, text);
            CollectionAssert.AreEqual(expected, buffer, text);
        }
    }

    [TestMethod]
    public void Decode_RfcExamples_Text()
    {
        foreach ((string text, string hex) in s_rfcStrings)
        {
            Assert.AreEqual(text, DecodeToString(Hex(hex)), hex);
        }
    }

    [TestMethod]
    public void RoundTrip_EverySymbol()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        CollectionAssert.AreEqual(all, RoundTrip(all));
        for (int i = 0; i < 256; i++)
        {
            CollectionAssert.AreEqual(new[] { (byte)i }, RoundTrip([(byte)i]), $"byte {i} alone");
        }
    }

    [TestMethod]
    public void RoundTrip_RandomStrings()
    {
        var random = new Random(7541);
        for (int i = 0; i < 5000; i++)
        {
            var data = new byte[random.Next(0, 200)];
            random.NextBytes(data);
            if (i % 2 == 0)
            {
                // Half of them printable, where the short codes (and so the nibble boundaries) are exercised more.
                for (int j = 0; j < data.Length; j++)
                {
                    data[j] = (byte)random.Next(0x20, 0x7F);
                }
            }

            CollectionAssert.AreEqual(data, RoundTrip(data), Convert.ToHexString(data));
        }
    }

    [TestMethod]
    public void Decode_Empty_Empty()
    {
        Assert.AreEqual(string.Empty, DecodeToString([]));
    }

    [TestMethod]
    public void Decode_ShortPaddingOfOnes_Accepted()
    {
        // '0' is 00000, then 111 of padding.
        Assert.AreEqual("0", DecodeToString([0x07]));
    }

    [TestMethod]
    public void Decode_EosInData_Rejected()
    {
        // 30 ones (EOS) then two zero bits.
        var e = Assert.ThrowsExactly<HpackException>(() => DecodeToString(Hex("ffff fffc")));
        StringAssert.Contains(e.Message, "EOS");

        // EOS after a real symbol, then padding.
        Assert.ThrowsExactly<HpackException>(() => DecodeToString(Hex("07ff ffff ff")));
    }

    [TestMethod]
    public void Decode_PaddingOfEightOnes_Rejected()
    {
        Assert.ThrowsExactly<HpackException>(() => DecodeToString([0xFF]));
        Assert.ThrowsExactly<HpackException>(() => DecodeToString([0x07, 0xFF]), "'0', 3 bits of padding, then a whole byte more");
    }

    [TestMethod]
    public void Decode_PaddingNotAllOnes_Rejected()
    {
        Assert.ThrowsExactly<HpackException>(() => DecodeToString([0x00]), "'0' then 000");
        Assert.ThrowsExactly<HpackException>(() => DecodeToString([0x06]), "'0' then 110");
        Assert.ThrowsExactly<HpackException>(() => DecodeToString([0x05]), "'0' then 101");
    }

    [TestMethod]
    public void Decode_EveryTruncationOfAValidString_DecodesOrThrowsHpackException()
    {
        byte[] encoded = Hex("94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27");
        for (int length = 0; length <= encoded.Length; length++)
        {
            try
            {
                DecodeToString(encoded[..length]);
            }
            catch (HpackException)
            {
            }
        }
    }

    [TestMethod]
    public void TryDecode_DestinationTooSmall_False()
    {
        byte[] encoded = Hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"); // www.example.com, 15 bytes

        Assert.IsFalse(HpackHuffman.TryDecode(encoded, new byte[14], out _));
        Assert.IsTrue(HpackHuffman.TryDecode(encoded, new byte[15], out int written));
        Assert.AreEqual(15, written);
    }

    [TestMethod]
    public void TryEncode_DestinationTooSmall_False()
    {
        byte[] plain = "www.example.com"u8.ToArray();
        for (int size = 0; size < 12; size++)
        {
            Assert.IsFalse(HpackHuffman.TryEncode(plain, new byte[size], out int written), $"{size} bytes");
            Assert.AreEqual(0, written);
        }
    }

    private static byte[] RoundTrip(byte[] data)
    {
        var encoded = new byte[HpackHuffman.GetEncodedLength(data)];
        Assert.IsTrue(HpackHuffman.TryEncode(data, encoded, out int written));
        Assert.AreEqual(encoded.Length, written);
        var decoded = new byte[(encoded.Length * 8 / 5) + 1];
        Assert.IsTrue(HpackHuffman.TryDecode(encoded, decoded, out int length));
        return decoded[..length];
    }

    private static string DecodeToString(byte[] encoded)
    {
        var decoded = new byte[(encoded.Length * 8 / 5) + 1];
        Assert.IsTrue(HpackHuffman.TryDecode(encoded, decoded, out int length));
        return Encoding.Latin1.GetString(decoded, 0, length);
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
}
