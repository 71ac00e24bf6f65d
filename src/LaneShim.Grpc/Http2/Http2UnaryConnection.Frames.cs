// Http2UnaryConnection.Frames.cs - reading frames: buffering, validation (RFC 9113 section 6) and what each frame does.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;

namespace LaneShim.Grpc.Http2;

internal sealed unsafe partial class Http2UnaryConnection
{
    private const int ErrorRefusedStream = 0x7;

    // A gRPC message's prefix: the compressed flag and a 4-byte length.
    private const int GrpcMessageHeaderLength = 5;

    /// <summary>Reads one frame (waiting for it until <paramref name="due"/>) and acts on it.</summary>
    private void ReadAndHandleFrame(long due)
    {
        (int length, Http2FrameType type, byte flags, int streamId) = ReadFrame(due);
        ReadOnlySpan<byte> payload = _in.AsSpan(_inStart + FrameHeaderLength, length);
        switch (type)
        {
            case Http2FrameType.Data:
                // Consumed before handling: a DATA frame never needs a later frame.
                HandleData(payload, flags, streamId);
                Consume(length);
                break;
            case Http2FrameType.Headers:
                HandleHeaders(length, flags, streamId, due);
                break;
            case Http2FrameType.RstStream:
                Consume(length);
                HandleReset(payload, length, streamId);
                break;
            case Http2FrameType.Settings:
                HandleSettings(payload, length, flags, streamId);
                Consume(length);
                break;
            case Http2FrameType.Ping:
                HandlePing(payload, length, flags, streamId);
                Consume(length);
                break;
            case Http2FrameType.GoAway:
                Consume(length);
                HandleGoAway(payload, length, streamId);
                break;
            case Http2FrameType.WindowUpdate:
                HandleWindowUpdate(payload, length, streamId);
                Consume(length);
                break;
            case Http2FrameType.PushPromise:
                throw Protocol("PUSH_PROMISE although our SETTINGS disabled server push");
            case Http2FrameType.Continuation:
                throw Protocol("CONTINUATION frame without a HEADERS frame before it");
            case Http2FrameType.Priority:
                if (length != 5)
                {
                    throw Protocol($"PRIORITY frame of {length} bytes, not 5");
                }

                Consume(length);
                break;
            default:
                // Unknown frame types are ignored (RFC 9113 section 4.1).
                Consume(length);
                break;
        }
    }

    private (int Length, Http2FrameType Type, byte Flags, int StreamId) ReadFrame(long due)
    {
        Fill(FrameHeaderLength, due);
        ReadOnlySpan<byte> header = _in.AsSpan(_inStart, FrameHeaderLength);
        int length = (header[0] << 16) | (header[1] << 8) | header[2];
        if (length > MaxInboundFrame)
        {
            throw Protocol($"a frame of {length} bytes exceeds our SETTINGS_MAX_FRAME_SIZE of {MaxInboundFrame}");
        }

        var type = (Http2FrameType)header[3];
        byte flags = header[4];
        int streamId = BinaryPrimitives.ReadInt32BigEndian(header[5..]) & int.MaxValue;
        Fill(FrameHeaderLength + length, due);
        return (length, type, flags, streamId);
    }

    /// <summary>True when a whole frame is buffered (so <see cref="ReadAndHandleFrame"/> will not block for it).</summary>
    private bool HasWholeFrame()
    {
        if (_inEnd - _inStart < FrameHeaderLength)
        {
            return false;
        }

        int length = (_in[_inStart] << 16) | (_in[_inStart + 1] << 8) | _in[_inStart + 2];
        // An oversized frame counts as complete: reading it reports the error instead of waiting forever.
        return length > MaxInboundFrame || _inEnd - _inStart >= FrameHeaderLength + length;
    }

    private void Consume(int payloadLength) => _inStart += FrameHeaderLength + payloadLength;

