#!/usr/bin/env bash
# startup.sh - what docs/operations.md reports for a build of the CLI: size, `--help` start time, the broker's time to
# its socket and its address space, and whether `laneshim run` starts under `ulimit -v 1000000`.
# Usage: startup.sh LABEL CLI_BINARY [RUNS]  (root not needed; LANESHIM_LIB_DIR must name the shim's directory for run)
set -eu
LABEL=$1 CLI=$2 RUNS=${3:-20}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now_us() { echo $(($(date +%s%N) / 1000)); }

size=$(du -sb "$(dirname "$(readlink -f "$CLI")")" | cut -f1)
help=$(for _ in $(seq "$RUNS"); do
	t0=$(now_us); "$CLI" --help >/dev/null; echo $(($(now_us) - t0)); done | median)
printf 'class default rate=1gbit rtt=20ms\nrule -> default\n' >"$DIR/lanes.conf"
sock=() vm=() rss=()
for i in $(seq 5); do
	t0=$(now_us)
	LANESHIM_DISABLE=1 "$CLI" broker --listen "unix:$DIR/b$i.sock" --policy "$DIR/lanes.conf" --state memory >"$DIR/broker.log" 2>&1 &
	pid=$!
	until [ -S "$DIR/b$i.sock" ]; do sleep 0.002; done
	sock+=($(($(now_us) - t0)))
	sleep 0.5
	vm+=("$(sed -n 's/^VmSize:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)")
	rss+=("$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)")
	kill "$pid"; wait "$pid" || true
done
limited=$(bash -c "ulimit -v 1000000; '$CLI' run --broker unix:$DIR/none.sock -- /bin/true" >/dev/null 2>&1 && echo yes || echo no)
runvm=$( ( "$CLI" run --broker "unix:$DIR/none.sock" -- /bin/sleep 2 & p=$!; sleep 1; sed -n 's/^VmPeak:\s*\([0-9]*\).*/\1/p' /proc/$p/status; wait $p ) 2>/dev/null)
echo "$LABEL: size $((size / 1024 / 1024)) MiB; --help median $((help / 1000)) ms of $RUNS;" \
	"broker socket median $(printf '%s\n' "${sock[@]}" | median | awk '{print int($1/1000)}') ms of 5;" \
	"broker VmSize $(printf '%s\n' "${vm[@]}" | median | awk '{print int($1/1024)}') MiB, RSS $(printf '%s\n' "${rss[@]}" | median | awk '{print int($1/1024)}') MiB;" \
	"run VmPeak $((runvm / 1024)) MiB; run under ulimit -v 1000000: $limited"
