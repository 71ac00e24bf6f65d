// ResponseWriter.cs - turns a FuzzCase into the frames an HTTP/2 gRPC server would send for it, with the legal variety real servers show.
using System.Globalization;

namespace LaneShim.Fuzz.Wire;

/// <summary>
/// Writes a fake broker's side of a connection as frames: its SETTINGS (legal values, and with <see cref="Illegal"/> some that
/// are not), control frames in between (PING, WINDOW_UPDATE, PRIORITY, SETTINGS ACK, unknown types, frames of other
/// streams), response HEADERS split into CONTINUATION frames and padded or with priority fields, DATA in random chunks
/// with random padding, trailers or a trailers-only answer, and now and then RST_STREAM or GOAWAY. Header blocks go
/// through one <see cref="ResponseHpackEncoder"/> per connection, as on a real connection.
/// </summary>
internal sealed class ResponseWriter(Random random)
{
    private const int MaxFrame = 16384; // the agent advertises no SETTINGS_MAX_FRAME_SIZE: the protocol's default

    private static readonly uint[] ErrorCodes = [0x0, 0x1, 0x2, 0x3, 0x5, 0x7, 0x8, 0xB, 0xD, 0xFF, 0xFFFFFFFF];

    private readonly ResponseHpackEncoder _hpack = new();
    private readonly List<byte> _block = [];

    /// <summary>Whether frames and header representations the agent must refuse may be written.</summary>
    public bool Illegal { get; set; }

    /// <summary>The server's connection preface: SETTINGS, sometimes more control frames.</summary>
    public void Preface(List<WireFrame> frames)
    {
        if (random.Next(40) != 0)
        {
            frames.Add(ServerSettings());
        }

        for (int i = random.Next(3); i > 0; i--)
        {
            Noise(frames, 1);
        }
    }

    /// <summary>
    /// The response to the request on <paramref name="streamId"/>. Returns false when the answer ends the call with a
    /// reset or GOAWAY, or otherwise leaves the connection unfit for another call.
    /// </summary>
    public bool Response(FuzzCase input, int streamId, List<WireFrame> frames)
    {
        bool reusable = true;
        if (random.Next(40) == 0)
        {
            // A 1xx answer first; the real headers follow.
            Block(WireFrame.Headers, streamId, 0, [new(":status", random.Next(2) == 0 ? "100" : "103")], frames);
        }

        List<KeyValuePair<string, string>> headers = [new(":status", input.HttpStatus.ToString(CultureInfo.InvariantCulture))];
        Add(headers, "content-type", input.ContentType);
        Add(headers, "grpc-encoding", input.GrpcEncoding);
        if (random.Next(3) == 0)
        {
            headers.Add(new("grpc-accept-encoding", "identity,deflate,gzip"));
        }

        if (random.Next(4) == 0)
        {
            headers.Add(new("date", "Tue, 05 Aug 2025 10:00:00 GMT"));
            headers.Add(new("server", "Kestrel"));
        }

        if (random.Next(60) == 0)
        {
            headers.Add(new("x-padding", new string('a', random.Next(100, 12_000))));
        }

        bool trailersOnly = input.HeaderStatus is not null && random.Next(3) != 0;
        if (input.HeaderStatus is not null)
        {
            headers.Add(new("grpc-status", input.HeaderStatus));
            Add(headers, "grpc-message", input.StatusMessage);
            if (random.Next(4) == 0)
            {
                headers.Add(new("laneshim-offer-bps", OfferText()));
            }
        }

        int cut = random.Next(30) == 0 ? random.Next(8) : -1; // where a RST_STREAM or GOAWAY cuts the answer short
        Block(WireFrame.Headers, streamId, trailersOnly ? WireFrame.EndStream : (byte)0, headers, frames);
        if (trailersOnly)
        {
            return reusable;
        }

        MaybeNoise(frames, streamId);
        if (cut == 0)
        {
            return !Cut(frames, streamId);
        }

        byte[] body = input.Body;
        if (random.Next(300) == 0)
        {
            // Beyond the agent's 64 KiB reply limit plus the frame header: the connection must refuse it.
            body = [.. body, .. new byte[(64 * 1024) + random.Next(6, 20_000)]];
        }

        List<KeyValuePair<string, string>> trailers = [];
        if (input.TrailerStatus is not null)
        {
            trailers.Add(new("grpc-status", input.TrailerStatus));
            Add(trailers, "grpc-message", input.StatusMessage);
            if (random.Next(6) == 0)
            {
                trailers.Add(new("laneshim-offer-bps", OfferText()));
            }
        }

        // Without trailers the stream ends on the last DATA frame, an empty DATA frame, or an empty trailer block.
        int ending = trailers.Count > 0 ? 0 : 1 + random.Next(3);
        Data(body, streamId, ending == 1, frames);
        if (cut == 1)
        {
            return !Cut(frames, streamId);
        }

        MaybeNoise(frames, streamId);
        switch (ending)
        {
            case 0:
            case 3:
                Block(WireFrame.Headers, streamId, WireFrame.EndStream, trailers, frames);
                break;
            case 2:
                frames.Add(new WireFrame(WireFrame.Data, WireFrame.EndStream, streamId, []));
                break;
        }

        if (cut >= 2)
        {
            // After the end: a GOAWAY or a late reset, which the agent sees only when it reuses the connection.
            reusable = !Cut(frames, streamId);
        }

        return reusable;
    }