    private void Fill(int needed, long due)
    {
        if (_inEnd - _inStart >= needed)
        {
            return;
        }

        if (_in.Length - _inStart < needed)
        {
            // Frames are at most MaxInboundFrame, and the buffer holds two: moving the rest to the front makes room.
            Buffer.BlockCopy(_in, _inStart, _in, 0, _inEnd - _inStart);
            _inEnd -= _inStart;
            _inStart = 0;
        }

        // Whatever we owe the peer (SETTINGS or PING acknowledgements, window updates) goes out before we wait on it.
        if (_outLength > 0)
        {
            Flush(due);
        }

        while (_inEnd - _inStart < needed)
        {
            if (!ReceiveSome(due))
            {
                throw new Http2Exception(StatusCode.Unavailable, _inEnd > _inStart
                    ? "the broker closed the connection in the middle of a frame"
                    : "the broker closed the connection before answering");
            }
        }
    }

    // Receives what is there, waiting until `due` (0: the caller polled, so the socket is readable); false at the end of the stream.
    private bool ReceiveSome(long due)
    {
        if (_inStart == _inEnd)
        {
            _inStart = _inEnd = 0;
        }
        else if (_inEnd == _in.Length)
        {
            Buffer.BlockCopy(_in, _inStart, _in, 0, _inEnd - _inStart);
            _inEnd -= _inStart;
            _inStart = 0;
        }

        while (true)
        {
            nint n;
            fixed (byte* p = &_in[_inEnd])
            {
                n = SocketCalls.Recv(_fd, p, _in.Length - _inEnd, SocketCalls.MsgDontWait);
            }

            if (n >= 0)
            {
                _inEnd += (int)n;
                return n > 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == SocketCalls.EAgain)
            {
                // due 0: the caller polled and found nothing after all (a spurious wake-up); treat as nothing yet.
                if (!WaitFor(SocketCalls.PollIn, due))
                {
                    throw new Http2Exception(StatusCode.DeadlineExceeded, "no answer from the broker before the deadline");
                }

                continue;
            }

            if (errno == SocketCalls.EIntr)
            {
                continue;
            }

            throw new Http2Exception(StatusCode.Unavailable, $"reading from the broker failed: {SocketCalls.Describe(errno)}");
        }
    }

    private void HandleData(ReadOnlySpan<byte> payload, byte flags, int streamId)
    {
        if (streamId == 0)
        {
            throw Protocol("DATA frame on stream 0");
        }

        // Flow control counts the whole frame, padding included.
        _connectionUnacknowledged += payload.Length;
        ReadOnlySpan<byte> data = Unpad(payload, flags, "DATA");
        if (streamId == _streamId && !_streamEnded)
        {
            if (!_streamHeadersSeen)
            {
                throw Protocol("DATA before the response headers");
            }

            UnaryReply reply = _reply!;
            if (reply.BodyLength + (long)data.Length > _maxBody + (long)GrpcMessageHeaderLength)
            {
                throw new Http2Exception(StatusCode.ResourceExhausted,
                    $"the response is larger than the limit of {_maxBody} bytes");
            }

            if (reply.BodyLength + data.Length > reply.Body.Length)
            {
                byte[] bigger = new byte[Math.Max(reply.BodyLength + data.Length, Math.Min(Math.Max(reply.Body.Length * 2, 256), _maxBody + GrpcMessageHeaderLength))];
                reply.Body.AsSpan(0, reply.BodyLength).CopyTo(bigger);
                reply.Body = bigger;
            }

            data.CopyTo(reply.Body.AsSpan(reply.BodyLength));
            reply.BodyLength += data.Length;
            if ((flags & Http2FrameFlags.EndStream) != 0)
            {
                // A unary answer ends with trailers; ending with DATA leaves no status, which the caller reports.
                _streamEnded = true;
            }
            else
            {
                _streamUnacknowledged += payload.Length;
                if (_streamUnacknowledged >= StreamWindow / 2)
                {
                    WriteWindowUpdate(_streamId, _streamUnacknowledged);
                    _streamUnacknowledged = 0;
                }
            }
        }

        if (_connectionUnacknowledged >= ConnectionWindow / 2)
        {
            WriteWindowUpdate(0, _connectionUnacknowledged);
            _connectionUnacknowledged = 0;
        }
    }

