#!/usr/bin/env python3
"""syscall_check.py UNIT TRACE: does the traced broker stay inside its unit's SystemCallFilter= and MemoryDenyWriteExecute=?

Expands the unit's filter with `systemd-analyze syscall-filter` (allow lists, and ~deny lists after them, in order), reads
an `strace -f` log from the broker's own execve on (setpriv and env before it run outside any filter: systemd applies
the filter before the ExecStart's execve) and prints key=value facts: how many distinct system calls the broker made, which of them the filter
would refuse, and how many writable-and-executable mappings it asked for.
"""
import re
import subprocess
import sys

unit, trace = sys.argv[1], sys.argv[2]

groups, current = {}, None
for line in subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout.splitlines():
    if line.startswith("@"):
        current = line.strip()
        groups[current] = []
    elif line.strip() and not line.strip().startswith("#") and current:
        groups[current].append(line.strip())


def expand(name, seen=None):
    seen = set() if seen is None else seen
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    return set().union(*(expand(m, seen) for m in groups.get(name, []))) if groups.get(name) else set()


allowed = None
for line in open(unit):
    m = re.match(r"SystemCallFilter=(~?)(.*)", line.strip())
    if not m:
        continue
    names = set().union(*(expand(n) for n in m.group(2).split()))
    if m.group(1):
        if allowed is not None:
            allowed -= names  # a deny list after an allow list takes from it (a deny list alone is not used here)
    else:
        allowed = names if allowed is None else allowed | names

used, wx, broker = set(), 0, False
for line in open(trace):
    m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
    if not m:
        continue
    if not broker:
        broker = re.match(r'\d+\s+execve\("/usr/bin/laneshim",', line) is not None and line.rstrip().endswith("= 0")
        continue
    used.add(m.group(1))
    if m.group(1) in ("mmap", "mprotect", "pkey_mprotect") and "PROT_EXEC" in line:
        if "PROT_WRITE" in line or m.group(1) != "mmap":
            wx += 1

if not broker:
    print("syscalls_outside_filter=no execve of /usr/bin/laneshim in the trace")
    sys.exit(0)
print(f"broker_syscalls={len(used)}")
print("broker_syscall_list=" + ",".join(sorted(used)))
print("syscalls_outside_filter=" + ",".join(sorted(used - allowed)) if allowed is not None else "syscalls_outside_filter=no filter")
print(f"wx_mappings={wx}")
