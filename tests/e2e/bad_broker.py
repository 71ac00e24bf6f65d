#!/usr/bin/python3
"""bad_broker.py MODE PATH - a Unix-socket 'broker' that misbehaves: hang (accept, never answer), garbage (random bytes),
close (accept and close at once), grpc-garbage (a valid HTTP/2 preface exchange, then a reply that is not gRPC)."""
import os
import socket
import sys
import threading


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
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
