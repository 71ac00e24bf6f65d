#!/usr/bin/python3
# grpc_peer.py - a gRPC client and server for LaneBroker built on Debian's python3-grpcio, for interop tests.
"""Talks to (client) or impersonates (server) laneshim.v1.LaneBroker with an independent gRPC stack.

Messages are built at run time from a FileDescriptorSet (protoc --include_imports --descriptor_set_out),
because Debian's python3-protobuf cannot compile .proto files. Without --descriptor-set the script runs
protoc from the Grpc.Tools NuGet package itself.

client: prints the response as one line of JSON (proto field names; 64-bit integers as strings, as proto3
        JSON does) and exits 0, or prints "STATUS <CODE> <details>" and exits 1. Setup errors exit 2.
  grpc_peer.py client --target unix:/run/laneshim/broker.sock --method RequestLane --json '{"program": {"pid": 1}}'

bench:  RequestLane as an agent would ask it, for a socket of its own (bound, unconnected, proven by the broker),
        COUNT times after WARMUP untimed calls on one channel; prints each call's nanoseconds, one per line, and
        releases each lease (untimed) as the agent does when its socket closes.
  grpc_peer.py bench --target unix:/run/laneshim/broker.sock --remote 10.0.0.2:5201 --count 500 --warmup 50

server: prints "LISTENING <address>" (unix:/path or http://127.0.0.1:PORT), then one line per call:
        "REQUEST {"method": ..., "request": {...}, "timeout_remaining": seconds or null, "user_agent": ...}".
        Methods without a --rule answer UNIMPLEMENTED. Runs until SIGTERM/SIGINT or --lifetime seconds.
  grpc_peer.py server --listen tcp:127.0.0.1:0 \\
      --rule 'RequestLane=reply:{"lease_id": "py-1"}' \\
      --rule 'RenewLane=abort:RESOURCE_EXHAUSTED:no capacity' \\
      --rule 'ReleaseLane=sleep:5'
"""

import argparse
import atexit
import glob
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

EXIT_OK = 0
EXIT_STATUS = 1
EXIT_SETUP = 2

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_PROTO_ROOT = os.path.normpath(os.path.join(SCRIPT_DIR, "..", "..", "proto"))
DEFAULT_PROTO = "laneshim/v1/broker.proto"
DEFAULT_SERVICE = "laneshim.v1.LaneBroker"


def fail(message):
    print(f"grpc_peer: {message}", file=sys.stderr, flush=True)
    sys.exit(EXIT_SETUP)


try:
    import grpc
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
except ImportError as e:  # pragma: no cover - the message is the point
    fail(f"{e}; install python3-grpcio and python3-protobuf (apt-get install -y python3-grpcio python3-protobuf) "
         f"and run with /usr/bin/python3")


# ---- descriptors ---------------------------------------------------------------------------------

def find_protoc():
    explicit = os.environ.get("LANESHIM_PROTOC")
    if explicit:
        return explicit
    packages = os.environ.get("NUGET_PACKAGES") or os.path.join(os.path.expanduser("~"), ".nuget", "packages")
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), "x64")
    candidates = glob.glob(os.path.join(packages, "grpc.tools", "*", "tools", f"linux_{arch}", "protoc"))
    if not candidates:
        fail(f"no protoc under {packages}/grpc.tools/*/tools/linux_{arch}; restore the .NET projects or set LANESHIM_PROTOC")

    def version_key(path):
        version = path.split(os.sep)[-4]
        return [int(p) if p.isdigit() else 0 for p in version.split(".")]

    return max(candidates, key=version_key)


def build_descriptor_set(proto_root, proto):
    protoc = find_protoc()
    include = os.path.normpath(os.path.join(os.path.dirname(protoc), "..", "..", "build", "native", "include"))
    out = tempfile.NamedTemporaryFile(prefix="laneshim-", suffix=".pb", delete=False)
    out.close()
    atexit.register(lambda: os.path.exists(out.name) and os.unlink(out.name))
    command = [protoc, f"-I{proto_root}", f"-I{include}", "--include_imports", f"--descriptor_set_out={out.name}", proto]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return out.name


