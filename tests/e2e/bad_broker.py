#!/usr/bin/python3
"""bad_broker.py MODE PATH - a Unix-socket 'broker' that misbehaves, for the fail-open fault matrix.

Byte-level modes: hang (accept, never answer), garbage (random bytes), close (accept and close at once),
settings-only (an HTTP/2 SETTINGS frame, then silence).
HTTP/2 modes (a real HTTP/2 exchange, then a bad gRPC answer; each request gets the next variant in turn):
malformed (broken frames, HPACK, gRPC framing or protobuf), wrong-status (bad or missing grpc-status, HTTP errors),
huge (a message far above any limit, or huge headers), die (a partial answer, then a TCP reset),
bad-grant (a well-formed OK whose LaneGrant carries values no sane broker sends).
Prints 'listening' when ready and 'request N' (flushed) for each gRPC request it answered.
"""
import os
import socket
import struct
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1

_count_lock = threading.Lock()
_count = 0


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack(headers):
    """Literal header fields without indexing, new names: no dynamic table state to get wrong."""
    out = bytearray()
    for name, value in headers:
        n, v = name.encode(), value if isinstance(value, bytes) else value.encode()
        out += b"\x00" + hpack_int(len(n), 7, 0) + n + hpack_int(len(v), 7, 0) + v
    return bytes(out)


def grpc_message(payload, compressed=0, declared=None):
    return bytes([compressed]) + struct.pack(">I", len(payload) if declared is None else declared) + payload


def varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_varint(field, value):
    return varint(field << 3) + varint(value)


def pb_string(field, data):
    data = data if isinstance(data, bytes) else data.encode()
    return varint((field << 3) | 2) + varint(len(data)) + data


def lane_grant(**fields):
    """A LaneGrant (see proto/laneshim/v1/broker.proto) with the given field numbers and values."""
    out = bytearray()
    for key, value in fields.items():
        number = int(key[1:])
        out += pb_string(number, value) if isinstance(value, (str, bytes)) else pb_varint(number, value)
    return bytes(out)


GOOD_GRANT = lane_grant(f1="lease-bad-broker", f2=(1 << 62), f3="bulk", f4=10**9, f5=40000, f6=5 * 10**6,
                        f7=10 * 10**6, f8=2, f9=10 * 10**6, f10=2, f11="cubic")
OK_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]
OK_TRAILERS = [("grpc-status", "0")]


def send_ok(sock, stream, body, headers=None, trailers=None):
    sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(headers or OK_HEADERS))
                 + frame(DATA, 0, stream, body)
                 + frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack(trailers or OK_TRAILERS)))


def malformed(sock, stream, n):
    variant = n % 10
    if variant == 0:  # the gRPC length prefix promises more than the stream carries
        send_ok(sock, stream, grpc_message(GOOD_GRANT[:10], declared=100))
    elif variant == 1:  # compressed flag without any grpc-encoding
        send_ok(sock, stream, grpc_message(GOOD_GRANT, compressed=1))
    elif variant == 2:  # DATA on stream 0: a connection error
        sock.sendall(frame(DATA, 0, 0, b"xx"))
    elif variant == 3:  # HPACK that indexes past the end of every table
        sock.sendall(frame(HEADERS, END_HEADERS, stream, b"\xff\xff\xff\x7f"))
    elif variant == 4:  # a frame header announcing 16 MB, then nothing
        sock.sendall(b"\xff\xff\xff" + bytes([DATA, 0]) + struct.pack(">I", stream))
    elif variant == 5:  # two messages in a unary answer
        send_ok(sock, stream, grpc_message(GOOD_GRANT) + grpc_message(GOOD_GRANT))
    elif variant == 6:  # a well-framed message that is not a protobuf
        send_ok(sock, stream, grpc_message(os.urandom(64)))
    elif variant == 7:  # the stream is reset with an arbitrary error code
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS))
                     + frame(RST_STREAM, 0, stream, struct.pack(">I", 0xDEAD)))
    elif variant == 8:  # the message, then END_STREAM without trailers
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS))
                     + frame(DATA, END_STREAM, stream, grpc_message(GOOD_GRANT)))
    else:  # protobuf with a field whose length runs past the end, and a group wire type
        send_ok(sock, stream, grpc_message(b"\x0a\xff\xff\xff\x0f" + b"\x0b\x0c"))


def wrong_status(sock, stream, n):
    variant = n % 9
    body = grpc_message(GOOD_GRANT)
    if variant == 0:
        send_ok(sock, stream, body, trailers=[("grpc-status", "banana")])
    elif variant == 1:
        send_ok(sock, stream, body, trailers=[("grpc-status", "99"), ("grpc-message", "no such code")])
    elif variant == 2:
        send_ok(sock, stream, body, trailers=[("grpc-status", "-1")])
    elif variant == 3:
        send_ok(sock, stream, body, trailers=[("x-not-a-status", "0")])
    elif variant == 4:
        sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack([(":status", "500")])))
    elif variant == 5:
        send_ok(sock, stream, b"<html>proxy error</html>", headers=[(":status", "200"), ("content-type", "text/html")])
    elif variant == 6:  # trailers-only OK: no message at all
        sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack(OK_HEADERS + OK_TRAILERS)))
    elif variant == 7:  # an error whose message is malformed percent-encoding, 8 KB of it
        sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream,
                           hpack(OK_HEADERS + [("grpc-status", "8"), ("grpc-message", "%zz%" * 2048)])))
    else:  # a permission status where the client expects a grant
        sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream,
                           hpack(OK_HEADERS + [("grpc-status", "7"), ("grpc-message", "denied \xff\xfe".encode("latin-1").decode("latin-1"))])))


