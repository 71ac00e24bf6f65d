// HpackDecoder.cs - decodes the header blocks one HTTP/2 connection receives (RFC 7541), bounded against hostile peers.
using System.Text;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// The receiving side of HPACK for one HTTP/2 connection: holds the dynamic table the peer's encoder fills and
/// turns each complete header block (HEADERS plus its CONTINUATION fragments, concatenated) into a header list.
/// </summary>
/// <remarks>
/// <para>Every malformed block, and every block that breaks a limit, fails with <see cref="HpackException"/> and
/// nothing else. After one, the dynamic table may differ from the peer's: close the connection (COMPRESSION_ERROR).</para>
/// <para>Memory is bounded by the constructor's limits: the dynamic table by <c>maxTableSize</c>, and what one block
/// can produce by <c>maxHeaderListSize</c> (each string is checked against the remaining budget before it is
/// allocated). The caller bounds the size of the block itself.</para>
/// <para>Not thread-safe: header blocks on a connection are decoded in the order they arrive, one at a time.</para>
/// </remarks>
internal sealed class HpackDecoder
{
    /// <summary>The SETTINGS_HEADER_TABLE_SIZE every HTTP/2 endpoint starts with.</summary>
    public const int DefaultMaxTableSize = 4096;

    /// <summary>The default bound on a decoded header list, counted as SETTINGS_MAX_HEADER_LIST_SIZE counts it.</summary>
    public const int DefaultMaxHeaderListSize = 16 * 1024;

    /// <summary>RFC 7541 section 4.1: each entry costs its name and value octets plus this overhead.</summary>
    public const int EntryOverhead = 32;

    // Huffman-coded strings shorter than this decode on the stack.
    private const int StackScratchLength = 256;

    // Decoded strings that gRPC responses repeat; handing back these instances saves an allocation per call.
    private static readonly string[] s_knownStrings =
    [
        "0", "200", ":status", "content-type", "application/grpc", "application/grpc+proto", "grpc-status",
        "grpc-message", "grpc-encoding", "grpc-accept-encoding", "identity", "identity,deflate,gzip", "date",
        "server", "content-length", "trailers", "te",
    ];

    private readonly int _maxTableSizeLimit;
    private readonly int _maxHeaderListSize;
    private readonly int _maxStringLength;

    // The dynamic table, a ring: the newest entry is just before _next, the oldest _count entries back.
    private KeyValuePair<string, string>[] _entries = [];
    private int _next;
    private int _count;
    private int _tableSize;
    private int _maxTableSize;

    private byte[]? _scratch;