class Messages:
    """Message classes and method signatures from a FileDescriptorSet."""

    def __init__(self, descriptor_set_path, service):
        with open(descriptor_set_path, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for file_proto in files.file:  # --include_imports lists dependencies first
            self.pool.AddSerializedFile(file_proto.SerializeToString())
        self.factory = message_factory.MessageFactory(self.pool)
        try:
            self.service = self.pool.FindServiceByName(service)
        except KeyError:
            fail(f"service {service} is not in {descriptor_set_path}")

    def message_class(self, descriptor):
        get = getattr(message_factory, "GetMessageClass", None)
        return get(descriptor) if get else self.factory.GetPrototype(descriptor)

    def method(self, name):
        """Accepts RequestLane, LaneBroker/RequestLane or /laneshim.v1.LaneBroker/RequestLane."""
        short = name.rsplit("/", 1)[-1]
        method = self.service.methods_by_name.get(short)
        if method is None:
            known = ", ".join(sorted(self.service.methods_by_name))
            fail(f"no method {name} in {self.service.full_name}; known: {known}")
        path = f"/{self.service.full_name}/{method.name}"
        return path, self.message_class(method.input_type), self.message_class(method.output_type)


def to_json(message):
    as_dict = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return json.dumps(as_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def one_line(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def client_target(address):
    for prefix in ("http://", "tcp:"):
        if address.startswith(prefix):
            return address[len(prefix):].rstrip("/")
    return address  # unix:/path and host:port are grpc targets already


# ---- client --------------------------------------------------------------------------------------

def run_client(args, messages):
    path, request_class, response_class = messages.method(args.method)
    request = request_class()
    try:
        json_format.Parse(args.json, request)
    except json_format.ParseError as e:
        fail(f"--json does not match {request_class.DESCRIPTOR.full_name}: {e}")

    options = [("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel(client_target(args.target), options=options) as channel:
        call = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=response_class.FromString)
        try:
            response = call(request, timeout=args.timeout)
        except grpc.RpcError as e:
            print(f"STATUS {e.code().name} {one_line(e.details() or '')}", flush=True)
            return EXIT_STATUS
    print(to_json(response), flush=True)
    return EXIT_OK


# ---- bench ---------------------------------------------------------------------------------------

def host_limits(limits):
    def read(path, field=None):
        try:
            with open(path) as f:
                text = f.read().split()
            return int(text[field] if field is not None else text[0])
        except (OSError, ValueError, IndexError):
            return 0
    limits.rmem_max = read("/proc/sys/net/core/rmem_max")
    limits.wmem_max = read("/proc/sys/net/core/wmem_max")
    limits.tcp_rmem_max = read("/proc/sys/net/ipv4/tcp_rmem", 2)
    limits.tcp_wmem_max = read("/proc/sys/net/ipv4/tcp_wmem", 2)
    limits.privileged = os.geteuid() == 0
    try:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            limits.congestion_available.extend(f.read().split())
    except OSError:
        pass


def run_bench(args, messages):
    path, request_class, grant_class = messages.method("RequestLane")
    release_path, release_class, release_reply_class = messages.method("ReleaseLane")
    host, _, port = args.remote.rpartition(":")
    remote = socket.inet_aton(host)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the source address the route gives, as the agent finds it
    probe.connect((host, int(port)))
    local_address = probe.getsockname()[0]
    probe.close()
    template = request_class()
    host_limits(template.host)
    template.flow.remote.address = remote
    template.flow.remote.port = int(port)
    template.flow.direction = 1  # OUTBOUND
    template.flow.protocol = 6
    template.program.path = os.path.realpath(sys.executable)
    template.program.pid = os.getpid()
    template.program.uid = os.getuid()
    template.program.gid = os.getgid()
    template.app_settings.SetInParent()
    samples = []
    options = [("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel(client_target(args.target), options=options) as channel:
        call = channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=grant_class.FromString)
        release = channel.unary_unary(release_path, request_serializer=lambda m: m.SerializeToString(),
                                      response_deserializer=release_reply_class.FromString)
        for i in range(args.warmup + args.count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((local_address, 0))
                request = request_class()
                request.CopyFrom(template)
                request.flow.local.address = socket.inet_aton(local_address)
                request.flow.local.port = s.getsockname()[1]
                request.program.fd = s.fileno()
                t0 = time.perf_counter_ns()
                try:
                    grant = call(request, timeout=args.timeout)
                except grpc.RpcError as e:
                    print(f"STATUS {e.code().name} {one_line(e.details() or '')}", file=sys.stderr, flush=True)
                    return EXIT_STATUS
                t1 = time.perf_counter_ns()
                if i >= args.warmup:
                    samples.append(t1 - t0)
                try:
                    release(release_class(lease_id=grant.lease_id), timeout=args.timeout)
                except grpc.RpcError:
                    pass  # the lease ends at its expiry; the timing above stands
            finally:
                s.close()
    sys.stdout.write("".join(f"{n}\n" for n in samples))
    sys.stdout.flush()
    return EXIT_OK


# ---- server --------------------------------------------------------------------------------------

def parse_rule(text):
    """METHOD=reply:JSON | METHOD=abort:CODE:[KEY=VALUE;...|]DETAILS | METHOD=sleep:SECONDS[:JSON]"""
    method, sep, action = text.partition("=")
    kind, _, rest = action.partition(":")
    if not sep or kind not in ("reply", "abort", "sleep"):
        fail(f"bad --rule '{text}'; expected METHOD=reply:JSON, METHOD=abort:CODE:DETAILS or METHOD=sleep:SECONDS[:JSON]")
    if kind == "abort":
        code_name, _, details = rest.partition(":")
        code = getattr(grpc.StatusCode, code_name, None)
        if code is None or code == grpc.StatusCode.OK:
            fail(f"bad status code '{code_name}' in --rule '{text}'")
        # Trailing metadata before the details: abort:CODE:key=value;key=value|DETAILS (no '|': no metadata).
        trailing = ()
        if "|" in details:
            pairs, _, details = details.partition("|")
            trailing = tuple(tuple(p.split("=", 1)) for p in pairs.split(";") if p)
        return method.rsplit("/", 1)[-1], ("abort", code, details, trailing)
    if kind == "sleep":
        seconds, _, reply = rest.partition(":")
        return method.rsplit("/", 1)[-1], ("sleep", float(seconds), reply or "{}")
    return method.rsplit("/", 1)[-1], ("reply", rest or "{}")


class Handler(grpc.GenericRpcHandler):
    def __init__(self, messages, rules):
        self.messages = messages
        self.rules = rules
        self.print_lock = threading.Lock()

    def service(self, handler_call_details):
        path = handler_call_details.method
        service_prefix = f"/{self.messages.service.full_name}/"
        if not path.startswith(service_prefix):
            return None
        name = path[len(service_prefix):]
        rule = self.rules.get(name)
        if rule is None or name not in self.messages.service.methods_by_name:
            return None
        _, request_class, response_class = self.messages.method(name)

        def handle(request, context):
            metadata = dict(context.invocation_metadata())
            seen = {
                "method": name,
                "request": json.loads(to_json(request)),
                "timeout_remaining": context.time_remaining(),
                "user_agent": metadata.get("user-agent"),
            }
            with self.print_lock:
                print("REQUEST " + json.dumps(seen, sort_keys=True, ensure_ascii=False), flush=True)
            if rule[0] == "abort":
                if rule[3]:
                    context.set_trailing_metadata(rule[3])
                context.abort(rule[1], rule[2])
            if rule[0] == "sleep":
                end = time.monotonic() + rule[1]
                while context.is_active() and time.monotonic() < end:
                    time.sleep(0.005)
            reply = response_class()
            json_format.Parse(rule[-1], reply)
            return reply

        return grpc.unary_unary_rpc_method_handler(
            handle, request_deserializer=request_class.FromString, response_serializer=lambda m: m.SerializeToString())


def run_server(args, messages):
    rules = dict(parse_rule(r) for r in args.rule)
    for name, rule in rules.items():
        if name not in messages.service.methods_by_name:
            fail(f"--rule for unknown method {name}")
        if rule[0] in ("reply", "sleep"):
            _, _, response_class = messages.method(name)
            try:
                json_format.Parse(rule[-1], response_class())
            except json_format.ParseError as e:
                fail(f"reply JSON for {name} does not match {response_class.DESCRIPTOR.full_name}: {e}")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), handlers=[Handler(messages, rules)])
    listen = args.listen
    if listen.startswith("unix:"):
        path = listen[len("unix:"):]
        if os.path.exists(path):
            os.unlink(path)
        server.add_insecure_port(listen)
        address = listen
    else:
        host_port = client_target(listen)
        port = server.add_insecure_port(host_port)
        if port == 0:
            fail(f"cannot listen on {listen}")
        host = host_port.rsplit(":", 1)[0]
        address = f"http://{host}:{port}"
    server.start()
    print(f"LISTENING {address}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait(args.lifetime)
    server.stop(0).wait()
    return EXIT_OK


# ---- main ----------------------------------------------------------------------------------------

def main():
    sys.stdout.reconfigure(encoding="utf-8")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--descriptor-set", help="FileDescriptorSet from protoc --include_imports (default: run protoc)")
    parser.add_argument("--proto-root", default=REPO_PROTO_ROOT, help="import root for --proto (default: the repository's proto/)")
    parser.add_argument("--proto", default=DEFAULT_PROTO, help=f"the .proto to compile (default: {DEFAULT_PROTO})")
    parser.add_argument("--service", default=DEFAULT_SERVICE, help=f"full service name (default: {DEFAULT_SERVICE})")
    modes = parser.add_subparsers(dest="mode", required=True)

    client = modes.add_parser("client", help="call one method and print the response or the status")
    client.add_argument("--target", required=True, help="unix:/path, http://host:port or host:port")
    client.add_argument("--method", required=True, help="RequestLane or /laneshim.v1.LaneBroker/RequestLane")
    client.add_argument("--json", default="{}", help="the request as proto3 JSON")
    client.add_argument("--timeout", type=float, default=10.0, help="deadline in seconds (default 10)")

    bench = modes.add_parser("bench", help="time RequestLane for sockets of this process, as an agent asks")
    bench.add_argument("--target", required=True, help="unix:/path, http://host:port or host:port")
    bench.add_argument("--remote", required=True, help="IPv4:PORT the flows are for")
    bench.add_argument("--count", type=int, default=500, help="timed calls (default 500)")
    bench.add_argument("--warmup", type=int, default=50, help="untimed calls first (default 50)")
    bench.add_argument("--timeout", type=float, default=2.0, help="deadline of each call in seconds (default 2)")

    server = modes.add_parser("server", help="serve scripted answers and print each request")
    server.add_argument("--listen", required=True, help="unix:/path, tcp:127.0.0.1:0 or 127.0.0.1:PORT")
    server.add_argument("--rule", action="append", default=[], help="METHOD=reply:JSON | METHOD=abort:CODE:[KEY=VALUE;...|]DETAILS | METHOD=sleep:SECONDS[:JSON]")
    server.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds (default 600)")

    args = parser.parse_args()
    descriptor_set = args.descriptor_set or build_descriptor_set(args.proto_root, args.proto)
    messages = Messages(descriptor_set, args.service)
    runs = {"client": run_client, "bench": run_bench, "server": run_server}
    return runs[args.mode](args, messages)


if __name__ == "__main__":
    sys.exit(main())
