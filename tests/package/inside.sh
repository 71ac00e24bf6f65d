#!/bin/bash
# inside.sh - package_live.sh's steps, chrooted in the overlay: each prints key=value facts; details go to stderr.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
unset LD_PRELOAD LANESHIM_BROKER LANESHIM_CONFIG LANESHIM_DISABLE
fact() { echo "$1=$2"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
preload_state() { if [ -e /etc/ld.so.preload ]; then sha256sum </etc/ld.so.preload | cut -c1-64; else echo absent; fi; }
# Polls until the command succeeds, at most $1 seconds.
wait_for() {
	local limit=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$limit" ] || return 1
		sleep 0.05
	done
}
step() {
	local name=$1 t0 rc
	shift
	t0=$(now_ms)
	"$@" >"/tmp/$name.log" 2>&1
	rc=$?
	fact "$name" "$rc"
	fact "${name}_ms" $(($(now_ms) - t0))
	[ "$rc" -eq 0 ] || cat "/tmp/$name.log" >&2
}
leases() {
	laneshim status --json >/tmp/status.json 2>/tmp/status.err
	cat /tmp/status.err >&2
	python3 -c "$1" </tmp/status.json
}

fact preload_before "$(preload_state)"
step install dpkg -i /tmp/old.deb
fact version "$(dpkg-query -W -f='${Version}' laneshim)"
fact conffiles "$(dpkg-query -W -f='${Conffiles}\n' laneshim | awk 'NF {print $1}' | sort | paste -sd,)"
fact files "$(dpkg -L laneshim | grep -E 'bin/laneshim$|\.so$|\.service$|man[0-9]/' | sort | paste -sd,)"
fact preload_after_install "$(preload_state)"
step unit_verify systemd-analyze verify /lib/systemd/system/laneshim-broker.service
cat /tmp/unit_verify.log >&2

# A sink on loopback for the programs below (started before the shim is preloaded site-wide, so it has none).
python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
def drain(c):
    while c.recv(65536): pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
' >/tmp/sink.port &
SINK=$!
wait_for 10 test -s /tmp/sink.port
PORT=$(cat /tmp/sink.port)

# The broker as systemd would start it: the unit's user, capability bounding set, no-new-privileges, umask,
# environment and directories, and its ExecStart.
unit=/lib/systemd/system/laneshim-broker.service
key() { sed -n "s/^$1=//p" "$unit"; }
user=$(key User)
user=${user:-root}
group=$(id -gn "$user")
for kind in Runtime:/run State:/var/lib Logs:/var/log; do
	name=$(key "${kind%%:*}Directory")
	mode=$(key "${kind%%:*}DirectoryMode")
	[ -n "$name" ] && install -d -m "${mode:-0755}" -o "$user" -g "$group" "${kind#*:}/$name"
done
bounding=$(key CapabilityBoundingSet | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd,)
nnp=$(key NoNewPrivileges)
envs=()
while read -r line; do
	for assignment in $line; do envs+=("$assignment"); done
done < <(key Environment)
read -r -a exec_start <<<"$(key ExecStart)"
# strace records every system call, for the unit's SystemCallFilter= and MemoryDenyWriteExecute= (checked at the end;
# setpriv cannot apply a seccomp filter itself).
t0=$(now_ms)
(
	umask "$(key UMask)"
	exec strace -f -qq -o /tmp/broker.trace setpriv --reuid="$user" --regid="$group" --init-groups --bounding-set="-all,$bounding" \
		${nnp:+--no-new-privs} -- env -i PATH="$PATH" "${envs[@]}" "${exec_start[@]}"
) >/tmp/broker.log 2>&1 &
TRACER=$!
wait_for 30 test -S /run/laneshim/broker.sock
fact broker_up $?
BROKER=$(pgrep -P "$TRACER")
fact broker_socket_ms $(($(now_ms) - t0))
fact broker_capbnd "$(sed -n 's/^CapBnd:\s*//p' /proc/$BROKER/status)"
fact broker_capeff "$(sed -n 's/^CapEff:\s*//p' /proc/$BROKER/status)"
fact broker_nnp "$(sed -n 's/^NoNewPrivs:\s*//p' /proc/$BROKER/status)"
fact broker_vmsize_kb "$(sed -n 's/^VmSize:\s*\([0-9]*\).*/\1/p' /proc/$BROKER/status)"
fact broker_exe "$(readlink /proc/$BROKER/exe)"

# A lane for a program under `laneshim run` (loopback included: the sink is local). The first connect of a process
# also starts the agent's runtime, which on a loaded machine can take more than the default 20 ms (README, Limits):
# these programs give it 2 s, so the lane, not the race, is what is tested.
LANESHIM_INCLUDE_LOOPBACK=1 laneshim run --deadline-ms 2000 -- python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.sendall(b'x' * 65536); s.close()" >&2
fact run_exit $?
fact run_classes "$(leases 'import json,sys; print(",".join(sorted(l["grant"]["laneClass"] for l in json.load(sys.stdin)["leases"].get("leases", []))))')"

# `systemctl reload`: the unit's ExecReload with $MAINPID; a good policy is taken, a bad one refused.
reload=$(key ExecReload)
reload=${reload//\$MAINPID/$BROKER}
cp -p /etc/laneshim/lanes.conf /tmp/lanes.conf.orig
printf 'class reloaded rate=500mbit rtt=10ms\nrule -> reloaded\n' >/etc/laneshim/lanes.conf
$reload
wait_for 10 grep -q "policy reloaded" /tmp/broker.log
fact reload_good $?
LANESHIM_INCLUDE_LOOPBACK=1 laneshim run --deadline-ms 2000 -- python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $PORT)); s.close()" >&2
fact reloaded_classes "$(leases 'import json,sys; print(",".join(sorted(l["grant"]["laneClass"] for l in json.load(sys.stdin)["leases"].get("leases", []))))')"
printf 'class broken rate=\n' >/etc/laneshim/lanes.conf
$reload
wait_for 10 grep -q "policy reload refused" /tmp/broker.log
fact reload_bad_refused $?
cp -p /tmp/lanes.conf.orig /etc/laneshim/lanes.conf
$reload