    /// <summary>Creates a decoder with an empty dynamic table.</summary>
    /// <param name="maxTableSize">The SETTINGS_HEADER_TABLE_SIZE this endpoint advertised: the dynamic table's
    /// starting size and the most a dynamic table size update may ask for.</param>
    /// <param name="maxHeaderListSize">The most one block may decode to: the sum over its fields of name and value
    /// octets plus 32.</param>
    /// <param name="maxStringLength">The longest single name or value accepted; by default the list limit decides.</param>
    public HpackDecoder(int maxTableSize = DefaultMaxTableSize, int maxHeaderListSize = DefaultMaxHeaderListSize, int maxStringLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStringLength);
        _maxTableSizeLimit = maxTableSize;
        _maxTableSize = maxTableSize;
        _maxHeaderListSize = maxHeaderListSize;
        _maxStringLength = maxStringLength;
    }

    /// <summary>The dynamic table's current maximum size: the limit, or less after a size update from the peer.</summary>
    public int MaxDynamicTableSize => _maxTableSize;

    /// <summary>The dynamic table's size in the RFC's accounting (name + value + 32 per entry).</summary>
    public int DynamicTableSize => _tableSize;

    /// <summary>Entries in the dynamic table.</summary>
    public int DynamicTableCount => _count;

    /// <summary>The dynamic table entry at <paramref name="index"/>, 1 being the newest (HPACK index 62).</summary>
    public KeyValuePair<string, string> GetDynamicEntry(int index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, _count);
        return _entries[Slot(index)];
    }

    /// <summary>
    /// Decodes one complete header block and appends its fields, in order, to <paramref name="output"/>.
    /// Names are lower-case ASCII as received; values are Latin-1 (one char per octet).
    /// </summary>
    /// <exception cref="HpackException">The block is malformed, or breaks a limit; the connection must be closed.</exception>
    public void Decode(ReadOnlySpan<byte> headerBlock, List<KeyValuePair<string, string>> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int pos = 0;
        long listSize = 0;
        bool fieldSeen = false;
        while (pos < headerBlock.Length)
        {
            byte first = headerBlock[pos];
            if ((first & 0x80) != 0)
            {
                // 1xxxxxxx: indexed field (section 6.1).
                int index = HpackInteger.Decode(headerBlock, ref pos, 7);
                Emit(Lookup(index), output, ref listSize);
                fieldSeen = true;
            }
            else if ((first & 0x40) != 0)
            {
                // 01xxxxxx: literal with incremental indexing (section 6.2.1).
                KeyValuePair<string, string> field = ReadLiteral(headerBlock, ref pos, 6, listSize);
                Emit(field, output, ref listSize);
                Insert(field);
                fieldSeen = true;
            }
            else if ((first & 0x20) != 0)
            {
                // 001xxxxx: dynamic table size update (section 6.3), only before the first field (section 4.2).
                if (fieldSeen)
                {
                    throw new HpackException("dynamic table size update after a header field; it may only start a header block");
                }

                int size = HpackInteger.Decode(headerBlock, ref pos, 5);
                if (size > _maxTableSizeLimit)
                {
                    throw new HpackException($"dynamic table size update to {size} bytes, above the {_maxTableSizeLimit} advertised in SETTINGS_HEADER_TABLE_SIZE");
                }

                _maxTableSize = size;
                EvictTo(size);
            }
            else
            {
                // 0000xxxx without indexing, 0001xxxx never indexed (sections 6.2.2, 6.2.3): the same to a decoder
                // that does not re-encode.
                Emit(ReadLiteral(headerBlock, ref pos, 4, listSize), output, ref listSize);
                fieldSeen = true;
            }
        }
    }

    private KeyValuePair<string, string> Lookup(int index)
    {
        if (index == 0)
        {
            throw new HpackException("index 0 is not a valid table index");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        // Compare as long: index is at most int.MaxValue and so is the sum, but not with room to spare.
        if ((long)index > (long)HpackStaticTable.Count + _count)
        {
            throw new HpackException($"index {index} is beyond the table ({HpackStaticTable.Count} static + {_count} dynamic entries)");
        }

        return _entries[Slot(index - HpackStaticTable.Count)];
    }

    private KeyValuePair<string, string> ReadLiteral(ReadOnlySpan<byte> block, ref int pos, int prefixBits, long listSize)
    {
        int nameIndex = HpackInteger.Decode(block, ref pos, prefixBits);

        // What this field may still use of the list budget, overhead included, before its strings are allocated.
        long budget = _maxHeaderListSize - listSize - EntryOverhead;
        if (budget < 0)
        {
            throw ListTooLarge();
        }

        string name;
        if (nameIndex == 0)
        {
            name = ReadString(block, ref pos, budget, isName: true);
        }
        else
        {
            name = Lookup(nameIndex).Key;
        }

        string value = ReadString(block, ref pos, budget - name.Length, isName: false);
        return new KeyValuePair<string, string>(name, value);
    }

    private string ReadString(ReadOnlySpan<byte> block, ref int pos, long budget, bool isName)
    {
        if (pos >= block.Length)
        {
            throw new HpackException($"header block ends where a {(isName ? "name" : "value")} string should start");
        }

        bool huffman = (block[pos] & 0x80) != 0;
        int length = HpackInteger.Decode(block, ref pos, 7);
        if (length > block.Length - pos)
        {
            throw new HpackException($"{(isName ? "name" : "value")} string of {length} bytes, but only {block.Length - pos} are left in the header block");
        }

        ReadOnlySpan<byte> encoded = block.Slice(pos, length);
        pos += length;
        int limit = (int)Math.Min(budget, _maxStringLength);
        if (limit < 0)
        {
            throw ListTooLarge();
        }

        if (huffman)
        {
            // Decoded length is at most 8/5 of the encoded one (5-bit shortest code); a buffer of the smaller of
            // that and the limit holds any string that is allowed.
            int capacity = (int)Math.Min((long)length * 8 / 5, limit);
            Span<byte> scratch = capacity <= StackScratchLength ? stackalloc byte[StackScratchLength] : RentScratch(capacity);
            if (!HpackHuffman.TryDecode(encoded, scratch[..capacity], out int decoded))
            {
                throw StringTooLong(isName, limit);
            }

            return MakeString(scratch[..decoded], isName);
        }

        if (length > limit)
        {
            throw StringTooLong(isName, limit);
        }

        return MakeString(encoded, isName);
    }

    private static string MakeString(ReadOnlySpan<byte> octets, bool isName)
    {
        if (isName)
        {
            ValidateName(octets);
        }
        else
        {
            ValidateValue(octets);
        }

        return Known(octets) ?? Encoding.Latin1.GetString(octets);
    }

    private HpackException StringTooLong(bool isName, int limit) =>
        limit == _maxStringLength
            ? new HpackException($"{(isName ? "name" : "value")} string longer than the {_maxStringLength}-byte limit")
            : ListTooLarge();

    private HpackException ListTooLarge() =>
        new($"header list larger than the {_maxHeaderListSize}-byte limit (name + value + 32 per field)");

    private byte[] RentScratch(int capacity)
    {
        // Grows in powers of two up to what the limits allow, then is reused for the life of the connection.
        if (_scratch is null || _scratch.Length < capacity)
        {
            _scratch = new byte[Math.Max(capacity, Math.Min(2 * (_scratch?.Length ?? StackScratchLength), _maxHeaderListSize))];
        }

        return _scratch;
    }

    private static void ValidateName(ReadOnlySpan<byte> name)
    {
        // RFC 9113 section 8.2.1: a name has no controls, space, upper case, DEL or non-ASCII, and a colon only
        // where a pseudo-header starts. An HTTP/2 peer that sends upper case is broken or hostile.
        if (name.IsEmpty)
        {
            throw new HpackException("empty header name");
        }

        for (int i = 0; i < name.Length; i++)
        {
            byte b = name[i];
            if (b <= 0x20 || b >= 0x7F || (b >= (byte)'A' && b <= (byte)'Z') || (b == (byte)':' && i > 0))
            {
                throw new HpackException(b is >= (byte)'A' and <= (byte)'Z'
                    ? $"header name has an upper-case letter '{(char)b}' at {i}; HTTP/2 names are lower case"
                    : $"header name has the byte 0x{b:x2} at {i}, which HTTP/2 forbids in a name");
            }
        }
    }

    private static void ValidateValue(ReadOnlySpan<byte> value)
    {
        // RFC 9113 section 8.2.1: NUL, CR and LF never appear in a value (they would split a header when relayed).
        // Leading and trailing white space is tolerated: gRPC servers send grpc-message text as it is.
        int bad = value.IndexOfAny((byte)0, (byte)'\r', (byte)'\n');
        if (bad >= 0)
        {
            throw new HpackException($"header value has the byte 0x{value[bad]:x2} at {bad}, which HTTP/2 forbids in a value");
        }
    }

    private static string? Known(ReadOnlySpan<byte> octets)
    {
        foreach (string known in s_knownStrings)
        {
            if (known.Length == octets.Length && Ascii.Equals(octets, known))
            {
                return known;
            }
        }

        return null;
    }

    private void Emit(KeyValuePair<string, string> field, List<KeyValuePair<string, string>> output, ref long listSize)
    {
        listSize += (long)field.Key.Length + field.Value.Length + EntryOverhead;
        if (listSize > _maxHeaderListSize)
        {
            throw ListTooLarge();
        }

        output.Add(field);
    }

    private void Insert(KeyValuePair<string, string> field)
    {
        // Section 4.4: make room by evicting the oldest; an entry larger than the whole table empties it and is not kept.
        long size = (long)field.Key.Length + field.Value.Length + EntryOverhead;
        if (size > _maxTableSize)
        {
            EvictTo(0);
            return;
        }

        EvictTo(_maxTableSize - (int)size);
        if (_count == _entries.Length)
        {
            Grow();
        }

        _entries[_next] = field;
        _next = _next + 1 == _entries.Length ? 0 : _next + 1;
        _count++;
        _tableSize += (int)size;
    }

    private void Grow()
    {
        // Each entry costs at least 32, so the table never holds more than limit / 32 entries; grow toward that.
        int most = Math.Max(_maxTableSizeLimit / EntryOverhead, 1);
        int capacity = Math.Min(Math.Max(_entries.Length * 2, 16), most);
        var entries = new KeyValuePair<string, string>[Math.Max(capacity, _count + 1)];
        for (int i = 0; i < _count; i++)
        {
            // Oldest first, so the ring restarts at slot 0.
            entries[i] = _entries[Slot(_count - i)];
        }

        _entries = entries;
        _next = _count == entries.Length ? 0 : _count;
    }

    private void EvictTo(int size)
    {
        while (_tableSize > size)
        {
            int oldest = Slot(_count);
            KeyValuePair<string, string> entry = _entries[oldest];
            _tableSize -= entry.Key.Length + entry.Value.Length + EntryOverhead;
            _entries[oldest] = default;
            _count--;
        }
    }

    // Ring slot of the entry at 1-based dynamic index (1 = newest).
    private int Slot(int index)
    {
        int slot = _next - index;
        return slot < 0 ? slot + _entries.Length : slot;
    }
}
