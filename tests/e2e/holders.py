#!/usr/bin/python3
"""holders.py - a TCP server whose accepted connection ends up held by another process, and the client that reads it.

server PORT --mode fork|scm|exec [--bytes N] [--hold]: accept one connection, then hand it on:
  fork  the classic daemon: fork, the parent closes its copy at once; the child sends N bytes.
  scm   pass the descriptor over a Unix socket (SCM_RIGHTS) to a helper process started before the accept, then close
        it; the helper sends N bytes.
  exec  exec this script again (`send FD N`) with the descriptor inherited; it sends N bytes.
  Whoever holds the connection last prints "holder PID" when it holds it, "sent N" when the bytes are out, then waits
  for one byte from the client and closes it (with --hold: waits to be killed). The first process prints "handed"
  after closing its own copy.
client HOST PORT [--expect N] [--go FILE]: connect, read N bytes and print "received N"; then wait until FILE exists,
  send one byte (the holder closes), read to the end and print "eof".
"""
import argparse
import array
import os
import socket
import sys
import time

CHUNK = 1 << 16


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def send_and_finish(sock, count, hold):
    say(f"holder {os.getpid()}")
    block = b"\0" * CHUNK
    left = count
    while left > 0:
        left -= sock.send(block[: min(left, CHUNK)])
    say(f"sent {count}")
    if hold:
        while True:
            time.sleep(3600)
    sock.recv(1)
    sock.close()


def helper(unix_path, count, hold):
    """The SCM_RIGHTS receiver: takes one descriptor from the Unix socket and sends on it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(unix_path)
    listener.listen(1)
    say("helper ready")
    conn, _ = listener.accept()
    fds = array.array("i")
    _, ancdata, _, _ = conn.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    fds.frombytes(ancdata[0][2][: fds.itemsize])
    conn.close()
    send_and_finish(socket.socket(fileno=fds[0]), count, hold)


def server(args):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(4)
    unix_path = None
    if args.mode == "scm":
        unix_path = f"/tmp/laneshim-holders-{os.getpid()}.sock"
        if os.fork() == 0:
            listener.close()
            helper(unix_path, args.bytes, args.hold)
            os._exit(0)
        while not os.path.exists(unix_path):
            time.sleep(0.01)
    say("listening")
    conn, _ = listener.accept()
    listener.close()
    if args.mode == "fork":
        if os.fork() == 0:
            send_and_finish(conn, args.bytes, args.hold)
            os._exit(0)
    elif args.mode == "scm":
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.connect(unix_path)
        unix.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [conn.fileno()]))])
        unix.close()
        os.unlink(unix_path)
    elif args.mode == "exec":
        os.set_inheritable(conn.fileno(), True)
        argv = [sys.executable, os.path.abspath(__file__), "send", str(conn.fileno()), str(args.bytes)] + (["--hold"] if args.hold else [])
        os.execv(sys.executable, argv)
    conn.close()
    say("handed")
    # The first process stays (a daemon's parent would), so only the holder's end decides.
    while True:
        time.sleep(3600)


def client(args):
    sock = socket.create_connection((args.host, args.port))
    total = 0
    while total < args.expect:
        data = sock.recv(1 << 20)
        if not data:
            break
        total += len(data)
    say(f"received {total}")
    if args.go:
        while not os.path.exists(args.go):
            time.sleep(0.005)
        sock.send(b"x")
    while sock.recv(1 << 20):
        pass
    say("eof")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("--mode", choices=["fork", "scm", "exec"], required=True)
    s.add_argument("--bytes", type=int, default=50_000_000)
    s.add_argument("--hold", action="store_true")
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--expect", type=int, default=50_000_000)
    c.add_argument("--go")
    e = sub.add_parser("send")  # the exec'd image: the descriptor is inherited
    e.add_argument("fd", type=int)
    e.add_argument("bytes", type=int)
    e.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    if args.role == "server":
        server(args)
    elif args.role == "client":
        client(args)
    else:
        say("handed")
        send_and_finish(socket.socket(fileno=args.fd), args.bytes, args.hold)


if __name__ == "__main__":
    main()