    private void HandleHeaders(int length, byte flags, int streamId, long due)
    {
        if (streamId == 0)
        {
            throw Protocol("HEADERS frame on stream 0");
        }

        ReadOnlySpan<byte> payload = _in.AsSpan(_inStart + FrameHeaderLength, length);
        ReadOnlySpan<byte> fragment = Unpad(payload, flags, "HEADERS");
        if ((flags & Http2FrameFlags.Priority) != 0)
        {
            if (fragment.Length < 5)
            {
                throw Protocol("HEADERS frame too short for its priority fields");
            }

            fragment = fragment[5..];
        }

        int blockLength = fragment.Length;
        EnsureHeaderBlock(blockLength);
        fragment.CopyTo(_headerBlock);
        Consume(length);
        byte blockFlags = flags;
        while ((blockFlags & Http2FrameFlags.EndHeaders) == 0)
        {
            // A header block is one unit: only CONTINUATION frames of the same stream may follow until it ends.
            (int nextLength, Http2FrameType type, byte nextFlags, int nextStream) = ReadFrame(due);
            if (type != Http2FrameType.Continuation || nextStream != streamId)
            {
                throw Protocol($"{type} frame on stream {nextStream} inside the header block of stream {streamId}");
            }

            if (blockLength + nextLength > MaxHeaderBlock)
            {
                throw Protocol($"a header block of more than {MaxHeaderBlock} bytes");
            }

            EnsureHeaderBlock(blockLength + nextLength);
            _in.AsSpan(_inStart + FrameHeaderLength, nextLength).CopyTo(_headerBlock.AsSpan(blockLength));
            blockLength += nextLength;
            blockFlags = nextFlags;
            Consume(nextLength);
        }

        bool ours = streamId == _streamId && !_streamEnded;
        List<KeyValuePair<string, string>> target = !ours ? _discarded : _streamHeadersSeen ? _reply!.Trailers : _reply!.Headers;
        _discarded.Clear();
        try
        {
            // Every block is decoded, ours or not: the decoder's dynamic table must follow the peer's encoder.
            _hpack.Decode(_headerBlock.AsSpan(0, blockLength), target);
        }
        catch (HpackException e)
        {
            throw Protocol($"undecodable header block: {e.Message}");
        }

        if (!ours)
        {
            return;
        }

        bool endStream = (flags & Http2FrameFlags.EndStream) != 0;
        if (_streamHeadersSeen)
        {
            if (!endStream)
            {
                throw Protocol("trailers without END_STREAM");
            }

            _streamEnded = true;
            return;
        }

        if (!endStream && IsInformational(target))
        {
            // 1xx: the real response headers follow.
            target.Clear();
            return;
        }

        _streamHeadersSeen = true;
        if (endStream)
        {
            _reply!.TrailersOnly = true;
            _streamEnded = true;
        }
    }

    private static bool IsInformational(List<KeyValuePair<string, string>> headers)
    {
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (header.Key == ":status")
            {
                return header.Value.Length == 3 && header.Value[0] == '1';
            }
        }