def huge(sock, stream, n):
    variant = n % 3
    if variant == 0:  # 2 GB announced, then megabytes until the client gives up
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS)))
        chunk = grpc_message(b"", declared=0x7FFFFFFF) + os.urandom(16379)
        sock.sendall(frame(DATA, 0, stream, chunk))
        block = frame(DATA, 0, stream, os.urandom(16384))
        for _ in range(4096):  # 64 MB at most; flow control stops us much earlier
            sock.sendall(block)
    elif variant == 1:  # 8 MB announced and sent whole
        payload = GOOD_GRANT * (8 * 1024 * 1024 // len(GOOD_GRANT))
        body = grpc_message(payload)
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS)))
        for i in range(0, len(body), 16384):
            sock.sendall(frame(DATA, 0, stream, body[i:i + 16384]))
        sock.sendall(frame(HEADERS, END_HEADERS | END_STREAM, stream, hpack(OK_TRAILERS)))
    else:  # 1 MB of response headers in CONTINUATION frames
        block = hpack(OK_HEADERS + [("x-filler-%d" % i, "y" * 1000) for i in range(1024)])
        sock.sendall(frame(HEADERS, 0, stream, block[:16384]))
        for i in range(16384, len(block), 16384):
            last = i + 16384 >= len(block)
            sock.sendall(frame(CONTINUATION, END_HEADERS if last else 0, stream, block[i:i + 16384]))


def die(sock, stream, n):
    if n % 2 == 0:
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS)))
    else:
        sock.sendall(frame(HEADERS, END_HEADERS, stream, hpack(OK_HEADERS)) + frame(DATA, 0, stream, grpc_message(GOOD_GRANT)[:7]))
    # SO_LINGER 0: close() sends a reset, as a process killed mid-call does
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raise ConnectionAbortedError


def bad_grant(sock, stream, n):
    grants = [
        lane_grant(f1="x", f2=1 << 62, f7=1 << 40, f8=2),           # a 1 TB send buffer
        lane_grant(f1="x", f2=1 << 62, f9=(1 << 64) - 1, f10=3),     # a negative receive buffer (int64 -1)
        lane_grant(f1="x", f2=1 << 62, f13=99),                      # DSCP out of range
        lane_grant(f1="x", f2=1 << 62, f11="../../../etc/passwd"),   # not a congestion control name
        lane_grant(f1="x", f2=1 << 62, f11="c" * 4000),              # a very long name
        lane_grant(f1="x", f2=1 << 62, f15=1 << 31),                 # notsent_lowat past any buffer
        lane_grant(f1="x", f2=1 << 62, f8=77, f7=5),                 # an unknown buffer mode
        lane_grant(f1="x", f2=1 << 62, f11=b"\xff\xfe\x00"),         # invalid UTF-8 in a string field
    ]
    send_ok(sock, stream, grpc_message(grants[n % len(grants)]))


HTTP2_MODES = {"malformed": malformed, "wrong-status": wrong_status, "huge": huge, "die": die, "bad-grant": bad_grant}


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError
        buf += chunk
    return bytes(buf)


def next_request_number():
    global _count
    with _count_lock:
        _count += 1
        print("request %d" % _count, flush=True)
        return _count


def serve_http2(conn, answer):
    if read_exact(conn, len(PREFACE)) != PREFACE:
        return
    conn.sendall(frame(SETTINGS, 0, 0))
    while True:
        header = read_exact(conn, 9)
        length = int.from_bytes(header[:3], "big")
        kind, flags = header[3], header[4]
        stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
        payload = read_exact(conn, length)
        if kind == SETTINGS and not flags & ACK:
            conn.sendall(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            conn.sendall(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY:
            return
        elif kind in (HEADERS, DATA) and flags & END_STREAM:
            answer(conn, stream, next_request_number())


def serve(conn, mode):
    try:
        if mode == "hang":
            while conn.recv(65536):
                pass
        elif mode == "garbage":
            conn.recv(65536)
            conn.sendall(os.urandom(4096))
            while conn.recv(65536):
                pass
        elif mode == "close":
            pass
        elif mode == "settings-only":
            # an empty HTTP/2 SETTINGS frame, then silence: looks alive, never answers
            conn.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            while conn.recv(65536):
                pass
        else:
            serve_http2(conn, HTTP2_MODES[mode])
    except (OSError, ConnectionError):
        pass
    finally:
        conn.close()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode not in HTTP2_MODES and mode not in ("hang", "garbage", "close", "settings-only"):
        sys.exit("bad_broker.py: unknown mode '%s'" % mode)
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(256)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