    private static void Add(List<KeyValuePair<string, string>> fields, string name, string? value)
    {
        if (value is not null)
        {
            fields.Add(new(name, value));
        }
    }

    private string OfferText() => random.Next(4) switch
    {
        0 => "200000000",
        1 => "0",
        2 => "-5",
        _ => random.NextInt64().ToString(CultureInfo.InvariantCulture),
    };

    // True when the frame added ends the call (so the connection cannot carry another).
    private bool Cut(List<WireFrame> frames, int streamId)
    {
        if (random.Next(2) == 0)
        {
            frames.Add(WireFrame.Reset(streamId, ErrorCodes[random.Next(ErrorCodes.Length)]));
        }
        else
        {
            byte[] debug = RandomBytes(random.Next(3) == 0 ? random.Next(1, 40) : 0);
            frames.Add(WireFrame.Away(random.Next(2) == 0 ? streamId : Math.Max(0, streamId - 2), ErrorCodes[random.Next(ErrorCodes.Length)], debug));
        }

        return true;
    }

    private void Data(byte[] body, int streamId, bool endStream, List<WireFrame> frames)
    {
        int style = random.Next(5);
        if (body.Length == 0)
        {
            if (endStream || random.Next(2) == 0)
            {
                frames.Add(new WireFrame(WireFrame.Data, endStream ? WireFrame.EndStream : (byte)0, streamId, []));
            }

            return;
        }

        for (int offset = 0; offset < body.Length;)
        {
            int padding = random.Next(8) == 0 ? random.Next(random.Next(2) == 0 ? 4 : 256) : -1;
            int room = MaxFrame - (padding >= 0 ? 1 + padding : 0);
            int chunk = style switch
            {
                0 => 1 + random.Next(Math.Min(16, body.Length - offset)),
                1 => 1 + random.Next(Math.Min(room, body.Length - offset)),
                _ => Math.Min(room, body.Length - offset),
            };
            bool last = offset + chunk == body.Length;
            byte[] payload = Padded(body.AsSpan(offset, chunk), padding, priority: false);
            byte flags = (byte)((padding >= 0 ? WireFrame.Padded : 0) | (last && endStream ? WireFrame.EndStream : 0));
            frames.Add(new WireFrame(WireFrame.Data, flags, streamId, payload));
            offset += chunk;
            if (!last && random.Next(12) == 0)
            {
                MaybeNoise(frames, streamId);
            }
        }
    }

    /// <summary>A header block for <paramref name="fields"/> as HEADERS (and CONTINUATION frames when split).</summary>
    private void Block(byte type, int streamId, byte endStream, IReadOnlyList<KeyValuePair<string, string>> fields, List<WireFrame> frames)
    {
        _block.Clear();
        _hpack.Encode(fields, random, _block, Illegal && random.Next(8) == 0);
        byte[] block = [.. _block];

        int padding = random.Next(10) == 0 ? random.Next(random.Next(2) == 0 ? 4 : 256) : -1;
        bool priority = random.Next(12) == 0;
        int room = MaxFrame - (padding >= 0 ? 1 + padding : 0) - (priority ? 5 : 0);
        int first = block.Length <= room && random.Next(6) != 0 ? block.Length : random.Next(Math.Min(room, block.Length) + 1);
        bool ended = first == block.Length;
        byte flags = (byte)(endStream | (ended ? WireFrame.EndHeaders : 0) | (padding >= 0 ? WireFrame.Padded : 0) | (priority ? WireFrame.PriorityFlag : 0));
        frames.Add(new WireFrame(type, flags, streamId, Padded(block.AsSpan(0, first), padding, priority)));
        for (int offset = first; !ended;)
        {
            int size = random.Next(3) == 0 ? random.Next(Math.Min(MaxFrame, block.Length - offset) + 1) : Math.Min(MaxFrame, block.Length - offset);
            ended = offset + size == block.Length;
            frames.Add(new WireFrame(WireFrame.Continuation, ended ? WireFrame.EndHeaders : (byte)0, streamId, block.AsSpan(offset, size).ToArray()));
            offset += size;
        }
    }