        return false;
    }

    private void EnsureHeaderBlock(int length)
    {
        if (length > _headerBlock.Length)
        {
            Array.Resize(ref _headerBlock, Math.Max(length, _headerBlock.Length * 2));
        }
    }

    private void HandleReset(ReadOnlySpan<byte> payload, int length, int streamId)
    {
        if (length != 4)
        {
            throw Protocol($"RST_STREAM frame of {length} bytes, not 4");
        }

        if (streamId == 0)
        {
            throw Protocol("RST_STREAM on stream 0");
        }

        if (streamId != _streamId || _streamEnded)
        {
            return;
        }

        uint code = BinaryPrimitives.ReadUInt32BigEndian(payload);
        _streamEnded = true;
        throw new Http2Exception(StatusCode.Unavailable, $"the broker reset the stream (HTTP/2 error 0x{code:X})",
            notProcessed: code == ErrorRefusedStream)
        { ResetCode = code };
    }

    private void HandleSettings(ReadOnlySpan<byte> payload, int length, byte flags, int streamId)
    {
        if (streamId != 0)
        {
            throw Protocol("SETTINGS frame on a stream");
        }

        if ((flags & Http2FrameFlags.Ack) != 0)
        {
            if (length != 0)
            {
                throw Protocol("SETTINGS acknowledgement with a payload");
            }

            return;
        }

        if (length % 6 != 0)
        {
            throw Protocol($"SETTINGS frame of {length} bytes, not a multiple of 6");
        }

        for (int offset = 0; offset < length; offset += 6)
        {
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(payload[offset..]);
            uint value = BinaryPrimitives.ReadUInt32BigEndian(payload[(offset + 2)..]);
            switch (id)
            {
                case 0x2 when value > 1:
                    throw Protocol($"SETTINGS_ENABLE_PUSH of {value}");
                case 0x4:
                    if (value > int.MaxValue)
                    {
                        throw Protocol($"SETTINGS_INITIAL_WINDOW_SIZE of {value} exceeds 2^31-1");
                    }

                    // A new initial window changes the window of the open stream by the difference (RFC 9113 6.9.2).
                    _streamSendWindow += value - _peerInitialWindow;
                    _peerInitialWindow = value;
                    break;
                case 0x5:
                    if (value is < 16384 or > 16777215)
                    {
                        throw Protocol($"SETTINGS_MAX_FRAME_SIZE of {value} is outside 16384..16777215");
                    }

                    _peerMaxFrame = (int)value;
                    break;
                default:
                    // Table size (we never index what we send), concurrent streams (we use one), header list size
                    // (our requests are small) and unknown settings need nothing.
                    break;
            }
        }

        Span<byte> ack = Reserve(FrameHeaderLength);
        WriteFrameHeader(ack, 0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0);
    }

    private void HandlePing(ReadOnlySpan<byte> payload, int length, byte flags, int streamId)
    {
        if (length != 8)
        {
            throw Protocol($"PING frame of {length} bytes, not 8");
        }

        if (streamId != 0)
        {
            throw Protocol("PING frame on a stream");
        }

        if ((flags & Http2FrameFlags.Ack) == 0)
        {
            Span<byte> pong = Reserve(FrameHeaderLength + 8);
            WriteFrameHeader(pong, 8, Http2FrameType.Ping, Http2FrameFlags.Ack, 0);
            payload.CopyTo(pong[FrameHeaderLength..]);
        }
    }

    private void HandleGoAway(ReadOnlySpan<byte> payload, int length, int streamId)
    {
        if (streamId != 0)
        {
            throw Protocol("GOAWAY frame on a stream");
        }

        if (length < 8)
        {
            throw Protocol($"GOAWAY frame of {length} bytes, fewer than 8");
        }

        _goAway = true;
        int lastStream = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
        uint code = BinaryPrimitives.ReadUInt32BigEndian(payload[4..]);
        if (_streamId != 0 && !_streamEnded && _streamId > lastStream)
        {
            string debug = length > 8 ? ": " + Printable(payload[8..]) : "";
            throw new Http2Exception(StatusCode.Unavailable, $"the broker is closing the connection (GOAWAY, HTTP/2 error 0x{code:X}{debug}) and did not take the call",
                notProcessed: true);
        }
    }

    private void HandleWindowUpdate(ReadOnlySpan<byte> payload, int length, int streamId)
    {
        if (length != 4)
        {
            throw Protocol($"WINDOW_UPDATE frame of {length} bytes, not 4");
        }

        int increment = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
        if (streamId == 0)
        {
            if (increment == 0 || _connectionSendWindow + increment > int.MaxValue)
            {
                throw Protocol($"connection WINDOW_UPDATE of {increment} (window {_connectionSendWindow})");
            }

            _connectionSendWindow += increment;
        }
        else if (streamId == _streamId && !_streamEnded)
        {
            if (increment == 0 || _streamSendWindow + increment > int.MaxValue)
            {
                throw Protocol($"stream WINDOW_UPDATE of {increment} (window {_streamSendWindow})");
            }

            _streamSendWindow += increment;
        }
    }

    private ReadOnlySpan<byte> Unpad(ReadOnlySpan<byte> payload, byte flags, string frame)
    {
        if ((flags & Http2FrameFlags.Padded) == 0)
        {
            return payload;
        }

        if (payload.IsEmpty || payload[0] >= payload.Length)
        {
            throw Protocol($"{frame} frame whose padding is not shorter than its payload");
        }

        return payload[1..^payload[0]];
    }

    private Http2Exception Protocol(string what)
    {
        _broken = true;
        return new Http2Exception(StatusCode.Internal, $"the broker broke HTTP/2: {what}");
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(Math.Min(bytes.Length, 200));
        foreach (byte b in bytes[..Math.Min(bytes.Length, 200)])
        {
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }

        return text.ToString();
    }
}
