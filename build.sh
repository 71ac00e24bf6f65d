#!/usr/bin/env bash
# build.sh - build, test, package and demonstrate LaneShim. Usage: ./build.sh [build|test|lint|package|demo|bench|deps|clean] [args]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT="$ROOT/out"
CONFIG=Release
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages the build, the tests and the demo need.
DEB_PACKAGES=(gcc make clang zlib1g-dev libsqlite3-dev binutils python3 python3-grpcio python3-protobuf
	iperf3 curl iproute2 iputils-ping nftables procps
	nginx rsync openssh-client openssh-server globus-gridftp-server-progs globus-gass-copy-progs
	xrootd-server xrootd-client gnuplot-nox postgresql
	debhelper dpkg-dev lintian man-db systemd strace
	libbpf-dev libelf-dev bpftool rclone)

log() { printf '== %s\n' "$*" >&2; }

# Installs a file by rename, never by writing into it: a running program that maps the old one keeps it intact.
install_file() {
	local from=$1 to=$2
	cp "$from" "$to.new.$$"
	mv -f "$to.new.$$" "$to"
}

deps() {
	local missing=()
	for p in "${DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "missing Debian packages (run as root to install them): ${missing[*]}"
		return 0
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
	deps
	product
	mkdir -p "$OUT/bin"
	log "BPF lane path (program and loader)"
	make -s -C bpf
	install_file bpf/build/laneshim.bpf.o "$OUT/lib/laneshim.bpf.o"
	install_file bpf/build/liblaneshim-bpf.so "$OUT/lib/liblaneshim-bpf.so"
	log "lab link emulator"
	make -s -C lab/linkemu
	install_file lab/linkemu/build/laneshim-linkemu "$OUT/bin/laneshim-linkemu"
	log "benchmark programs"
	make -s -C bench/native
	install_file bench/native/build/laneshim-bench "$OUT/bin/laneshim-bench"
	install_file bench/native/build/laneshim-bench-floor.so "$OUT/lib/laneshim-bench-floor.so"
	install_file bench/native/build/laneshim-bench-floor-min.so "$OUT/lib/laneshim-bench-floor-min.so"
	log "proving ground (lab, demo, bench)"
	dotnet publish src/LaneShim.Lab/LaneShim.Lab.csproj -c $CONFIG -o "$OUT/lab" -v quiet -nologo >"$OUT/lab-publish.log" 2>&1 ||
		{ cat "$OUT/lab-publish.log" >&2; exit 1; }
	ln -sfn ../lab/laneshim-lab "$OUT/bin/laneshim-lab"
	log "solution"
	dotnet build Shim.sln -c $CONFIG -v quiet -nologo -clp:ErrorsOnly
}

# What a site installs, as the package ships it: the shim, the NativeAOT agent and the NativeAOT CLI (broker included).
product() {
	mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/cli" "$OUT/debug"
	log "native shim"
	make -s -C native
	install_file native/build/liblaneshim.so "$OUT/lib/liblaneshim.so"
	log "NativeAOT agent (net10.0)"
	dotnet publish src/LaneShim.Agent/LaneShim.Agent.csproj -c $CONFIG -r linux-x64 -o "$OUT/agent" -v quiet -nologo >"$OUT/agent-publish.log" 2>&1 ||
		{ cat "$OUT/agent-publish.log" >&2; exit 1; }
	install_file "$OUT/agent/liblaneshim-agent.so" "$OUT/lib/liblaneshim-agent.so"
	log "NativeAOT CLI and broker"
	dotnet publish src/LaneShim.Cli/LaneShim.Cli.csproj -c $CONFIG -o "$OUT/cli.publish" -v quiet -nologo >"$OUT/cli-publish.log" 2>&1 ||
		{ cat "$OUT/cli-publish.log" >&2; exit 1; }
	# out/cli holds the one binary (install --site copies the directory); its symbols go to out/debug.
	find "$OUT/cli" -mindepth 1 -maxdepth 1 ! -name laneshim -exec rm -rf {} +
	install_file "$OUT/cli.publish/laneshim" "$OUT/cli/laneshim"
	install_file "$OUT/cli.publish/laneshim.dbg" "$OUT/debug/laneshim.dbg"
	ln -sfn ../cli/laneshim "$OUT/bin/laneshim"
}

