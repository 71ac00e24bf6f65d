#!/usr/bin/env bash
# package_live.sh - the Debian package's whole life on a copy of this host: install, the broker started as its unit
# would start it, lanes, a policy reload, site-wide preload, an upgrade under a running program, remove and purge.
# Usage (as root, under `unshare --mount --propagation private`): package_live.sh DIR OLD.deb NEW.deb
# / becomes an overlay whose upper layer is a tmpfs in DIR, and everything runs chrooted in it: the real host never
# changes. Prints key=value facts for DebianPackageTests; the last fact, tree_diff, lists what purge left behind.
set -eu
DIR=$1 OLD=$2 NEW=$3
HERE=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$DIR/layer" "$DIR/root"
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$DIR/layer"
mkdir "$DIR/layer/upper" "$DIR/layer/work" "$DIR/lower"
mount --bind / "$DIR/lower"
mount -t overlay overlay -o "lowerdir=$DIR/lower,upperdir=$DIR/layer/upper,workdir=$DIR/layer/work" "$DIR/root"
R=$DIR/root
# What systemd would give the service: the kernel's file systems, a fresh /run and /tmp.
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
cp "$OLD" "$R/tmp/old.deb"
cp "$NEW" "$R/tmp/new.deb"
cp "$HERE/inside.sh" "$HERE/holder.py" "$HERE/syscall_check.py" "$R/tmp/"

chroot "$R" /bin/bash /tmp/inside.sh

# What the package left behind: every entry of the upper layer that differs from the host, outside dpkg's own
# records, logs and caches (whiteouts are deletions; directories and files copied up unchanged do not count).
cd "$DIR/layer/upper"
diff=0
while IFS= read -r -d '' path; do
	rel=${path#./}
	case "/$rel" in /var/lib/dpkg | /var/lib/dpkg/* | /var/log | /var/log/* | /var/cache | /var/cache/*) continue ;; esac
	lower="$DIR/lower/$rel"
	what=""
	if [ -c "$path" ] && [ "$(stat -c %t,%T "$path")" = 0,0 ]; then
		what="deleted"
	elif [ -L "$path" ]; then
		[ -L "$lower" ] && [ "$(readlink "$path")" = "$(readlink "$lower")" ] || what="symlink"
	elif [ -d "$path" ]; then
		if [ ! -d "$lower" ]; then
			what="directory created"
		elif [ "$(stat -c %a.%u.%g "$path")" != "$(stat -c %a.%u.%g "$lower")" ]; then
			what="directory mode or owner"
		elif [ "$(getfattr --absolute-names -n trusted.overlay.opaque --only-values "$path" 2>/dev/null)" = y ]; then
			what="directory replaced"
		fi
	elif [ ! -e "$lower" ] && [ ! -L "$lower" ]; then
		what="file created"
	elif ! cmp -s "$path" "$lower" || [ "$(stat -c %a.%u.%g "$path")" != "$(stat -c %a.%u.%g "$lower")" ]; then
		what="file changed"
	fi
	if [ -n "$what" ]; then
		echo "left: /$rel ($what)"
		diff=$((diff + 1))
	fi
done < <(find . -mindepth 1 -print0)
echo "tree_diff=$diff"
