#!/usr/bin/env bash
# install_live.sh - `laneshim install --site` and `uninstall --site` on / itself, inside a private mount namespace.
# Usage (as root, under `unshare --mount --propagation private`): install_live.sh DIR CLI
# /etc, /usr/local and /var/lib become overlays whose upper layers live in DIR, so the real host never changes.
# Prints key=value facts for SiteInstallTests: how many mappings of the shim a fresh process has before, while installed and after;
# the preload file's state and a listing of the overlaid trees before and after; whether the unit verifies and the
# installed broker starts with the example policy.
set -eu
DIR=$1 CLI=$2
for d in /etc /usr/local /var/lib; do
	name=$(echo "$d" | tr / _)
	mkdir -p "$DIR/upper$name" "$DIR/work$name"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$DIR/upper$name,workdir=$DIR/work$name" "$d"
done
state() { if [ -e /etc/ld.so.preload ]; then sha256sum </etc/ld.so.preload | cut -c1-64; else echo absent; fi; }
tree() { find /etc /usr/local /var/lib -xdev -printf '%y %p %m %l\n' 2>/dev/null | sort | sha256sum | cut -c1-64; }

echo "preload_before=$(state)"
echo "tree_before=$(tree)"
echo "maps_before=$(grep -c liblaneshim /proc/self/maps || true)"
"$CLI" install --site >&2
echo "maps_installed=$(grep -c liblaneshim /proc/self/maps || true)"
/usr/local/bin/laneshim --help >/dev/null && echo "installed_cli=0" || echo "installed_cli=$?"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify /etc/systemd/system/laneshim-broker.service >&2 && echo "unit_verify=0" || echo "unit_verify=$?"
else
	echo "unit_verify=0 (systemd-analyze not installed)"
fi
# The installed broker starts with the example policy, as the unit would start it (polls for the socket, 10 s at most).
LANESHIM_DISABLE=1 /usr/local/bin/laneshim broker --listen "unix:$DIR/broker.sock" --policy /etc/laneshim/lanes.conf >"$DIR/broker.log" 2>&1 &
broker=$!
for _ in $(seq 100); do [ -S "$DIR/broker.sock" ] && break; sleep 0.1; done
[ -S "$DIR/broker.sock" ] && echo "example_broker=0" || { echo "example_broker=1"; cat "$DIR/broker.log" >&2; }
kill "$broker"
wait "$broker" || true
"$CLI" uninstall --site >&2
echo "maps_after=$(grep -c liblaneshim /proc/self/maps || true)"
echo "preload_after=$(state)"
echo "tree_after=$(tree)"