    private byte[] Padded(ReadOnlySpan<byte> content, int padding, bool priority)
    {
        int length = (padding >= 0 ? 1 + padding : 0) + (priority ? 5 : 0) + content.Length;
        byte[] payload = new byte[length];
        int at = 0;
        if (padding >= 0)
        {
            payload[at++] = (byte)padding;
        }

        if (priority)
        {
            // Exclusive bit and a dependency on stream 0 or a random one, then the weight.
            random.NextBytes(payload.AsSpan(at, 5));
            at += 5;
        }

        content.CopyTo(payload.AsSpan(at));
        return payload; // padding octets stay zero, as the RFC asks
    }

    private WireFrame ServerSettings()
    {
        List<(ushort, uint)> settings = [];
        for (int i = random.Next(5); i > 0; i--)
        {
            settings.Add(random.Next(9) switch
            {
                0 => (0x1, (uint)random.Next(0, 65536)),
                1 => (0x2, 0u),
                2 => (0x3, random.Next(3) switch { 0 => 0u, 1 => 100u, _ => uint.MaxValue }),
                3 => (0x4, random.Next(6) switch { 0 => 0u, 1 => 1u, 2 => 16u, 3 => 1u << 20, 4 => int.MaxValue, _ => 65535u }),
                4 => (0x5, random.Next(3) switch { 0 => 16384u, 1 => 16777215u, _ => (uint)random.Next(16384, 16777216) }),
                5 => (0x6, random.Next(2) == 0 ? 16384u : uint.MaxValue),
                6 => (0x8, (uint)random.Next(2)),
                _ => ((ushort)random.Next(0x9, 0x10000), (uint)random.Next()),
            });
        }

        if (Illegal && random.Next(3) == 0)
        {
            settings.Add(random.Next(3) switch
            {
                0 => (0x2, 2u + (uint)random.Next(100)),
                1 => (0x4, 0x80000000u + (uint)random.Next(100)),
                _ => (0x5, random.Next(3) switch { 0 => 0u, 1 => 16383u, _ => 16777216u }),
            });
        }

        return WireFrame.Setting([.. settings]);
    }

    private void MaybeNoise(List<WireFrame> frames, int streamId)
    {
        for (int i = random.Next(6) == 0 ? random.Next(1, 4) : 0; i > 0; i--)
        {
            Noise(frames, streamId);
        }
    }

    /// <summary>A control frame, a frame of another stream or of an unknown type; with <see cref="Illegal"/> sometimes one the agent must refuse.</summary>
    private void Noise(List<WireFrame> frames, int streamId)
    {
        int other = streamId + 2;
        switch (random.Next(Illegal ? 12 : 9))
        {
            case 0:
                frames.Add(new WireFrame(WireFrame.Settings, WireFrame.Ack, 0, []));
                break;
            case 1:
                frames.Add(new WireFrame(WireFrame.Ping, random.Next(3) == 0 ? WireFrame.Ack : (byte)0, 0, RandomBytes(8)));
                break;
            case 2:
                frames.Add(WireFrame.Window(random.Next(2) == 0 ? 0 : streamId, (uint)random.Next(1, 1 << 20)));
                break;
            case 3:
                frames.Add(new WireFrame((byte)random.Next(0xA, 0x100), (byte)random.Next(256), random.Next(4), RandomBytes(random.Next(40))));
                break;
            case 4:
                frames.Add(new WireFrame(WireFrame.Priority, 0, random.Next(2) == 0 ? streamId : other, RandomBytes(5)));
                break;
            case 5:
                frames.Add(WireFrame.Reset(other, ErrorCodes[random.Next(ErrorCodes.Length)]));
                break;
            case 6:
                frames.Add(new WireFrame(WireFrame.Data, (byte)(random.Next(2) * WireFrame.EndStream), other, RandomBytes(random.Next(64))));
                break;
            case 7:
                // Another stream's headers: decoded all the same, and may change the dynamic table the agent keeps.
                Block(WireFrame.Headers, other, WireFrame.EndStream, [new(":status", "200"), new("x-other", random.Next().ToString(CultureInfo.InvariantCulture))], frames);
                break;
            case 8:
                frames.Add(WireFrame.Setting((0x4, 65535), (0x3, 100)));
                break;
            case 9:
                frames.Add(new WireFrame(WireFrame.PushPromise, WireFrame.EndHeaders, streamId, [0, 0, 0, 2, 0x82]));
                break;
            case 10:
                frames.Add(WireFrame.Window(random.Next(2) == 0 ? 0 : streamId, random.Next(2) == 0 ? 0u : 0x7FFFFFFFu));
                break;
            default:
                frames.Add(new WireFrame(WireFrame.Continuation, WireFrame.EndHeaders, streamId, [0x88]));
                break;
        }
    }

    private byte[] RandomBytes(int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
