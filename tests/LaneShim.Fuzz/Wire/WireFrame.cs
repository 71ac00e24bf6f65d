// WireFrame.cs - one HTTP/2 frame the fake broker sends, kept structured until the mutator is done with it.
using System.Buffers.Binary;

namespace LaneShim.Fuzz.Wire;

/// <summary>An HTTP/2 frame (RFC 9113 section 4.1); <see cref="Length"/> overrides the length field to corrupt it.</summary>
internal sealed class WireFrame(byte type, byte flags, int streamId, byte[] payload)
{
    public const int HeaderLength = 9;

    public const byte Data = 0x0;
    public const byte Headers = 0x1;
    public const byte Priority = 0x2;
    public const byte RstStream = 0x3;
    public const byte Settings = 0x4;
    public const byte PushPromise = 0x5;
    public const byte Ping = 0x6;
    public const byte GoAway = 0x7;
    public const byte WindowUpdate = 0x8;
    public const byte Continuation = 0x9;

    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte PriorityFlag = 0x20;

    public byte Type { get; set; } = type;

    public byte Flags { get; set; } = flags;

    /// <summary>The stream identifier, reserved bit included (a mutation may set it).</summary>
    public int StreamId { get; set; } = streamId;

    public byte[] Payload { get; set; } = payload;

    /// <summary>The 24-bit length written in the header; null writes the payload's real length.</summary>
    public int? Length { get; set; }

    public WireFrame Clone() => new(Type, Flags, StreamId, (byte[])Payload.Clone()) { Length = Length };

    /// <summary>Appends the frame's bytes, header first.</summary>
    public void WriteTo(List<byte> output)
    {
        int length = Length ?? Payload.Length;
        Span<byte> header = stackalloc byte[HeaderLength];
        header[0] = (byte)(length >> 16);
        header[1] = (byte)(length >> 8);
        header[2] = (byte)length;
        header[3] = Type;
        header[4] = Flags;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], StreamId);
        output.AddRange(header);
        output.AddRange(Payload);
    }

    public static WireFrame Setting(params (ushort Id, uint Value)[] settings)
    {
        byte[] payload = new byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6 * i), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((6 * i) + 2), settings[i].Value);
        }

        return new WireFrame(Settings, 0, 0, payload);
    }

    public static WireFrame Window(int streamId, uint increment)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, increment);
        return new WireFrame(WindowUpdate, 0, streamId, payload);
    }

    public static WireFrame Reset(int streamId, uint code)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, code);
        return new WireFrame(RstStream, 0, streamId, payload);
    }

    public static WireFrame Away(int lastStreamId, uint code, byte[] debug)
    {
        byte[] payload = new byte[8 + debug.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), code);
        debug.CopyTo(payload, 8);
        return new WireFrame(GoAway, 0, 0, payload);
    }
}