# The man pages, from the CLI's command definitions, README.md and docs/configuration.md (src/LaneShim.ManPages).
man_pages() {
	log "man pages"
	dotnet build src/LaneShim.ManPages/LaneShim.ManPages.csproj -c $CONFIG -v quiet -nologo -clp:ErrorsOnly >"$OUT/man-build.log" 2>&1 ||
		{ cat "$OUT/man-build.log" >&2; exit 1; }
	local version
	version=$(dpkg-parsechangelog -S Version 2>/dev/null || sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
	dotnet src/LaneShim.ManPages/bin/$CONFIG/net10.0/linux-x64/laneshim-manpages.dll "$OUT/man" "$ROOT" "$version" >/dev/null
}

# ./build.sh package: the Debian package in out/package (dpkg-buildpackage runs `./build.sh package-build` through
# debian/rules), then lintian, which must report no error (and no error tag is overridden: debian/ has no overrides).
package() {
	deps
	rm -rf "$OUT/package"
	mkdir -p "$OUT/package"
	local version
	version=$(dpkg-parsechangelog -S Version)
	log "dpkg-buildpackage (laneshim $version)"
	dpkg-buildpackage -b -uc -us \
		--buildinfo-file="$OUT/package/laneshim_${version}_amd64.buildinfo" --buildinfo-option=-u"$OUT/package" \
		--changes-file="$OUT/package/laneshim_${version}_amd64.changes" --changes-option=-u"$OUT/package" >"$OUT/package/build.log" 2>&1 ||
		{ tail -n 60 "$OUT/package/build.log" >&2; exit 1; }
	log "lintian"
	lintian --fail-on error --info "$OUT/package/laneshim_${version}_amd64.deb" | tee "$OUT/package/lintian.txt" >&2
	ls "$OUT/package/"*.deb
}

# ./build.sh lint [DIR]: every C file formatted as .clang-format says (clang-format --dry-run -Werror) and every C# file
# laid out as .editorconfig says (dotnet format whitespace --verify-no-changes on the solution or project at DIR's top;
# the style rules are errors in the build itself, EnforceCodeStyleInBuild, which costs no second compile). DIR defaults
# to the repository; the conventions tests point it at a scratch tree to show that it fails. Prints what is wrong.
lint() {
	local dir=${1:-$ROOT} status=0
	local c_files=()
	mapfile -t c_files < <(cd "$dir" && find . \( -name build -o -name bin -o -name obj -o -name out -o -name .git \) -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print | sort)
	if [ ${#c_files[@]} -gt 0 ]; then
		(cd "$dir" && clang-format --dry-run -Werror "${c_files[@]}") || { log "lint: C files differ from .clang-format (fix: clang-format -i FILE)"; status=1; }
	fi
	local target
	target=$(cd "$dir" && ls ./*.sln ./*.csproj 2>/dev/null | head -n 1 || true)
	if [ -n "$target" ]; then
		(cd "$dir" && dotnet format whitespace "$target" --verify-no-changes -v quiet) || { log "lint: C# files differ from .editorconfig (fix: dotnet format whitespace $target)"; status=1; }
	fi
	return $status
}

# Runs every test project, then prints one closing line: N passed, N failed[, N skipped].
run_tests() {
	build
	# The package's acceptance tests (tests/LaneShim.EndToEnd.Tests/Package) install the .deb this builds.
	package >/dev/null
	local results="$OUT/test-results"
	rm -rf "$results"
	mkdir -p "$results"
	local status=0 lint_failed=0
	log "lint"
	lint || lint_failed=1
	for proj in tests/*.Tests/*.csproj; do
		local name
		name=$(basename "$proj" .csproj)
		log "test $name"
		dotnet test "$proj" -c $CONFIG --no-build --nologo -v quiet \
			--logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
			--results-directory "$results" --blame-hang-timeout 10m || status=1
	done
	local passed=0 failed=0 skipped=0
	for trx in "$results"/*.trx; do
		[ -f "$trx" ] || continue
		local counters
		counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
		local total p f
		total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
		p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
		f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-0}))
		skipped=$((skipped + ${total:-0} - ${p:-0} - ${f:-0}))
	done
	if [ "$lint_failed" -ne 0 ]; then
		log "lint failed: formatting is part of the test (./build.sh lint says what)"
		failed=$((failed + 1))
	fi
	if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=1 # a test project that crashed or did not run counts as a failure
	fi
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}

# ./build.sh demo [laneshim-lab demo flags]: the legacy movers plain, under laneshim run and hand-tuned, over the lab
# (results in out/demo). ./build.sh demo foundation: one program's socket plain and under LaneShim.
demo() {
	build
	if [ "${1:-}" = foundation ]; then
		shift
		"$ROOT/demo/foundation.sh" "$@"
		return
	fi
	"$OUT/bin/laneshim-lab" demo --policy "$ROOT/demo/lanes.conf" --out "$OUT/demo" "$@"
}

# ./build.sh bench [--quick] [laneshim-lab bench flags]: builds, then the benchmark harness (results in out/bench, root).
bench() {
	build
	"$OUT/bin/laneshim-lab" bench --out "$OUT/bench" "$@"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
build) build ;;
test) run_tests ;;
lint) lint "$@" ;;
package) package ;;
package-build) product; man_pages ;;
demo) demo "$@" ;;
bench) bench "$@" ;;
deps) deps ;;
clean) rm -rf "$OUT" debian/tmp debian/laneshim debian/.debhelper debian/files debian/*.debhelper.log debian/*.substvars debian/debhelper-build-stamp native/build lab/linkemu/build bench/native/build; dotnet clean Shim.sln -v quiet >/dev/null ;;
-h | --help | help) sed -n '2p' "$0" ;;
*) echo "build.sh: unknown command '$cmd' (build|test|lint|package|demo|bench|deps|clean)" >&2; exit 2 ;;
esac
