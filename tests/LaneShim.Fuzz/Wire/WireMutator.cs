// WireMutator.cs - breaks a fake broker's byte stream: frame-aware edits (drop, duplicate, reorder, retag) and blind byte edits.
namespace LaneShim.Fuzz.Wire;

/// <summary>
/// Mutations of a server's frames and bytes, so that invalid streams are covered as well as valid ones. Frame-level
/// edits keep the framing intact where the decoder's deeper checks live (wrong stream, flags, types, lengths, order,
/// payloads); byte-level edits (bit flips, inserted, deleted and duplicated runs, truncation, corrupt length fields at
/// frame starts) go anywhere.
/// </summary>
internal static class WireMutator
{
    private static readonly int[] EdgeLengths = [0, 1, 4, 5, 8, 9, 16383, 16384, 16385, 0xFFFFFF];
    private static readonly int[] EdgeStreams = [0, 1, 2, 3, 5, int.MaxValue, unchecked((int)0x80000001), unchecked((int)0x80000000)];

    /// <summary>One to three frame-level edits of <paramref name="frames"/> from index <paramref name="from"/> on.</summary>
    public static void MutateFrames(Random random, List<WireFrame> frames, int from)
    {
        for (int round = 1 + random.Next(3); round > 0; round--)
        {
            if (frames.Count <= from)
            {
                return;
            }

            int at = random.Next(from, frames.Count);
            WireFrame frame = frames[at];
            switch (random.Next(12))
            {
                case 0:
                    frames.RemoveAt(at);
                    break;
                case 1:
                    frames.Insert(random.Next(from, frames.Count + 1), frame.Clone());
                    break;
                case 2:
                    if (at + 1 < frames.Count)
                    {
                        (frames[at], frames[at + 1]) = (frames[at + 1], frames[at]);
                    }

                    break;
                case 3:
                    frame.StreamId = random.Next(3) == 0 ? random.Next() : EdgeStreams[random.Next(EdgeStreams.Length)];
                    break;
                case 4:
                    frame.Flags ^= (byte)(1 << random.Next(8));
                    break;
                case 5:
                    frame.Type = random.Next(2) == 0 ? (byte)random.Next(10) : (byte)random.Next(256);
                    break;
                case 6:
                    frame.Length = random.Next(2) == 0 ? EdgeLengths[random.Next(EdgeLengths.Length)] : Math.Max(0, frame.Payload.Length + random.Next(-3, 4));
                    break;
                case 7:
                    frame.Payload = MutatePayload(random, frame.Payload);
                    break;
                case 8:
                    // PADDED with a pad length byte the payload cannot hold, or PADDED toggled without one.
                    frame.Flags ^= WireFrame.Padded;
                    if (frame.Payload.Length > 0 && random.Next(2) == 0)
                    {
                        frame.Payload[0] = (byte)(random.Next(2) == 0 ? 0xFF : frame.Payload.Length);
                    }

                    break;
                case 9:
                    frames.RemoveRange(at, frames.Count - at);
                    break;
                case 10:
                    // A frame's payload moved into a frame of another type: header block bytes as DATA and the like.
                    frames.Insert(at, new WireFrame((byte)random.Next(10), (byte)random.Next(256), frame.StreamId, (byte[])frame.Payload.Clone()));
                    break;
                default:
                    // Split a frame in two without telling the receiver (no END_HEADERS, a CONTINUATION after).
                    if (frame.Payload.Length > 1)
                    {
                        int cut = random.Next(1, frame.Payload.Length);
                        byte[] rest = frame.Payload[cut..];
                        frame.Payload = frame.Payload[..cut];
                        frame.Flags &= unchecked((byte)~WireFrame.EndHeaders);
                        frames.Insert(at + 1, new WireFrame(WireFrame.Continuation, WireFrame.EndHeaders, frame.StreamId, rest));
                    }

                    break;
            }
        }
    }

    /// <summary>One to four blind edits of <paramref name="bytes"/> at or after <paramref name="from"/>; <paramref name="frameStarts"/> are where frames began.</summary>
    public static void MutateBytes(Random random, List<byte> bytes, int from, List<int> frameStarts)
    {
        for (int round = 1 + random.Next(4); round > 0; round--)
        {
            int span = bytes.Count - from;
            if (span <= 0)
            {
                bytes.AddRange(RandomBytes(random, random.Next(1, 32)));
                return;
            }

            int at = from + random.Next(span);
            switch (random.Next(8))
            {
                case 0:
                    for (int i = random.Next(1, 9); i > 0; i--)
                    {
                        int where = from + random.Next(span);
                        bytes[where] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1:
                    bytes[at] = (byte)(random.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x80, _ => random.Next(256) });
                    break;
                case 2:
                    bytes.InsertRange(at, RandomBytes(random, random.Next(1, 16)));
                    break;
                case 3:
                    bytes.RemoveRange(at, random.Next(1, Math.Min(64, bytes.Count - at) + 1));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 5:
                {
                    // A run of bytes repeated: often a whole frame, when it starts at a frame boundary.
                    int start = frameStarts.Count > 0 && random.Next(2) == 0 ? frameStarts[random.Next(frameStarts.Count)] : at;
                    if (start >= from && start < bytes.Count)
                    {
                        int length = random.Next(1, Math.Min(256, bytes.Count - start) + 1);
                        bytes.InsertRange(random.Next(start, bytes.Count + 1), bytes.GetRange(start, length));
                    }

                    break;
                }
                case 6:
                {
                    // The 24-bit length field of a frame.
                    int start = frameStarts.Count > 0 ? frameStarts[random.Next(frameStarts.Count)] : at;
                    if (start >= from && start + 3 <= bytes.Count)
                    {
                        int length = random.Next(2) == 0 ? EdgeLengths[random.Next(EdgeLengths.Length)] : random.Next(1 << 24);
                        bytes[start] = (byte)(length >> 16);
                        bytes[start + 1] = (byte)(length >> 8);
                        bytes[start + 2] = (byte)length;
                    }

                    break;
                }
                default:
                {
                    // The type or flags byte of a frame.
                    int start = frameStarts.Count > 0 ? frameStarts[random.Next(frameStarts.Count)] : at;
                    if (start >= from && start + 5 <= bytes.Count)
                    {
                        bytes[start + 3 + random.Next(2)] = (byte)random.Next(256);
                    }

                    break;
                }
            }
        }
    }

    private static byte[] MutatePayload(Random random, byte[] payload)
    {
        List<byte> data = [.. payload];
        switch (random.Next(4))
        {
            case 0:
                if (data.Count > 0)
                {
                    data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                }

                break;
            case 1:
                if (data.Count > 0)
                {
                    data.RemoveAt(random.Next(data.Count));
                }

                break;
            case 2:
                int keep = random.Next(data.Count + 1);
                data.RemoveRange(keep, data.Count - keep);
                break;
            default:
                data.InsertRange(random.Next(data.Count + 1), RandomBytes(random, random.Next(1, 12)));
                break;
        }

        return [.. data];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
