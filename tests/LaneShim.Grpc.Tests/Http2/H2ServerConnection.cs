// H2ServerConnection.cs - the server end of one accepted connection in a scripted HTTP/2 test: reads and records client frames, writes scripted ones.
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using LaneShim.Grpc.Http2;

namespace LaneShim.Grpc.Tests.Http2;

/// <summary>
/// Reads the client's preface and frames (each recorded on the <see cref="ScriptedH2Server"/>) and sends whatever the
/// script says. <see cref="ReadRequestAsync"/> enforces flow control as a strict server would: it grants the client
/// 65,535 bytes per stream and per connection, refills a window only once the client has used all of it, and reports
/// any DATA beyond a window or any frame above 16,384 bytes as a problem of the server.
/// </summary>
internal sealed class H2ServerConnection
{
    public const int DefaultWindow = 65535;

    private static readonly byte[] Preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

    private readonly ScriptedH2Server _server;
    private readonly Socket _socket;
    private readonly CancellationToken _cancellationToken;
    private readonly HpackDecoder _decoder = new(HpackDecoder.DefaultMaxTableSize, 1 << 20);
    private readonly Dictionary<int, long> _streamWindows = [];
    private readonly Dictionary<int, List<KeyValuePair<string, string>>> _openHeaders = [];
    private readonly Dictionary<int, MemoryStream> _openBodies = [];
    private readonly Dictionary<int, long> _clientStreamWindows = [];
    private long _connectionWindow = DefaultWindow;
    private long _clientConnectionWindow = DefaultWindow;
    private long _clientInitialWindow = DefaultWindow;

    public H2ServerConnection(ScriptedH2Server server, Socket socket, int index, CancellationToken cancellationToken)
    {
        _server = server;
        _socket = socket;
        Index = index;
        _cancellationToken = cancellationToken;
    }

    /// <summary>0 for the first connection the server accepted, 1 for the next.</summary>
    public int Index { get; }

    /// <summary>The increment of the connection-level WINDOW_UPDATE sent when the client used up the connection window.</summary>
    public int ConnectionIncrement { get; set; } = DefaultWindow;

    /// <summary>The increment of the stream-level WINDOW_UPDATE sent when the client used up a stream window.</summary>
    public int StreamIncrement { get; set; } = DefaultWindow;

    /// <summary>The window a new request stream gets: 65,535 unless the script sent SETTINGS_INITIAL_WINDOW_SIZE.</summary>
    public long InitialStreamWindow { get; set; } = DefaultWindow;

    /// <summary>The largest frame the client may send: 16,384 unless the script sent SETTINGS_MAX_FRAME_SIZE.</summary>
    public int MaxFrame { get; set; } = 16384;

    /// <summary>How many WINDOW_UPDATE frames this connection sent.</summary>
    public int WindowUpdatesSent { get; private set; }

    /// <summary>Reads the client's preface and sends an empty SETTINGS frame; false if the client closed first.</summary>
    public async Task<bool> StartAsync()
    {
        byte[] preface = new byte[Preface.Length];
        if (!await ReadExactlyAsync(preface))
        {
            return false;
        }

        if (!preface.AsSpan().SequenceEqual(Preface))
        {
            _server.Problem($"connection {Index}: the client's preface was {Convert.ToHexString(preface)}");
            return false;
        }

        await SendAsync(H2FrameWriter.Settings());
        return true;
    }

    /// <summary>The next frame from the client (recorded), or null when it closed the connection.</summary>
    public async Task<H2Frame?> ReadFrameAsync()
    {
        byte[] header = new byte[9];
        if (!await ReadExactlyAsync(header))
        {
            return null;
        }

        int length = (header[0] << 16) | (header[1] << 8) | header[2];
        if (length > MaxFrame)
        {
            _server.Problem($"connection {Index}: the client sent a frame of {length} bytes, above SETTINGS_MAX_FRAME_SIZE {MaxFrame}");
        }

        int stream = ((header[5] & 0x7F) << 24) | (header[6] << 16) | (header[7] << 8) | header[8];
        byte[] payload = new byte[length];
        if (!await ReadExactlyAsync(payload))
        {
            return null;
        }

        var frame = new H2Frame(Index, header[3], header[4], stream, payload);
        _server.Record(frame);
        TrackClientWindows(frame);
        return frame;
    }

