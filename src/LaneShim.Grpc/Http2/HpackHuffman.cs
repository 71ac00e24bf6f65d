// HpackHuffman.cs - the static Huffman code of RFC 7541 Appendix B: a nibble-driven decoder that enforces section 5.2, and an encoder.
namespace LaneShim.Grpc.Http2;

/// <summary>
/// The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical (codes are assigned in order of
/// bit length, then symbol), so it is fully described by the 257 bit lengths below; the codes are computed from them.
/// </summary>
/// <remarks>
/// Decoding walks a 256-state machine four bits at a time: one table lookup per nibble, at most one symbol per
/// nibble (the shortest code is 5 bits). Each state is an internal node of the code tree. Section 5.2 is enforced:
/// the EOS symbol in the data, padding longer than 7 bits, and padding that is not the most significant bits of EOS
/// (all ones) are errors.
/// </remarks>
internal static class HpackHuffman
{
    /// <summary>The end-of-string symbol; it never appears in valid data, its prefix is the padding.</summary>
    public const int Eos = 256;

    /// <summary>The length of the longest code (EOS and a few control bytes).</summary>
    public const int MaxCodeLength = 30;

    // Bit lengths of symbols 0..255 and EOS (256), RFC 7541 Appendix B. Read from the .NET 10.0.12 runtime's
    // System.Net.Http HPACK table and checked against it, code by code, and against the RFC examples (see the tests).
    private static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..15
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..31
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32..47
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48..63
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64..79
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80..95
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96..111
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112..127
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
        30, // 256 (EOS)
    ];

    // A transition entry: bits 0..7 the next state, 8..15 the symbol emitted, then the flags.
    private const uint Emits = 1u << 16;
    private const uint HitsEos = 1u << 17;

    // The next state may end the string: it is the root, or 1..7 one-bits into a code (a valid padding).
    private const uint Accepts = 1u << 18;

    private const int StateCount = 256;

    // Right-aligned codes, computed once from the lengths.
    private static readonly uint[] s_codes = ComputeCodes();

    // [state * 16 + nibble] -> entry.
    private static readonly uint[] s_transitions = BuildTransitions();

    /// <summary>The code of <paramref name="symbol"/> (0..256), right-aligned, and its length in bits.</summary>
    public static (uint Code, int BitLength) GetCode(int symbol) => (s_codes[symbol], CodeLengths[symbol]);

    /// <summary>The bytes <paramref name="source"/> takes once encoded, padding included.</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source)
    {
        long bits = 0;
        foreach (byte b in source)
        {
            bits += CodeLengths[b];
        }

        // At most 30 bits per byte, so a span (at most int.MaxValue bytes) can need more than int.MaxValue bytes.
        long bytes = (bits + 7) >> 3;
        return bytes > int.MaxValue ? throw new ArgumentException("the encoded string would exceed 2 GiB", nameof(source)) : (int)bytes;
    }

    /// <summary>
    /// Encodes <paramref name="source"/> and pads the last byte with ones. Returns false, with nothing meaningful
    /// written, when <paramref name="destination"/> is shorter than <see cref="GetEncodedLength"/>.
    /// </summary>
    public static bool TryEncode(ReadOnlySpan<byte> source, Span<byte> destination, out int bytesWritten)
    {
        ulong pending = 0; // the low `bits` bits are still to be written; higher bits are stale and ignored
        int bits = 0;
        int written = 0;
        foreach (byte b in source)
        {
            int length = CodeLengths[b];
            pending = (pending << length) | s_codes[b];
            bits += length;
            while (bits >= 8)
            {
                if (written == destination.Length)
                {
                    bytesWritten = 0;
                    return false;
                }

                bits -= 8;
                destination[written++] = (byte)(pending >> bits);
            }
        }

        if (bits > 0)
        {
            if (written == destination.Length)
            {
                bytesWritten = 0;
                return false;
            }

            destination[written++] = (byte)((pending << (8 - bits)) | (0xFFu >> bits));
        }

        bytesWritten = written;
        return true;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/>. Returns false when the decoded
    /// string does not fit (the caller's length limit); a decoded string is at most <c>source.Length * 8 / 5</c> bytes.
    /// </summary>
    /// <exception cref="HpackException">The data holds EOS, or its padding is longer than 7 bits or not all ones.</exception>
    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int bytesWritten)
    {
        uint[] transitions = s_transitions;
        int state = 0;
        uint last = Accepts; // an empty string is valid
        int written = 0;
        foreach (byte b in source)
        {
            // Both lookups stay in range: state < 256 and a nibble < 16.
            last = transitions[(state << 4) | (b >> 4)];
            if ((last & (Emits | HitsEos)) != 0)
            {
                if ((last & HitsEos) != 0)
                {
                    throw new HpackException("Huffman-coded string contains the EOS symbol");
                }

                if (written == destination.Length)
                {
                    bytesWritten = written;
                    return false;
                }

                destination[written++] = (byte)(last >> 8);
            }

            state = (int)(last & 0xFF);
            last = transitions[(state << 4) | (b & 0xF)];
            if ((last & (Emits | HitsEos)) != 0)
            {
                if ((last & HitsEos) != 0)
                {
                    throw new HpackException("Huffman-coded string contains the EOS symbol");
                }

                if (written == destination.Length)
                {
                    bytesWritten = written;
                    return false;
                }

                destination[written++] = (byte)(last >> 8);
            }

            state = (int)(last & 0xFF);
        }

        if ((last & Accepts) == 0)
        {
            throw new HpackException("Huffman-coded string ends with padding that is longer than 7 bits or not all ones");
        }

        bytesWritten = written;
        return true;
    }

    private static uint[] ComputeCodes()
    {
        // Canonical assignment: walk the symbols by (length, symbol); each code is the previous one plus one,
        // shifted left by the growth in length.
        ReadOnlySpan<byte> lengths = CodeLengths;
        var codes = new uint[lengths.Length];
        uint code = 0;
        int previousLength = 0;
        bool first = true;
        for (int length = 1; length <= MaxCodeLength; length++)
        {
            for (int symbol = 0; symbol < lengths.Length; symbol++)
            {
                if (lengths[symbol] != length)
                {
                    continue;
                }

                code = first ? 0 : (code + 1) << (length - previousLength);
                first = false;
                previousLength = length;
                codes[symbol] = code;
            }
        }

        return codes;
    }

    private static uint[] BuildTransitions()
    {
        // The code tree: a child >= 0 is an internal node (a state), a child < 0 is the leaf ~symbol.
        // A complete code over 257 symbols has exactly 256 internal nodes.
        var children = new int[StateCount * 2];
        int nodes = 1;
        for (int symbol = 0; symbol <= Eos; symbol++)
        {
            int length = CodeLengths[symbol];
            uint code = s_codes[symbol];
            int node = 0;
            for (int bit = length - 1; bit > 0; bit--)
            {
                int slot = (node * 2) + (int)((code >> bit) & 1);
                if (children[slot] == 0)
                {
                    children[slot] = nodes++;
                }

                node = children[slot];
            }

            children[(node * 2) + (int)(code & 1)] = ~symbol;
        }

        // Accepting states: the root and the nodes 1..7 one-bits deep (a prefix of EOS short enough to be padding).
        var accepts = new bool[StateCount];
        for (int depth = 0, node = 0; depth <= 7; depth++, node = children[(node * 2) + 1])
        {
            accepts[node] = true;
        }

        var transitions = new uint[StateCount * 16];
        for (int state = 0; state < StateCount; state++)
        {
            for (int nibble = 0; nibble < 16; nibble++)
            {
                int node = state;
                uint flags = 0;
                uint symbolOut = 0;
                for (int bit = 3; bit >= 0; bit--)
                {
                    int child = children[(node * 2) + ((nibble >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    // Four bits hold at most one whole code (the shortest is five), so one symbol per nibble.
                    int symbol = ~child;
                    if (symbol == Eos)
                    {
                        flags |= HitsEos;
                    }
                    else
                    {
                        flags |= Emits;
                        symbolOut = (uint)symbol;
                    }

                    node = 0;
                }

                if (accepts[node])
                {
                    flags |= Accepts;
                }

                transitions[(state * 16) + nibble] = (uint)node | (symbolOut << 8) | flags;
            }
        }

        return transitions;
    }
}
