# sockopt_client.py - the BPF lane path tests' dynamic client (preloadable): connects, prints what the kernel says of
# its socket in bpf_client's format, keeps the flow alive with small writes, prints again, closes.
# Usage: sockopt_client.py HOST PORT SECONDS [HOLD [LATE_CC]]: HOLD more seconds after the second report, before
# closing; LATE_CC: set that congestion control right after the first report, as an agent that missed its deadline does
import socket
import struct
import sys
import time


def report(sock, when):
    cc = sock.getsockopt(socket.IPPROTO_TCP, 13, 16).split(b"\0")[0].decode()
    pacing = struct.unpack("Q", sock.getsockopt(socket.SOL_SOCKET, 47, 8).ljust(8, b"\0"))[0]
    print(f"{when} cc={cc} sndbuf={sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)} pacing={pacing} "
          f"tos={sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS)} port={sock.getsockname()[1]}", flush=True)


def main():
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    report(sock, "connect")
    if len(sys.argv) > 5:
        time.sleep(0.5)
        sock.setsockopt(socket.IPPROTO_TCP, 13, sys.argv[5].encode())
    for _ in range(int(float(sys.argv[3]) * 20)):
        sock.sendall(b"x" * 100)
        time.sleep(0.05)
    report(sock, "later")
    time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
    sock.close()


main()
