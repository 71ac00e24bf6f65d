#!/usr/bin/python3
"""connect_timer.py HOST PORT[-LAST] N [blocking|nonblocking] - connects N times (cycling over the ports, so a
per-destination grant cache does not hide the broker) and prints, as JSON, how long each connect() took and how many failed."""
import json
import socket
import sys
import time


def main():
    host, count = sys.argv[1], int(sys.argv[3])
    first, _, last = sys.argv[2].partition("-")
    ports = list(range(int(first), int(last or first) + 1))
    nonblocking = len(sys.argv) > 4 and sys.argv[4] == "nonblocking"
    times, failures, errors = [], 0, []
    for i in range(count):
        port = ports[i % len(ports)]
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        if nonblocking:
            s.setblocking(False)
        start = time.perf_counter()
        try:
            rc = s.connect_ex((host, port))
            if nonblocking and rc not in (0, 115):  # EINPROGRESS
                raise OSError(rc, "connect_ex")
            if not nonblocking and rc != 0:
                raise OSError(rc, "connect_ex")
        except OSError as e:
            failures += 1
            errors.append(str(e))
        times.append((time.perf_counter() - start) * 1e6)
        s.close()
    print(json.dumps({"count": count, "failures": failures, "errors": errors[:5], "us": [round(t) for t in times]}))


if __name__ == "__main__":
    main()
