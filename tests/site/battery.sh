#!/usr/bin/env bash
# battery.sh - the site-wide battery: real programs run plainly, then with the shim in /etc/ld.so.preload and the broker up, down and hanging.
# Usage, as root, inside the client's network namespace (SiteBatteryTests starts it):
#   unshare --mount --propagation private battery.sh DIR SHIM SERVER SERVER6 HTTP_PORT RSYNC_PORT IPERF_PORT CLOSED_PORT
# DIR holds data/ (fixtures) and the broker sockets; results go to DIR/results.tsv (mode, program, exit code), each
# program's stdout and stderr to DIR/work/MODE/out/, and to DIR/maps-MODE how many mappings of the shim a process had. /etc here is an overlay private to this
# mount namespace, so the real /etc never changes. This shell starts before any preload exists and only its exec'd
# children load the shim: the harness itself is never under test.
set -u
DIR=$1 SHIM=$2
export SRV=$3 SRV6=$4 HTTP=$5 RSYNCP=$6 IPERF=$7 CLOSED=$8
export DATA=$DIR/data
mkdir -p "$DIR/etc-upper" "$DIR/etc-work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$DIR/etc-upper,workdir=$DIR/etc-work" /etc || { echo "battery: cannot overlay /etc" >&2; exit 90; }
rm -f /etc/ld.so.preload
mkdir -p /etc/laneshim

# name|command line, run by bash -c in DIR/work/MODE (exported as W). Outputs must be deterministic.
PROGRAMS=(
	"true|/bin/true"
	"false|/bin/false"
	"echo|/bin/echo hello world"
	"ls|/bin/ls -1 \$DATA/tree"
	"cat|/bin/cat \$DATA/a.txt"
	"sort|/usr/bin/sort \$DATA/words"
	"sha256sum|/usr/bin/sha256sum \$DATA/a.txt"
	"wc|/usr/bin/wc -l \$DATA/words"
	"date|/bin/date -u -d @0 +%F"
	"stat|/usr/bin/stat -c '%s %a %F' \$DATA/a.txt"
	"id|/usr/bin/id -u"
	"uname|/bin/uname -s"
	"env|/usr/bin/env -i /bin/sh -c 'echo \$0'"
	"grep|/bin/grep -c a \$DATA/words"
	"sed|/bin/sed -n 2p \$DATA/words"
	"awk|/usr/bin/awk '{n+=length(\$0)} END {print n}' \$DATA/words"
	"find|/usr/bin/find \$DATA/tree -type f | /usr/bin/sort"
	"cut-tr|/usr/bin/cut -c1-3 \$DATA/words | /usr/bin/tr a-z A-Z"
	"xargs|printf 'a\nb\n' | /usr/bin/xargs -n1 /bin/echo x"
	"tar-gzip|/bin/tar -C \$DATA --mtime=@0 --owner=0 --group=0 -cf - a.txt | /bin/gzip -n | /usr/bin/sha256sum"
	"xz|/usr/bin/xz -c \$DATA/a.txt | /usr/bin/xz -dc"
	"bash|/bin/bash -c 'for i in 1 2 3; do echo \$i; done; exit 4'"
	"dash|/bin/sh -c 'echo dash \$((6*7))'"
	"timeout|/usr/bin/timeout 5 /bin/sleep 0.05; echo \$?"
	"perl|/usr/bin/perl -e 'print join(\",\", map {\$_*2} 1..5), \"\\n\"'"
	"python3|/usr/bin/python3 -c 'import hashlib; print(hashlib.sha256(b\"x\").hexdigest())'"
	"openssl|/usr/bin/openssl dgst -sha256 -r \$DATA/a.txt"
	"make|/usr/bin/make -s -f \$DATA/Makefile"
	"getent|/usr/bin/getent hosts 127.0.0.1"
	"apt-cache|/usr/bin/apt-cache policy coreutils"
	"dotnet|/usr/bin/dotnet --info"
	"git-version|/usr/bin/git --version"
	"ssh-version|/usr/bin/ssh -V"
	"setuid-passwd|/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/passwd -S"
	"setuid-mount|/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/mount --version"
	"static|\$DATA/static_hello"
	# Real eligible TCP connections to the server namespace (not loopback): these are the ones that get lanes.
	"curl|/usr/bin/curl -sS http://\$SRV:\$HTTP/a.txt"
	"curl-ipv6|/usr/bin/curl -sS -g http://[\$SRV6]:\$HTTP/a.txt"
	"wget|/usr/bin/wget -q -O - http://\$SRV:\$HTTP/a.txt"
	"python3-http|/usr/bin/python3 -c \"import urllib.request; print(urllib.request.urlopen('http://\$SRV:\$HTTP/a.txt').read().decode())\""
	"python3-refused|/usr/bin/python3 -c \"import socket; s=socket.socket(); print(s.connect_ex(('\$SRV', \$CLOSED)))\""
	"git-clone-http|/usr/bin/git clone -q http://\$SRV:\$HTTP/repo.git \$W/clone && /usr/bin/git -C \$W/clone log --format=%s"
	"rsync-daemon|/usr/bin/rsync -r rsync://\$SRV:\$RSYNCP/data/ \$W/rsync/ && /bin/ls -1 \$W/rsync && /bin/cat \$W/rsync/a.txt"
	"iperf3|/usr/bin/iperf3 -c \$SRV -p \$IPERF -n 1M >/dev/null && echo iperf3 ok"
	"ssh-refused|/usr/bin/ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -p \$CLOSED \$SRV true"
)

run_mode() {
	local mode=$1 name cmd rc
	export W=$DIR/work/$mode
	mkdir -p "$W/out"
	for entry in "${PROGRAMS[@]}"; do
		name=${entry%%|*}
		cmd=${entry#*|}
		(cd "$W" && /usr/bin/timeout 60 /bin/bash -c "$cmd") >"$W/out/$name.out" 2>"$W/out/$name.err" </dev/null
		rc=$?
		# Only builtins here: the harness's own bookkeeping must not depend on the shim under test.
		printf '%s\t%s\t%s\n' "$mode" "$name" "$rc" >>"$DIR/results.tsv"
	done
	# Proof the shim really was there: a fresh process's own mappings.
	/bin/grep -c liblaneshim /proc/self/maps >"$DIR/maps-$mode" 2>&1
}

site_config() {
	# What a site's client.conf would say; the log (debug, to a file, never stdout) shows each decision.
	printf 'broker = %s\nlog = debug\nlog_file = %s\ndeadline_ms = %s\n' "$1" "$DIR/shim-$2.log" "$3" >/etc/laneshim/client.conf
	chmod 0644 /etc/laneshim/client.conf
}

: >"$DIR/results.tsv"
run_mode plain
printf '%s\n' "$SHIM" >/etc/ld.so.preload
# Up: a deadline that a first connect (which also starts the agent's runtime) meets even on a loaded 2-core CI
# machine, so every eligible connect really gets its lane; down and hang keep the default 20 ms.
site_config "unix:$DIR/broker.sock" up 2000
run_mode up
site_config "unix:$DIR/no-broker.sock" down 20
run_mode down
site_config "unix:$DIR/hang.sock" hang 20
run_mode hang
echo "battery done"
