#!/usr/bin/python3
"""sockinfo.py - a TCP client or server that prints what the kernel reports for its own socket, as JSON.

client HOST PORT [--bytes N] [--sndbuf N] [--rcvbuf N]: connect, send N bytes, print the socket's settings.
server PORT [--count N] [--bind ADDR] [--hold S]: accept N connections, print each accepted socket's settings, drain it.
"""
import argparse
import json
import socket
import struct
import sys
import time

SO_MAX_PACING_RATE = 47
TCP_CONGESTION = 13
TCP_NOTSENT_LOWAT = 25
IPV6_TCLASS = 67


def settings(sock):
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    rtt_us = struct.unpack_from("I", info, 68)[0] if len(info) >= 72 else 0
    pacing = sock.getsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, 8)
    pacing = struct.unpack("Q", pacing.ljust(8, b"\0"))[0]
    fam = sock.family
    tos = sock.getsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS) if fam == socket.AF_INET6 else sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS)
    return {
        "congestion": sock.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).split(b"\0")[0].decode(),
        "sndbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
        "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        "max_pacing_rate": pacing if pacing not in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF) else 0,
        "tos": tos,
        "mark": sock.getsockopt(socket.SOL_SOCKET, socket.SO_MARK),
        "priority": sock.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY),
        "notsent_lowat": sock.getsockopt(socket.IPPROTO_TCP, TCP_NOTSENT_LOWAT),
        "rtt_us": rtt_us,
        "local": sock.getsockname()[:2],
        "peer": sock.getpeername()[:2],
    }


def client(args):
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if args.sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    if args.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    sock.connect((args.host, args.port))
    report = settings(sock)
    chunk = b"x" * 65536
    left = args.bytes
    while left > 0:
        sent = sock.send(chunk[: min(left, len(chunk))])
        left -= sent
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(65536):
        pass
    sock.close()
    print(json.dumps(report), flush=True)


def server(args):
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.bind, args.port))
    lsock.listen(16)
    print("listening", flush=True)
    for _ in range(args.count):
        conn, _peer = lsock.accept()
        report = settings(conn)
        print(json.dumps(report), flush=True)
        if args.hold:
            # keep the peer waiting (unread, unanswered) so its socket can be inspected with ss
            time.sleep(args.hold)
        while conn.recv(1 << 20):
            pass
        conn.close()
    lsock.close()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--bytes", type=int, default=0)
    c.add_argument("--sndbuf", type=int, default=0)
    c.add_argument("--rcvbuf", type=int, default=0)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--hold", type=float, default=0, help="seconds to leave each connection unread before draining it")
    args = parser.parse_args()
    (client if args.mode == "client" else server)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
