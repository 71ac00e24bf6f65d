#!/usr/bin/python3
# identity_peer.py - repeats LaneBroker calls with python3-grpcio, optionally over mutual TLS, and counts the outcomes.
"""Calls each --call METHOD=JSON --repeat times and prints one JSON line:
{"calls": N, "ok": N, "codes": {"PERMISSION_DENIED": N, ...}, "first_ok": {...response...}, "details": [first detail per code]}.
TLS: --ca FILE (trust the broker's certificate by this CA), --cert FILE --key FILE (our client certificate, optional).
Uses grpc_peer.py's descriptor handling, so messages come from the repository's proto.
"""

import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402
import grpc_peer  # noqa: E402
from google.protobuf import json_format  # noqa: E402


def channel(args):
    options = [("grpc.enable_http_proxy", 0)]
    target = grpc_peer.client_target(args.target.replace("https://", "http://"))
    if args.ca is None:
        return grpc.insecure_channel(target, options=options)
    read = lambda path: open(path, "rb").read() if path else None  # noqa: E731
    credentials = grpc.ssl_channel_credentials(root_certificates=read(args.ca), private_key=read(args.key), certificate_chain=read(args.cert))
    return grpc.secure_channel(target, credentials, options=options)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target")
    parser.add_argument("--call", action="append", default=[], help="METHOD=JSON")
    parser.add_argument("--descriptor-set", help="a FileDescriptorSet to use instead of running protoc (callers without access to it)")
    parser.add_argument("--write-descriptor", help="build the FileDescriptorSet, copy it here and exit")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    descriptor = args.descriptor_set or grpc_peer.build_descriptor_set(grpc_peer.REPO_PROTO_ROOT, grpc_peer.DEFAULT_PROTO)
    if args.write_descriptor:
        shutil.copyfile(descriptor, args.write_descriptor)
        return 0
    messages = grpc_peer.Messages(descriptor, grpc_peer.DEFAULT_SERVICE)
    result = {"calls": 0, "ok": 0, "codes": {}, "details": {}, "first_ok": None}
    with channel(args) as ch:
        for _ in range(args.repeat):
            for spec in args.call:
                name, _, body = spec.partition("=")
                path, request_class, response_class = messages.method(name)
                request = json_format.Parse(body or "{}", request_class())
                call = ch.unary_unary(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=response_class.FromString)
                result["calls"] += 1
                try:
                    response = call(request, timeout=10)
                    result["ok"] += 1
                    if result["first_ok"] is None:
                        result["first_ok"] = json_format.MessageToDict(response, preserving_proto_field_name=True)
                except grpc.RpcError as e:
                    code = e.code().name
                    result["codes"][code] = result["codes"].get(code, 0) + 1
                    result["details"].setdefault(code, e.details() or "")
    print(json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
