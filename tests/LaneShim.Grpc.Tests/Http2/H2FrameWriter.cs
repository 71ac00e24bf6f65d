// H2FrameWriter.cs - builds the raw HTTP/2 frames (RFC 9113 section 6) a scripted server sends, including ones a real server never would.
using System.Buffers.Binary;
using System.Text;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>Each method returns one complete frame (9-byte header and payload); <see cref="Concat"/> joins several into one write.</summary>
internal static class H2FrameWriter
{
    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;

    /// <summary>Any frame; <paramref name="declaredLength"/> overrides the length field (to lie about the payload).</summary>
    public static byte[] Frame(byte type, byte flags, int stream, ReadOnlySpan<byte> payload, int declaredLength = -1)
    {
        int length = declaredLength >= 0 ? declaredLength : payload.Length;
        byte[] frame = new byte[9 + payload.Length];
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>
    /// A HEADERS frame. <paramref name="padding"/> >= 0 sets PADDED with that many zero bytes; <paramref name="priority"/>
    /// sets PRIORITY with an exclusive dependency on stream 0, weight 16.
    /// </summary>
    public static byte[] Headers(int stream, byte[] fragment, bool endStream, bool endHeaders = true, int padding = -1, bool priority = false)
    {
        var payload = new List<byte>();
        byte flags = (byte)((endStream ? EndStream : 0) | (endHeaders ? EndHeaders : 0));
        if (padding >= 0)
        {
            flags |= Padded;
            payload.Add((byte)padding);
        }

        if (priority)
        {
            flags |= Priority;
            payload.AddRange(new byte[] { 0x80, 0, 0, 0, 15 });
        }

        payload.AddRange(fragment);
        payload.AddRange(new byte[Math.Max(padding, 0)]);
        return Frame(0x1, flags, stream, payload.ToArray());
    }

    public static byte[] Continuation(int stream, byte[] fragment, bool endHeaders) =>
        Frame(0x9, endHeaders ? EndHeaders : (byte)0, stream, fragment);

    /// <summary>A DATA frame; <paramref name="padding"/> >= 0 sets PADDED with that many zero bytes after the data.</summary>
    public static byte[] Data(int stream, ReadOnlySpan<byte> data, bool endStream, int padding = -1)
    {
        byte flags = endStream ? EndStream : (byte)0;
        if (padding < 0)
        {
            return Frame(0x0, flags, stream, data);
        }

        byte[] payload = new byte[1 + data.Length + padding];
        payload[0] = (byte)padding;
        data.CopyTo(payload.AsSpan(1));
        return Frame(0x0, (byte)(flags | Padded), stream, payload);
    }

    public static byte[] Settings(params (ushort Id, uint Value)[] settings)
    {
        byte[] payload = new byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6 * i), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((6 * i) + 2), settings[i].Value);
        }

        return Frame(0x4, 0, 0, payload);
    }

    public static byte[] SettingsAck() => Frame(0x4, Ack, 0, []);

    public static byte[] Ping(ReadOnlySpan<byte> opaque, bool ack = false) => Frame(0x6, ack ? Ack : (byte)0, 0, opaque);

    public static byte[] GoAway(int lastStream, uint errorCode, string debug = "")
    {
        byte[] text = Encoding.ASCII.GetBytes(debug);
        byte[] payload = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStream);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), errorCode);
        text.CopyTo(payload, 8);
        return Frame(0x7, 0, 0, payload);
    }

    public static byte[] RstStream(int stream, uint errorCode)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, errorCode);
        return Frame(0x3, 0, stream, payload);
    }

    public static byte[] WindowUpdate(int stream, int increment)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        return Frame(0x8, 0, stream, payload);
    }

    /// <summary>DATA frames of at most <paramref name="maxFrame"/> bytes carrying <paramref name="body"/>; the last ends the stream if asked.</summary>
    public static byte[] DataFrames(int stream, ReadOnlySpan<byte> body, int maxFrame, bool endStream)
    {
        var frames = new List<byte[]>();
        for (int offset = 0; offset < body.Length; offset += maxFrame)
        {
            int size = Math.Min(maxFrame, body.Length - offset);
            frames.Add(Data(stream, body.Slice(offset, size), endStream && offset + size == body.Length));
        }

        return Concat([.. frames]);
    }

    public static byte[] Concat(params byte[][] frames) => frames.SelectMany(f => f).ToArray();
}
