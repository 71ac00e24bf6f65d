#!/usr/bin/env bash
# foundation.sh - acceptance scenario 1 as a demo: the same client, plain and under `laneshim run`, and what the kernel reports.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LANESHIM="$ROOT/out/bin/laneshim"
SOCKINFO="$ROOT/tests/e2e/sockinfo.py"
A=lsdemoa B=lsdemob

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }

cleanup() {
	for ns in $A $B; do
		ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del $ns 2>/dev/null || true
	done
}
trap cleanup EXIT
cleanup
ip netns add $A
ip netns add $B
ip link add vdemoa netns $A type veth peer name vdemob netns $B
ip -n $A addr add 10.77.250.1/24 dev vdemoa
ip -n $B addr add 10.77.250.2/24 dev vdemob
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set vdemoa up
ip -n $B link set vdemob up

ip netns exec $B /usr/bin/python3 "$SOCKINFO" server 5201 --count 2 >/tmp/laneshim-demo-server.out &
for _ in $(seq 100); do grep -q listening /tmp/laneshim-demo-server.out 2>/dev/null && break; sleep 0.05; done

echo "client in namespace $A -> server 10.77.250.2:5201 in namespace $B (veth)"
echo
echo "plain:    python3 sockinfo.py client"
plain=$(ip netns exec $A /usr/bin/python3 "$SOCKINFO" client 10.77.250.2 5201 --bytes 1000000)
echo "          $plain"
echo "laneshim: laneshim run --rate 1gbit --rtt 40ms --cc cubic -- python3 sockinfo.py client"
lane=$(ip netns exec $A "$LANESHIM" run --embedded --rate 1gbit --rtt 40ms --cc cubic -- /usr/bin/python3 "$SOCKINFO" client 10.77.250.2 5201 --bytes 1000000)
echo "          $lane"
echo
/usr/bin/python3 - "$plain" "$lane" <<'PY'
import json, sys
p, l = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [("congestion control", "congestion", str), ("SO_SNDBUF (kernel, doubled)", "sndbuf", lambda v: f"{v/1e6:.2f} MB"),
        ("SO_RCVBUF (kernel)", "rcvbuf", lambda v: f"{v/1e6:.2f} MB"),
        ("SO_MAX_PACING_RATE", "max_pacing_rate", lambda v: f"{v*8/1e9:.2f} Gbit/s" if v else "none"),
        ("TCP_NOTSENT_LOWAT", "notsent_lowat", str)]
print(f"{'what the kernel reports':30} {'plain':>14} {'laneshim':>14}")
for title, key, fmt in rows:
    print(f"{title:30} {fmt(p[key]):>14} {fmt(l[key]):>14}")
PY
