// ResponseHpackEncoder.cs - the fake broker's HPACK encoder: every representation RFC 7541 allows, chosen at random, with a dynamic table.
using System.Text;
using LaneShim.Grpc.Http2;

namespace LaneShim.Fuzz.Wire;

/// <summary>
/// Encodes response header blocks as varied as real servers make them: indexed fields (static and dynamic), literals
/// with incremental indexing, without indexing and never indexed, literal or indexed names, raw or Huffman strings,
/// dynamic table size updates, and now and then integers with redundant continuation bytes. It mirrors the dynamic table
/// the agent's decoder builds, so later blocks on the connection (trailers, a second call) can refer to earlier ones.
/// One encoder per connection; the repository's HpackEncoder writes only what a request needs, hence this one.
/// </summary>
internal sealed class ResponseHpackEncoder
{
    /// <summary>The agent's SETTINGS_HEADER_TABLE_SIZE: it advertises none, so the protocol's 4096.</summary>
    public const int PeerMaxTableSize = 4096;

    private static readonly Dictionary<(string, string), int> s_staticFields = BuildStaticFields();
    private static readonly Dictionary<string, int> s_staticNames = BuildStaticNames();

    private readonly List<KeyValuePair<string, string>> _dynamic = []; // newest first: dynamic index 1 is _dynamic[0]
    private int _tableSize;
    private int _maxTableSize = PeerMaxTableSize;

    /// <summary>Appends one header block for <paramref name="fields"/> to <paramref name="output"/>.</summary>
    /// <param name="illegal">Allows representations the decoder must refuse (a table size above the limit, too many continuation bytes).</param>
    public void Encode(IReadOnlyList<KeyValuePair<string, string>> fields, Random random, List<byte> output, bool illegal)
    {
        if (random.Next(8) == 0)
        {
            for (int i = 1 + random.Next(2); i > 0; i--)
            {
                int size = random.Next(6) switch { 0 => 0, 1 => PeerMaxTableSize, 2 => 64, 3 => 200, _ => random.Next(PeerMaxTableSize + 1) };
                if (illegal && random.Next(4) == 0)
                {
                    size = random.Next(2) == 0 ? PeerMaxTableSize + 1 : int.MaxValue;
                }

                WriteInteger(size, 5, 0x20, random, illegal, output);
                if (size <= PeerMaxTableSize)
                {
                    _maxTableSize = size;
                    EvictTo(size);
                }
            }
        }

        foreach (KeyValuePair<string, string> field in fields)
        {
            int exact = FindField(field.Key, field.Value);
            if (exact > 0 && random.Next(4) != 0)
            {
                WriteInteger(exact, 7, 0x80, random, illegal, output);
                continue;
            }

            (byte pattern, int prefix) = random.Next(3) switch { 0 => ((byte)0x40, 6), 1 => ((byte)0x00, 4), _ => ((byte)0x10, 4) };
            int nameIndex = FindName(field.Key);
            if (nameIndex > 0 && random.Next(4) != 0)
            {
                WriteInteger(nameIndex, prefix, pattern, random, illegal, output);
            }
            else
            {
                WriteInteger(0, prefix, pattern, random, illegal, output);
                WriteString(field.Key, random, illegal, output);
            }

            WriteString(field.Value, random, illegal, output);
            if (pattern == 0x40)
            {
                Insert(field);
            }
        }
    }

    private static void WriteString(string text, Random random, bool illegal, List<byte> output)
    {
        byte[] octets = Encoding.Latin1.GetBytes(text);
        if (random.Next(2) == 0)
        {
            byte[] encoded = new byte[HpackHuffman.GetEncodedLength(octets)];
            if (HpackHuffman.TryEncode(octets, encoded, out int length))
            {
                WriteInteger(length, 7, 0x80, random, illegal, output);
                output.AddRange(encoded.AsSpan(0, length));
                return;
            }
        }

        WriteInteger(octets.Length, 7, 0x00, random, illegal, output);
        output.AddRange(octets);
    }

    // RFC 7541 section 5.1; sometimes with redundant zero continuation groups, which decoders must accept up to their limit.
    private static void WriteInteger(int value, int prefixBits, byte pattern, Random random, bool illegal, List<byte> output)
    {
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            output.Add((byte)(pattern | value));
            return;
        }

        // Redundant groups: allowed while the total stays within the decoder's five continuation bytes.
        int extra = random.Next(64) == 0 ? random.Next(1, illegal ? 7 : 3) : 0;
        output.Add((byte)(pattern | mask));
        int rest = value - mask;
        while (rest >= 0x80)
        {
            output.Add((byte)((rest & 0x7F) | 0x80));
            rest >>= 7;
        }

        for (; extra > 0; extra--)
        {
            output.Add((byte)(rest | 0x80));
            rest = 0;
        }

        output.Add((byte)rest);
    }

    private int FindField(string name, string value)
    {
        if (s_staticFields.TryGetValue((name, value), out int index))
        {
            return index;
        }

        for (int i = 0; i < _dynamic.Count; i++)
        {
            if (_dynamic[i].Key == name && _dynamic[i].Value == value)
            {
                return HpackStaticTable.Count + 1 + i;
            }
        }

        return 0;
    }

    private int FindName(string name)
    {
        if (s_staticNames.TryGetValue(name, out int index))
        {
            return index;
        }

        for (int i = 0; i < _dynamic.Count; i++)
        {
            if (_dynamic[i].Key == name)
            {
                return HpackStaticTable.Count + 1 + i;
            }
        }

        return 0;
    }

    private void Insert(KeyValuePair<string, string> field)
    {
        int size = field.Key.Length + field.Value.Length + HpackDecoder.EntryOverhead;
        if (size > _maxTableSize)
        {
            EvictTo(0);
            return;
        }

        EvictTo(_maxTableSize - size);
        _dynamic.Insert(0, field);
        _tableSize += size;
    }

    private void EvictTo(int size)
    {
        while (_tableSize > size)
        {
            KeyValuePair<string, string> oldest = _dynamic[^1];
            _dynamic.RemoveAt(_dynamic.Count - 1);
            _tableSize -= oldest.Key.Length + oldest.Value.Length + HpackDecoder.EntryOverhead;
        }
    }

    private static Dictionary<(string, string), int> BuildStaticFields()
    {
        var fields = new Dictionary<(string, string), int>();
        for (int i = HpackStaticTable.Count; i >= 1; i--)
        {
            KeyValuePair<string, string> entry = HpackStaticTable.Get(i);
            fields[(entry.Key, entry.Value)] = i; // lowest index wins
        }

        return fields;
    }

    private static Dictionary<string, int> BuildStaticNames()
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = HpackStaticTable.Count; i >= 1; i--)
        {
            names[HpackStaticTable.Get(i).Key] = i;
        }

        return names;
    }
}
