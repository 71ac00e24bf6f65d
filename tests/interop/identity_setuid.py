#!/usr/bin/python3
# identity_setuid.py - asks for a lane for its own TCP socket, changes uid on the same broker connection, and asks again.
"""Prints one JSON line: {"before": "OK" or status, "after": "OK" or status, "after_detail": "..."}.
The first request names a socket this process owns, as root; then the process becomes --uid (all three ids) and
names a fresh socket of its own over the same gRPC connection, whose SO_PEERCRED still says root.
"""

import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402
import grpc_peer  # noqa: E402


def ask(call, request_class, sock):
    local = sock.getsockname()
    request = request_class()
    request.flow.local.address = socket.inet_aton(local[0])
    request.flow.local.port = local[1]
    request.flow.remote.address = socket.inet_aton("10.9.9.9")
    request.flow.remote.port = 5201
    request.flow.direction = 1
    request.flow.protocol = 6
    request.program.path = "/usr/bin/python3"
    request.program.pid = os.getpid()
    request.program.fd = sock.fileno()
    try:
        call(request, timeout=10)
        return "OK", ""
    except grpc.RpcError as e:
        return e.code().name, e.details() or ""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--descriptor-set", required=True)
    parser.add_argument("--uid", type=int, default=65534)
    parser.add_argument("--effective-only", action="store_true",
                        help="drop only the effective ids (real stays root, as xrootd -R does) before connecting, then ask once")
    args = parser.parse_args()
    messages = grpc_peer.Messages(args.descriptor_set, grpc_peer.DEFAULT_SERVICE)
    path, request_class, response_class = messages.method("RequestLane")
    if args.effective_only:
        os.setresgid(0, args.uid, 0)
        os.setresuid(0, args.uid, 0)
        with grpc.insecure_channel(args.target, options=[("grpc.enable_http_proxy", 0)]) as channel:
            call = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=response_class.FromString)
            own = socket.socket()
            own.bind(("127.0.0.1", 0))
            status, detail = ask(call, request_class, own)
        print(json.dumps({"effective_only": status, "detail": detail}), flush=True)
        return 0
    with grpc.insecure_channel(args.target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        call = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=response_class.FromString)
        first = socket.socket()
        first.bind(("127.0.0.1", 0))
        before, _ = ask(call, request_class, first)
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)
        second = socket.socket()
        second.bind(("127.0.0.1", 0))
        after, detail = ask(call, request_class, second)
    print(json.dumps({"before": before, "after": after, "after_detail": detail}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
