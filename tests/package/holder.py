#!/usr/bin/env python3
"""holder.py PORT READY GO: a program that holds a lane across an upgrade.

Connects to 127.0.0.1:PORT (the shim, preloaded site-wide, asks the broker first), writes READY, waits until GO
exists, then sends 4 MiB on the old connection, opens a second one, and prints what it saw; exit 0 only if all worked.
"""
import os
import socket
import sys
import time

port, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
first = socket.create_connection(("127.0.0.1", port))
with open(ready, "w") as f:
    f.write(str(os.getpid()))
deadline = time.monotonic() + 120
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("holder: nobody said go")
    time.sleep(0.05)
first.sendall(b"x" * (4 << 20))
first.close()
second = socket.create_connection(("127.0.0.1", port))
second.sendall(b"y" * 4096)
second.close()
with open("/proc/self/maps") as maps:
    shim = sorted({line.split(None, 5)[5].strip() for line in maps if "liblaneshim.so" in line})
print("holder_shim_maps=" + "|".join(shim))
print("holder_done=1")
