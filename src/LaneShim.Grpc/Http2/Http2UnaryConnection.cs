// Http2UnaryConnection.cs - one prior-knowledge HTTP/2 connection that carries one unary call at a time, on the caller's thread.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace LaneShim.Grpc.Http2;

/// <summary>
/// A cleartext HTTP/2 connection (RFC 9113, prior knowledge) used by exactly one caller at a time: the caller writes its
/// request and reads frames until its stream ends, with blocking socket calls bounded by the deadline. No thread, task
/// or timer is involved, which is what makes a call from inside connect() cheap. Not thread-safe; a pool hands each
/// connection to one caller at a time. After any failure other than a stream-level one, <see cref="Usable"/> is false.
/// </summary>
internal sealed unsafe partial class Http2UnaryConnection : IDisposable
{
    /// <summary>Our SETTINGS_MAX_FRAME_SIZE (the protocol's default): no frame we accept is larger.</summary>
    public const int MaxInboundFrame = 16384;

    /// <summary>Our SETTINGS_MAX_HEADER_LIST_SIZE, also the decoder's limit on one decoded header block.</summary>
    public const int MaxHeaderList = 64 * 1024;

    private const int FrameHeaderLength = 9;
    private const int StreamWindow = 1 << 20;
    private const int ConnectionWindow = 16 << 20;
    private const int DefaultWindow = 65535;
    private const int MaxHeaderBlock = 64 * 1024;

    private readonly Socket? _testSocket;
    private readonly int _fd;
    private int _closed;
    private readonly HpackDecoder _hpack = new(HpackDecoder.DefaultMaxTableSize, MaxHeaderList);
    private readonly List<KeyValuePair<string, string>> _discarded = [];
    private readonly byte[] _in = new byte[2 * (FrameHeaderLength + MaxInboundFrame)];
    private int _inStart;
    private int _inEnd;
    private byte[] _out = new byte[4096];
    private int _outLength;
    private byte[] _headerBlock = new byte[1024];
    private int _nextStreamId = 1;
    private long _connectionSendWindow = DefaultWindow;
    private long _peerInitialWindow = DefaultWindow;
    private int _peerMaxFrame = 16384;
    private int _connectionUnacknowledged;
    private bool _goAway;
    private bool _broken;

    // The stream of the call in progress (0 between calls).
    private int _streamId;
    private long _streamSendWindow;
    private int _streamUnacknowledged;
    private bool _streamHeadersSeen;
    private bool _streamEnded;
    private int _maxBody;
    private UnaryReply? _reply;

    private Http2UnaryConnection(int fd, Socket? testSocket)
    {
        _fd = fd;
        _testSocket = testSocket;
        IdleSince = Stopwatch.GetTimestamp();
        WritePreface();
    }

    /// <summary>False once the connection broke, the peer sent GOAWAY, or stream ids ran out: do not reuse it.</summary>
    public bool Usable => !_broken && !_goAway && _nextStreamId < int.MaxValue - 2;

    /// <summary>When the last call ended (<see cref="Stopwatch"/> timestamp).</summary>
    public long IdleSince { get; private set; }

    /// <summary>The reply object the caller may reuse for calls on this connection.</summary>
    public UnaryReply Reply { get; } = new();

    /// <summary>
    /// Connects to <paramref name="endPoint"/> (a Unix socket or an IP endpoint) by <paramref name="due"/> (a
    /// <see cref="Stopwatch"/> timestamp, long.MaxValue for none), with libc's socket and connect: .NET's socket engine
    /// (and the thread it starts) is never involved.
    /// </summary>
    /// <exception cref="Http2Exception">The connection could not be made, or not in time.</exception>
    public static Http2UnaryConnection Open(EndPoint endPoint, long due)
    {
        int fd = SocketCalls.Connect(endPoint, due);
        try
        {
            return new Http2UnaryConnection(fd, testSocket: null);
        }
        catch
        {
            SocketCalls.Close(fd);
            throw;
        }
    }

    /// <summary>Test and fuzzing seam: a connection over a socket that is already connected (one end of a socketpair).</summary>
    internal static Http2UnaryConnection Over(Socket connected) => new((int)connected.Handle, connected);