# Site-wide: `laneshim install --site` adds the packaged shim to /etc/ld.so.preload, after its smoke test.
step site_install laneshim install --site
cat /tmp/site_install.log >&2
fact preload_line "$(cat /etc/ld.so.preload 2>/dev/null)"
fact site_maps "$(grep -c liblaneshim /proc/self/maps)"

# An upgrade while a preloaded program holds a lane: it keeps its (old) shim and agent and keeps working.
LANESHIM_INCLUDE_LOOPBACK=1 LANESHIM_DEADLINE_MS=2000 python3 /tmp/holder.py "$PORT" /tmp/ready /tmp/go >/tmp/holder.out 2>/tmp/holder.err &
HOLDER=$!
wait_for 30 test -s /tmp/ready
fact holder_lease "$(leases "import json,sys; print(sum(1 for l in json.load(sys.stdin)['leases'].get('leases', []) if l['program'].get('pid') == $HOLDER))")"
shim=$(ls /usr/lib/*/laneshim/liblaneshim.so)
inode_before=$(stat -c %i "$shim")
step upgrade dpkg -i /tmp/new.deb
fact version_after "$(dpkg-query -W -f='${Version}' laneshim)"
fact shim_replaced "$([ "$(stat -c %i "$shim")" != "$inode_before" ] && echo 1 || echo 0)"
fact preload_after_upgrade "$(cat /etc/ld.so.preload 2>/dev/null)"
touch /tmp/go
wait "$HOLDER"
fact holder_exit $?
cat /tmp/holder.out
cat /tmp/holder.err >&2
fact new_process_inode "$(grep liblaneshim.so /proc/self/maps | awk '{print $5}' | sort -u | paste -sd,)"
fact shim_inode "$(stat -c %i "$shim")"

# Remove (the service stops first, as the package's prerm would have systemd do), then purge.
kill -TERM "$BROKER"
wait "$TRACER"
fact broker_exit $?
cat /tmp/broker.log >&2
python3 /tmp/syscall_check.py "$unit" /tmp/broker.trace
step remove dpkg -r laneshim
fact preload_after_remove "$(preload_state)"
fact maps_after_remove "$(grep -c liblaneshim /proc/self/maps)"
fact cli_after_remove "$([ -e /usr/bin/laneshim ] && echo present || echo absent)"
fact conffiles_after_remove "$([ -e /etc/laneshim/lanes.conf ] && echo present || echo absent)"
step purge dpkg -P laneshim
fact etc_after_purge "$([ -e /etc/laneshim ] && echo present || echo absent)"
fact state_after_purge "$([ -e /var/lib/laneshim ] && echo present || echo absent)"
kill "$SINK" 2>/dev/null
wait "$SINK" 2>/dev/null
exit 0