    /// <summary>Reads frames until <paramref name="match"/> accepts one (returned) or the client closes (null).</summary>
    public async Task<H2Frame?> ReadUntilAsync(Func<H2Frame, bool> match)
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (match(frame))
            {
                return frame;
            }
        }

        return null;
    }

    /// <summary>
    /// Reads frames until a request stream ends, granting flow-control credit as it goes; null when the client closed.
    /// Frames that are not part of a request (SETTINGS, acknowledgements, RST_STREAM) are only recorded.
    /// </summary>
    public async Task<H2Request?> ReadRequestAsync()
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Type == H2Frame.Headers)
            {
                byte[] block = await ReadHeaderBlockAsync(frame);
                var headers = new List<KeyValuePair<string, string>>();
                _decoder.Decode(block, headers);
                _streamWindows[frame.Stream] = InitialStreamWindow;
                if (frame.HasFlag(H2FrameWriter.EndStream))
                {
                    return new H2Request(frame.Stream, headers, []);
                }

                _openHeaders[frame.Stream] = headers;
                _openBodies[frame.Stream] = new MemoryStream();
            }
            else if (frame.Type == H2Frame.Data)
            {
                if (!_openBodies.TryGetValue(frame.Stream, out MemoryStream? body))
                {
                    _server.Problem($"connection {Index}: DATA on stream {frame.Stream}, which has no open request");
                    continue;
                }

                int length = frame.Payload.Length;
                _connectionWindow -= length;
                _streamWindows[frame.Stream] -= length;
                if (_connectionWindow < 0 || _streamWindows[frame.Stream] < 0)
                {
                    _server.Problem($"connection {Index}: DATA of {length} bytes on stream {frame.Stream} overran a window (connection {_connectionWindow}, stream {_streamWindows[frame.Stream]})");
                }

                body.Write(frame.Payload);
                if (frame.HasFlag(H2FrameWriter.EndStream))
                {
                    _openBodies.Remove(frame.Stream);
                    _openHeaders.Remove(frame.Stream, out List<KeyValuePair<string, string>>? headers);
                    return new H2Request(frame.Stream, headers!, body.ToArray());
                }

                if (_connectionWindow == 0)
                {
                    _connectionWindow += ConnectionIncrement;
                    WindowUpdatesSent++;
                    await SendAsync(H2FrameWriter.WindowUpdate(0, ConnectionIncrement));
                }

                if (_streamWindows[frame.Stream] == 0)
                {
                    _streamWindows[frame.Stream] += StreamIncrement;
                    WindowUpdatesSent++;
                    await SendAsync(H2FrameWriter.WindowUpdate(frame.Stream, StreamIncrement));
                }
            }
        }

        return null;
    }

    /// <summary>Answers OK: response headers, the message in one DATA frame, trailers grpc-status 0.</summary>
    public Task AnswerOkAsync(int stream, IMessage reply, bool huffman = false) => SendAsync(
        H2FrameWriter.Headers(stream, H2HeaderBlock.OkHeaders(huffman).ToArray(), endStream: false),
        H2FrameWriter.Data(stream, GrpcFraming.Encode(reply), endStream: false),
        H2FrameWriter.Headers(stream, H2HeaderBlock.OkTrailers(huffman).ToArray(), endStream: true));

    /// <summary>
    /// Sends <paramref name="body"/> in DATA frames of at most <paramref name="maxFrame"/> bytes without exceeding the
    /// windows the client granted (its SETTINGS and WINDOW_UPDATEs), reading its frames whenever a window is used up.
    /// </summary>
    public async Task SendBodyAsync(int stream, byte[] body, int maxFrame, bool endStream)
    {
        for (int offset = 0; offset < body.Length;)
        {
            long window = Math.Min(_clientConnectionWindow, ClientStreamWindow(stream));
            if (window <= 0)
            {
                if (await ReadFrameAsync() is null)
                {
                    throw new IOException("the client closed while the server waited for a WINDOW_UPDATE");
                }

                continue;
            }

            int size = (int)Math.Min(Math.Min(window, maxFrame), body.Length - offset);
            _clientConnectionWindow -= size;
            _clientStreamWindows[stream] = ClientStreamWindow(stream) - size;
            await SendAsync(H2FrameWriter.Data(stream, body.AsSpan(offset, size), endStream && offset + size == body.Length));
            offset += size;
        }
    }

    /// <summary>Sends the frames in one write.</summary>
    public async Task SendAsync(params byte[][] frames)
    {
        byte[] bytes = H2FrameWriter.Concat(frames);
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, _cancellationToken);
        }
    }

    /// <summary>Reads (and records) frames until the client closes.</summary>
    public async Task DrainAsync()
    {
        while (await ReadFrameAsync() is not null)
        {
        }
    }

    /// <summary>Closes the connection without a GOAWAY, as a crashed or restarted server would.</summary>
    public void Close()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
    }

    private long ClientStreamWindow(int stream) =>
        _clientStreamWindows.TryGetValue(stream, out long window) ? window : _clientInitialWindow;

    // What the client lets us send: its SETTINGS_INITIAL_WINDOW_SIZE and its WINDOW_UPDATEs.
    private void TrackClientWindows(H2Frame frame)
    {
        if (frame.Type == H2Frame.Settings && !frame.HasFlag(H2FrameWriter.Ack))
        {
            for (int offset = 0; offset + 6 <= frame.Payload.Length; offset += 6)
            {
                if (frame.Payload[offset] == 0 && frame.Payload[offset + 1] == 0x4)
                {
                    _clientInitialWindow = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(offset + 2));
                }
            }
        }
        else if (frame.Type == H2Frame.WindowUpdate && frame.Stream == 0)
        {
            _clientConnectionWindow += frame.FirstWord;
        }
        else if (frame.Type == H2Frame.WindowUpdate)
        {
            _clientStreamWindows[frame.Stream] = ClientStreamWindow(frame.Stream) + frame.FirstWord;
        }
    }

    private async Task<byte[]> ReadHeaderBlockAsync(H2Frame headers)
    {
        var block = new List<byte>(headers.Payload);
        H2Frame frame = headers;
        while (!frame.HasFlag(H2FrameWriter.EndHeaders))
        {
            frame = await ReadFrameAsync() ?? throw new IOException("the client closed inside a header block");
            if (frame.Type != H2Frame.Continuation || frame.Stream != headers.Stream)
            {
                _server.Problem($"connection {Index}: {frame} inside the header block of stream {headers.Stream}");
            }

            block.AddRange(frame.Payload);
        }

        return [.. block];
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, _cancellationToken);
            if (n == 0)
            {
                return false;
            }

            total += n;
        }

        return true;
    }
}