    /// <summary>
    /// Sends one request on a new stream and reads until that stream ends. <paramref name="headerBlock"/> is the HPACK-encoded
    /// request header block, <paramref name="body"/> the gRPC length-prefixed request message. The response goes to
    /// <paramref name="reply"/>; a body longer than <paramref name="maxBody"/> bytes fails with RESOURCE_EXHAUSTED.
    /// </summary>
    /// <exception cref="Http2Exception">The stream was reset, the connection failed or broke the protocol, or the deadline passed.</exception>
    public void Call(ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> body, long due, int maxBody, UnaryReply reply)
    {
        if (!Usable)
        {
            throw new Http2Exception(StatusCode.Unavailable, "the connection can carry no more calls", notProcessed: true);
        }

        reply.Clear();
        _reply = reply;
        _maxBody = maxBody;
        _streamId = _nextStreamId;
        _nextStreamId += 2;
        _streamSendWindow = _peerInitialWindow;
        _streamUnacknowledged = 0;
        _streamHeadersSeen = false;
        _streamEnded = false;
        bool sent = false;
        try
        {
            WriteHeaders(headerBlock);
            int offset = 0;
            do
            {
                long window = Math.Min(Math.Min(_connectionSendWindow, _streamSendWindow), _peerMaxFrame);
                if (window <= 0 && offset < body.Length)
                {
                    // Blocked by flow control: the peer's WINDOW_UPDATE (or an early answer) must come first.
                    Flush(due);
                    sent = true;
                    ReadAndHandleFrame(due);
                    if (_streamEnded)
                    {
                        break;
                    }

                    continue;
                }

                int chunk = (int)Math.Min(window, body.Length - offset);
                WriteData(body.Slice(offset, chunk), endStream: offset + chunk == body.Length);
                offset += chunk;
                _connectionSendWindow -= chunk;
                _streamSendWindow -= chunk;
            }
            while (offset < body.Length);

            if (!sent)
            {
                Flush(due, firstWrite: true);
            }
            else
            {
                Flush(due);
            }

            while (!_streamEnded)
            {
                ReadAndHandleFrame(due);
            }
        }
        catch (Http2Exception e) when (!_streamEnded)
        {
            // Anything but a reset of this stream leaves the connection out of step (a deadline, an oversized answer,
            // a protocol error, a failed socket): the rest of the answer would arrive on a connection nobody reads in step.
            if (e.Status is StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted && !_broken)
            {
                // The server may still be working on it: cancel the stream on the wire before the connection closes.
                TryCancelStream();
            }

            _broken = true;
            throw;
        }
        catch (ObjectDisposedException e)
        {
            _broken = true;
            throw new Http2Exception(StatusCode.Unavailable, $"the connection to the broker failed: {e.Message}", inner: e);
        }
        finally
        {
            _streamId = 0;
            _reply = null;
            IdleSince = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Before reusing an idle connection: handles whatever the peer sent meanwhile (SETTINGS, PING, GOAWAY, or the end of
    /// the connection) without blocking. Returns <see cref="Usable"/>.
    /// </summary>
    public bool Refresh()
    {
        if (!Usable)
        {
            return false;
        }

        // Bounded: a frame split by the peer (a header block and its CONTINUATION) is waited for briefly, never forever.
        long due = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20);
        try
        {
            // Frames that arrived with the last answer (a GOAWAY in the same segment) are already buffered: the socket
            // shows nothing more, but they count too.
            while (HasWholeFrame())
            {
                ReadAndHandleFrame(due);
            }

            while (WaitFor(SocketCalls.PollIn, 0))
            {
                if (!ReceiveSome(0))
                {
                    _broken = true;
                    return false;
                }

                while (HasWholeFrame())
                {
                    ReadAndHandleFrame(due);
                }
            }

            if (_outLength > 0)
            {
                Flush(due);
            }
        }
        catch (Exception e) when (e is Http2Exception or ObjectDisposedException)
        {
            _broken = true;
        }

        return Usable;
    }

    public void Dispose()
    {
        _broken = true;
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        if (_testSocket is not null)
        {
            _testSocket.Dispose();
        }
        else
        {
            SocketCalls.Close(_fd);
        }
    }

    // Best effort and never blocking: RST_STREAM(CANCEL) for the call in progress.
    private void TryCancelStream()
    {
        try
        {
            Span<byte> frame = stackalloc byte[FrameHeaderLength + 4];
            WriteFrameHeader(frame, 4, Http2FrameType.RstStream, 0, _streamId);
            BinaryPrimitives.WriteUInt32BigEndian(frame[FrameHeaderLength..], 0x8);
            fixed (byte* p = frame)
            {
                _ = SocketCalls.Send(_fd, p, frame.Length, SocketCalls.MsgDontWait | SocketCalls.MsgNoSignal);
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void WritePreface()
    {
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.CopyTo(Reserve(24));
        // SETTINGS: no server push, 1 MiB stream windows, and the header list size we decode.
        Span<byte> settings = Reserve(FrameHeaderLength + 18);
        WriteFrameHeader(settings, 18, Http2FrameType.Settings, 0, 0);
        WriteSetting(settings[9..], 0x2, 0);
        WriteSetting(settings[15..], 0x4, StreamWindow);
        WriteSetting(settings[21..], 0x6, MaxHeaderList);
        WriteWindowUpdate(0, ConnectionWindow - DefaultWindow);
    }

    private static void WriteSetting(Span<byte> destination, ushort id, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
    }

    private void WriteHeaders(ReadOnlySpan<byte> block)
    {
        // Our request blocks are small; one larger than the peer's frame size continues in CONTINUATION frames.
        int first = Math.Min(block.Length, _peerMaxFrame);
        Span<byte> frame = Reserve(FrameHeaderLength + first);
        WriteFrameHeader(frame, first, Http2FrameType.Headers, first == block.Length ? Http2FrameFlags.EndHeaders : (byte)0, _streamId);
        block[..first].CopyTo(frame[FrameHeaderLength..]);
        for (int offset = first; offset < block.Length;)
        {
            int size = Math.Min(block.Length - offset, _peerMaxFrame);
            frame = Reserve(FrameHeaderLength + size);
            WriteFrameHeader(frame, size, Http2FrameType.Continuation, offset + size == block.Length ? Http2FrameFlags.EndHeaders : (byte)0, _streamId);
            block.Slice(offset, size).CopyTo(frame[FrameHeaderLength..]);
            offset += size;
        }
    }

    private void WriteData(ReadOnlySpan<byte> data, bool endStream)
    {
        Span<byte> frame = Reserve(FrameHeaderLength + data.Length);
        WriteFrameHeader(frame, data.Length, Http2FrameType.Data, endStream ? Http2FrameFlags.EndStream : (byte)0, _streamId);
        data.CopyTo(frame[FrameHeaderLength..]);
    }

    private void WriteWindowUpdate(int streamId, int increment)
    {
        Span<byte> frame = Reserve(FrameHeaderLength + 4);
        WriteFrameHeader(frame, 4, Http2FrameType.WindowUpdate, 0, streamId);
        BinaryPrimitives.WriteInt32BigEndian(frame[FrameHeaderLength..], increment);
    }

    private static void WriteFrameHeader(Span<byte> destination, int length, Http2FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], streamId);
    }

    private Span<byte> Reserve(int length)
    {
        if (_outLength + length > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLength + length));
        }

        Span<byte> span = _out.AsSpan(_outLength, length);
        _outLength += length;
        return span;
    }

    private void Flush(long due, bool firstWrite = false)
    {
        int offset = 0;
        try
        {
            while (offset < _outLength)
            {
                nint n;
                fixed (byte* p = &_out[offset])
                {
                    n = SocketCalls.Send(_fd, p, _outLength - offset, SocketCalls.MsgDontWait | SocketCalls.MsgNoSignal);
                }

                if (n >= 0)
                {
                    offset += (int)n;
                    continue;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == SocketCalls.EAgain)
                {
                    // The broker is not reading (its buffer is full): wait, not past the deadline.
                    if (!WaitFor(SocketCalls.PollOut, due))
                    {
                        throw new Http2Exception(StatusCode.DeadlineExceeded, "the request could not be written before the deadline");
                    }

                    continue;
                }

                if (errno == SocketCalls.EIntr)
                {
                    continue;
                }

                // Nothing of this call reached a peer that had already closed: a fresh connection may carry it.
                throw new Http2Exception(StatusCode.Unavailable, $"writing to the broker failed: {SocketCalls.Describe(errno)}",
                    notProcessed: firstWrite && offset == 0 && errno is SocketCalls.EPipe or SocketCalls.EConnReset or SocketCalls.EConnAborted);
            }
        }
        finally
        {
            _outLength = offset < _outLength ? _outLength : 0;
        }
    }

    /// <summary>
    /// Waits until the socket is ready for <paramref name="events"/> or <paramref name="due"/> passes (0: do not wait;
    /// long.MaxValue: no deadline). True when ready, or in error (which the next call on it reports).
    /// </summary>
    private bool WaitFor(short events, long due)
    {
        while (true)
        {
            int timeoutMs;
            if (due == 0)
            {
                timeoutMs = 0;
            }
            else if (due == long.MaxValue)
            {
                timeoutMs = -1;
            }
            else
            {
                long remaining = due - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return false;
                }

                timeoutMs = (int)Math.Clamp(((remaining * 1000) + Stopwatch.Frequency - 1) / Stopwatch.Frequency, 1, int.MaxValue);
            }

            SocketCalls.PollFd poll = new() { Fd = _fd, Events = events };
            int ready = SocketCalls.Poll(&poll, 1, timeoutMs);
            if (ready > 0)
            {
                return true;
            }

            if (ready < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != SocketCalls.EIntr)
                {
                    throw new Http2Exception(StatusCode.Unavailable, $"waiting on the broker connection failed: {SocketCalls.Describe(errno)}");
                }
            }
            else if (due == 0 || Stopwatch.GetTimestamp() >= due)
            {
                return false;
            }

            // Interrupted, or the millisecond timeout ended just before the deadline: wait the rest.
        }
    }
}
