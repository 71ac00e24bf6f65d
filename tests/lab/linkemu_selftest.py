#!/usr/bin/python3
"""linkemu_selftest.py - end-to-end checks of laneshim-linkemu between two fresh network namespaces.

Usage: tests/lab/linkemu_selftest.py [--quick] [--bin PATH] [--rt-priority N] [--window SIZE] [--cc NAME]

Default: 9000 MTU, 20 ms each way; 1 Gbit/s; then 100 Mbit/s with 0.01% loss; 1% loss counted against
iperf3; tail drop with a 30 KiB queue; seed reproducibility; SIGTERM/SIGKILL cleanup. --quick: the 1 Gbit/s,
1% loss, tail-drop and cleanup checks in about 15 s.

Prints one line per check ("ok NAME measured=... expected=..." or "FAIL ..."), "# ..." lines for
information, and ends with "N passed, N failed". Exit status 0 only if every check passed. Needs root.
Everything it creates (namespaces, devices, processes, temp files, global sysctls) is undone on exit,
including on SIGINT/SIGTERM.
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BIN = os.path.join(ROOT, "lab", "linkemu", "build", "laneshim-linkemu")
ADDR_A, ADDR_B = "10.203.0.1", "10.203.0.2"
PORT = 5201  # the namespaces are fresh, so any port is free
TCP_BUF = "4096 131072 67108864"  # 64 MiB autotuning ceiling: several BDPs at 1 Gbit/s x 40 ms


class Abort(Exception):
    """A step the remaining checks depend on went wrong."""


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, measured, expected, why=""):
        line = f"{'ok' if ok else 'FAIL'} {name} measured={measured} expected={expected}"
        if not ok and why:
            line += f" ({why})"
        print(line, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    @staticmethod
    def info(text):
        print(f"# {text}", flush=True)


def run(cmd, check=True, timeout=30, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, text=True, capture_output=True, **kw)


def ensure_tools():
    missing = [pkg for tool, pkg in (("iperf3", "iperf3"), ("ping", "iputils-ping"), ("ip", "iproute2"))
               if shutil.which(tool) is None]
    if not missing:
        return
    Results.info(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(["apt-get", "install", "-y", "-q", *missing], check=False, timeout=600, env=env).returncode != 0:
        run(["apt-get", "update", "-q"], timeout=600, env=env)
        run(["apt-get", "install", "-y", "-q", *missing], timeout=600, env=env)


class Lab:
    """Two namespaces, the emulator between them, and everything that must be undone."""

    def __init__(self, binary, rt_priority):
        self.binary = binary
        self.rt_priority = rt_priority
        self.prefix = f"lstest{os.getpid()}"
        self.ns_a, self.ns_b = self.prefix + "a", self.prefix + "b"
        self.dev_a, self.dev_b = self.prefix[:11] + "A", self.prefix[:11] + "B"
        self.tmp = tempfile.mkdtemp(prefix=self.prefix + "-")
        self.procs = []
        self.namespaces = []
        self.sysctl_restore = {}
        self.emu = None
        self.emu_err = None

    # --- setup and teardown -------------------------------------------------------------
    def setup(self):
        for ns in (self.ns_a, self.ns_b):
            run(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            # Per-namespace: big autotuning ceilings; no cached ssthresh leaking from one test into the next.
            run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"net.ipv4.tcp_rmem={TCP_BUF}",
                 f"net.ipv4.tcp_wmem={TCP_BUF}", "net.ipv4.tcp_no_metrics_save=1"])

    def raise_global_sysctl(self, key, value):
        """net.core.[rw]mem_max are read-only in a namespace on this kernel: raise globally, restore later."""
        path = "/proc/sys/" + key.replace(".", "/")
        with open(path) as f:
            old = int(f.read())
        if old >= value:
            return
        self.sysctl_restore.setdefault(path, old)
        with open(path, "w") as f:
            f.write(str(value))

    def cleanup(self):
        self.stop_emulator(expect_clean=False)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        for ns in self.namespaces:
            run(["ip", "netns", "del", ns], check=False)
        self.namespaces = []
        for path, old in self.sysctl_restore.items():
            with open(path, "w") as f:
                f.write(str(old))
        self.sysctl_restore = {}
        shutil.rmtree(self.tmp, ignore_errors=True)

    def leftovers(self):
        """Anything of ours still on the machine: namespaces, devices in the root namespace, processes."""
        found = []
        netns = run(["ip", "netns", "list"], check=False).stdout
        found += [line.split()[0] for line in netns.splitlines() if line.startswith(self.prefix)]
        links = run(["ip", "-o", "link", "show"], check=False).stdout
        found += [d for d in (self.dev_a, self.dev_b) if f" {d}:" in links]
        found += [str(p.pid) for p in self.procs if p.poll() is None]
        if os.path.exists(self.tmp):
            found.append(self.tmp)
        return found

    # --- the emulator -------------------------------------------------------------------
    def emulator_args(self, *flags):
        args = [self.binary, "--a", f"{self.ns_a}:{self.dev_a}:{ADDR_A}/30",
                "--b", f"{self.ns_b}:{self.dev_b}:{ADDR_B}/30", "--quiet",
                "--stats", self.stats_path, "--stats-interval", "100ms", "--pidfile", self.pid_path, *flags]
        if self.rt_priority:
            args += ["--rt-priority", str(self.rt_priority)]
        return args

    @property
    def stats_path(self):
        return os.path.join(self.tmp, "stats.json")

    @property
    def pid_path(self):
        return os.path.join(self.tmp, "linkemu.pid")

    def start_emulator(self, *flags):
        self.stop_emulator(expect_clean=False)
        for path in (self.stats_path, self.pid_path):
            if os.path.exists(path):
                os.unlink(path)
        self.emu_err = open(os.path.join(self.tmp, "linkemu.err"), "w+")
        self.emu = subprocess.Popen(self.emulator_args(*flags), stdout=subprocess.PIPE, stderr=self.emu_err,
                                    text=True)
        line = self.emu.stdout.readline()  # "ready" once forwarding; EOF if it died
        if line.strip() != "ready":
            self.emu.wait(5)
            self.emu_err.seek(0)
            raise Abort(f"emulator did not start (exit {self.emu.returncode}): {self.emu_err.read().strip()}")
        return self.emu

    def stop_emulator(self, expect_clean=True):
        """SIGTERM; returns (exit status, seconds it took)."""
        if self.emu is None:
            return None, 0
        emu, self.emu = self.emu, None
        t0 = time.monotonic()
        if emu.poll() is None:
            emu.send_signal(signal.SIGTERM)
            try:
                emu.wait(5 if expect_clean else 2)
            except subprocess.TimeoutExpired:
                emu.kill()
                emu.wait()
        emu.stdout.close()
        self.emu_err.close()
        return emu.returncode, time.monotonic() - t0

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def wait_stats_after(self, uptime, timeout=3):
        """Stats written at or after the emulator's uptime (seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                s = self.stats()
                if s["uptime_s"] >= uptime:
                    return s
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        raise Abort("stats file not refreshed")

    def sample_stats_at(self, uptimes):
        """Starts a thread collecting the stats file as first written at or after each emulator uptime."""
        samples = []

        def collect():
            try:
                for u in uptimes:
                    samples.append(self.wait_stats_after(u, timeout=60))
            except Abort:
                pass

        thread = threading.Thread(target=collect, daemon=True)
        thread.start()
        return thread, samples

    def cpu_seconds(self):
        with open(f"/proc/{self.emu.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def udp_rcvbuf_errors(self):
        """Datagrams the namespace-B kernel dropped because a receiving socket was full (not the link)."""
        lines = [l.split() for l in run(["ip", "netns", "exec", self.ns_b, "cat", "/proc/net/snmp"]).stdout.splitlines()
                 if l.startswith("Udp:")]
        return int(lines[1][lines[0].index("RcvbufErrors")])

    def device_exists(self, ns, dev):
        return run(["ip", "-n", ns, "link", "show", "dev", dev], check=False).returncode == 0

    # --- traffic ------------------------------------------------------------------------
    def ping(self, count, interval, extra=()):
        out = run(["ip", "netns", "exec", self.ns_a, "ping", "-n", "-c", str(count), "-i", str(interval),
                   "-W", "2", *extra, ADDR_B], check=False, timeout=count * interval + 15).stdout
        return out

    def ping_avg_ms(self, count=20, interval=0.05):
        out = self.ping(count, interval, ["-q"])
        m = re.search(r"= [\d.]+/([\d.]+)/([\d.]+)/", out)
        if not m:
            raise Abort(f"ping failed: {out.strip()}")
        return float(m.group(1)), float(m.group(2))

    def iperf(self, *client_args, duration):
        server = subprocess.Popen(["ip", "netns", "exec", self.ns_b, "iperf3", "-s", "-1", "-B", ADDR_B,
                                   "-p", str(PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(server)
        deadline = time.monotonic() + 5
        while ":%d " % PORT not in run(["ip", "netns", "exec", self.ns_b, "ss", "-ltnH"]).stdout:
            if time.monotonic() > deadline or server.poll() is not None:
                raise Abort("iperf3 server did not start")
            time.sleep(0.02)
        client = run(["ip", "netns", "exec", self.ns_a, "iperf3", "-c", ADDR_B, "-p", str(PORT), "-J",
                      *client_args], check=False, timeout=duration + 30)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        try:
            result = json.loads(client.stdout)
        except ValueError:
            raise Abort(f"iperf3 output is not JSON: {client.stdout[:200]} {client.stderr[:200]}")
        if "error" in result:
            raise Abort(f"iperf3: {result['error']}")
        return result


def rate_between(samples):
    """Mbit/s of IP bytes forwarded a->b between two stats samples, or None without two distinct samples."""
    if len(samples) != 2 or samples[1]["uptime_s"] <= samples[0]["uptime_s"]:
        return None
    a, b = samples[0]["directions"]["ab"], samples[1]["directions"]["ab"]
    return (b["forwarded_bytes"] - a["forwarded_bytes"]) * 8 / (samples[1]["uptime_s"] - samples[0]["uptime_s"]) / 1e6


def binomial_ok(drops, trials, p):
    """Drop count consistent with Binomial(trials, p): within 4 sigma (plus 2 for tiny expectations)."""
    mean = trials * p
    return abs(drops - mean) <= 4 * math.sqrt(mean * (1 - p)) + 2, mean


def test_flags(lab, res):
    bad = [
        ["--rate", "100mbps"], ["--delay", "20xs"], ["--loss", "2"], ["--queue", "lots"], ["--bogus"],
        ["--mtu", "70000"], ["--a", "nscolonless"],
    ]
    base = ["--a", f"{lab.ns_a}:x:10.0.0.1/30", "--b", f"{lab.ns_b}:y:10.0.0.2/30"]
    codes = []
    for flags in bad:
        p = run([lab.binary, *base, *flags], check=False)
        codes.append(p.returncode if p.stderr.strip() else -1)
    res.check("flags_bad_exit2", all(c == 2 for c in codes), ",".join(map(str, codes)), "2 each, with a message")
    p = run([lab.binary, "--a", "lsnosuchns:x:10.0.0.1/30", "--b", f"{lab.ns_b}:y:10.0.0.2/30"], check=False)
    res.check("setup_missing_netns_exit1", p.returncode == 1 and "lsnosuchns" in p.stderr, p.returncode,
              "1 naming the namespace", p.stderr.strip())
    p = run([lab.binary, "--help"], check=False)
    res.check("help_exit0", p.returncode == 0 and "--delay-ab" in p.stdout, p.returncode, 0)

    # One-direction flags win over the shared ones whatever their order; the stats file echoes the result.
    lab.start_emulator("--delay-ab", "5ms", "--delay", "20ms", "--rate", "1gbit", "--rate-ba", "100mbit",
                       "--loss-ba", "0.5%", "--queue-ab", "100k")
    d = lab.stats()["directions"]
    got = (d["ab"]["delay_ns"], d["ba"]["delay_ns"], d["ab"]["rate_bps"], d["ba"]["rate_bps"], d["ab"]["loss"],
           d["ba"]["loss"], d["ab"]["queue_limit_bytes"], d["ba"]["queue_limit_bytes"])
    # ba queue: 1 BDP of the 25 ms round trip at 100 Mbit/s.
    want = (5000000, 20000000, 1000000000, 100000000, 0, 0.005, 102400, 312500)
    res.check("per_direction_overrides", got == want, got, want)
    lab.stop_emulator()


def test_link(lab, res, name, rate_mbit, delay_ms, secs, omit, loss=None, client_args=()):
    """RTT, TCP goodput at the receiver, the emulator's own output rate and CPU; returns final stats."""
    flags = ["--mtu", "9000", "--delay", f"{delay_ms}ms", "--rate", f"{rate_mbit}mbit"]
    if loss is not None:
        flags += ["--loss", loss, "--seed", "1"]
    lab.start_emulator(*flags)
    rtt = 2 * delay_ms
    avg, worst = lab.ping_avg_ms()
    res.check(f"rtt_{name}", abs(avg - rtt) <= 0.02 * rtt, f"{avg:.3f}ms", f"{rtt * 0.98:.1f}..{rtt * 1.02:.1f}ms",
              f"worst {worst:.3f}ms")

    cpu0, t0 = lab.cpu_seconds(), time.monotonic()
    up0 = lab.stats()["uptime_s"]
    # The link's own output rate over the measured part of the test (IP bytes), from two stats samples.
    sampler, samples = lab.sample_stats_at([up0 + omit + 0.5, up0 + omit + secs - 0.2])
    result = lab.iperf("-t", str(secs), "-O", str(omit), *client_args, duration=secs + omit)
    cpu = (lab.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    sampler.join(5)
    recv = result["end"]["sum_received"]["bits_per_second"] / 1e6
    cc = result["end"].get("sender_tcp_congestion", "?")
    res.check(f"goodput_{name}", 0.95 * rate_mbit <= recv <= 1.05 * rate_mbit, f"{recv:.1f}Mbit/s",
              f"{0.95 * rate_mbit:.0f}..{1.05 * rate_mbit:.0f}Mbit/s",
              f"cc {cc}, {result['end']['sum_sent'].get('retransmits')} retransmits")
    wire = rate_between(samples)
    res.check(f"wire_rate_{name}", wire is not None and 0.95 * rate_mbit <= wire <= 1.01 * rate_mbit,
              "none" if wire is None else f"{wire:.1f}Mbit/s", f"{0.95 * rate_mbit:.0f}..{1.01 * rate_mbit:.0f}Mbit/s")
    s2 = lab.stats()
    ab, ba = s2["directions"]["ab"], s2["directions"]["ba"]
    # Keeping up: nothing dropped in front of the emulator (device queue) or for lack of packet memory.
    hidden = [ab["dropped_input_packets"], ba["dropped_input_packets"], ab["dropped_buffer_packets"],
              ba["dropped_buffer_packets"], ab["write_errors"], ba["write_errors"]]
    res.check(f"no_hidden_drops_{name}", not any(hidden), ",".join(map(str, hidden)),
              "0 input, buffer and write drops both ways")
    res.info(f"{name}: emulator CPU {cpu * 100:.0f}% of one core during iperf3; TCP {cc}; ping worst {worst:.3f}ms; "
             f"delivery lateness mean/max ab {ab['mean_late_ns'] / 1e3:.0f}/{ab['max_late_ns'] / 1e3:.0f}us "
             f"ba {ba['mean_late_ns'] / 1e3:.0f}/{ba['max_late_ns'] / 1e3:.0f}us")
    time.sleep(0.15)
    return lab.stats()


def test_stop(lab, res, name):
    code, secs = lab.stop_emulator()
    gone = not lab.device_exists(lab.ns_a, lab.dev_a) and not lab.device_exists(lab.ns_b, lab.dev_b)
    final = lab.stats().get("final")
    ok = code == 0 and gone and not os.path.exists(lab.pid_path) and final is True
    res.check(f"sigterm_clean_{name}", ok, f"exit={code},devices_gone={gone},pidfile_gone="
              f"{not os.path.exists(lab.pid_path)},final_stats={final},{secs:.2f}s", "exit=0,all gone")


def test_loss_udp(lab, res, secs):
    """1% loss a->b only: the emulator's counter, iperf3's count of lost datagrams and the binomial agree."""
    lab.start_emulator("--mtu", "9000", "--delay", "10ms", "--rate", "200mbit", "--loss-ab", "1%", "--seed", "3")
    rcvbuf0 = lab.udp_rcvbuf_errors()
    result = lab.iperf("-u", "-b", "50M", "-l", "1400", "-t", str(secs), duration=secs)
    time.sleep(0.3)
    # On a busy machine the receiver may fall behind and overflow its socket: that loss is not the link's.
    overflow = lab.udp_rcvbuf_errors() - rcvbuf0
    ab, ba = lab.stats()["directions"]["ab"], lab.stats()["directions"]["ba"]
    drops, lost = ab["dropped_loss_packets"], result["end"]["sum"]["lost_packets"]
    ok, mean = binomial_ok(drops, ab["received_packets"], 0.01)
    res.check("loss_1pct_counter", ok, drops, f"{mean:.0f}+-{4 * math.sqrt(mean) + 2:.0f}")
    res.check("loss_1pct_matches_receiver", abs(lost - overflow - drops) <= 2,
              f"iperf3_lost={lost}-socket_overflows={overflow}", f"emulator_drops={drops}")
    res.check("loss_per_direction", ba["dropped_loss_packets"] == 0, ba["dropped_loss_packets"], 0)


def test_tail_drop(lab, res, secs):
    """A 30 KiB queue at 10 Mbit/s under a 50 Mbit/s UDP flood: tail drops, a bounded backlog, the rate kept."""
    limit = 30 * 1024
    lab.start_emulator("--mtu", "9000", "--delay", "5ms", "--rate", "10mbit", "--queue", "30k")
    up0 = lab.stats()["uptime_s"]
    # The flood starts ~0.1 s after up0 (server start); sample well inside it.
    sampler, samples = lab.sample_stats_at([up0 + 0.6, up0 + secs - 0.2])
    lab.iperf("-u", "-b", "50M", "-l", "1400", "-t", str(secs), duration=secs)
    sampler.join(5)
    time.sleep(0.2)
    s = lab.stats()["directions"]["ab"]
    res.check("taildrop_drops", s["dropped_queue_packets"] > 0, s["dropped_queue_packets"], ">0")
    res.check("taildrop_max_queue", limit - 1428 <= s["max_queue_bytes"] <= limit, s["max_queue_bytes"],
              f"{limit - 1428}..{limit}")
    rate = rate_between(samples)
    res.check("taildrop_rate_10m", rate is not None and 9.5 <= rate <= 10.1,
              "none" if rate is None else f"{rate:.2f}Mbit/s", "9.5..10.1Mbit/s")
    res.info(f"taildrop: {s['dropped_queue_packets']} of {s['received_packets']} packets dropped")


def test_seed(lab, res):
    """The same --seed drops the same pings."""
    replies = []
    for _ in range(2):
        lab.start_emulator("--delay", "1ms", "--loss", "20%", "--seed", "42")
        out = lab.ping(40, 0.02)
        replies.append(sorted(int(m) for m in re.findall(r"icmp_seq=(\d+)", out)))
        lab.stop_emulator()
    same = replies[0] == replies[1] and 10 <= len(replies[0]) <= 38
    res.check("seed_reproducible", same, f"{len(replies[0])},{len(replies[1])} replies",
              "identical reply sets, 10..38 of 40")


def test_sigkill(lab, res):
    emu = lab.start_emulator("--delay", "1ms")
    os.kill(emu.pid, signal.SIGKILL)
    emu.wait()
    lab.stop_emulator(expect_clean=False)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and (lab.device_exists(lab.ns_a, lab.dev_a) or
                                           lab.device_exists(lab.ns_b, lab.dev_b)):
        time.sleep(0.05)
    gone = not lab.device_exists(lab.ns_a, lab.dev_a) and not lab.device_exists(lab.ns_b, lab.dev_b)
    res.check("sigkill_no_devices_left", gone, f"devices_gone={gone}", "devices_gone=True")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the fast subset (under ~30 s)")
    ap.add_argument("--bin", default=DEFAULT_BIN, help="emulator binary (default: build it with make)")
    ap.add_argument("--rt-priority", type=int, default=10,
                    help="run the emulator with --rt-priority N (default 10; 0 = normal scheduling). Real-time "
                         "forwarding threads keep the timing when builds load the machine")
    ap.add_argument("--window", help="iperf3 -w SIZE (raises net.core.[rw]mem_max globally, then restores)")
    ap.add_argument("--cc", help="TCP congestion control for iperf3 -C (default: the namespace default)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("linkemu_selftest: needs root (network namespaces, TUN devices)", file=sys.stderr)
        return 2

    res = Results()
    ensure_tools()
    if args.bin == DEFAULT_BIN:
        run(["make", "-s", "-C", os.path.join(ROOT, "lab", "linkemu")], timeout=300)
    lab = Lab(os.path.abspath(args.bin), args.rt_priority)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    client_args = []
    if args.window:
        client_args += ["-w", args.window]
    if args.cc:
        client_args += ["-C", args.cc]
    t_start = time.monotonic()
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    Results.info(f"{os.uname().release}, {os.cpu_count()} CPUs, load {load}; emulator "
                 f"{'--rt-priority %d' % args.rt_priority if args.rt_priority else 'normal scheduling'}")
    try:
        lab.setup()
        if args.window:
            size = int(re.match(r"(\d+)", args.window).group(1)) * {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(
                args.window[-1].upper(), 1)
            for key in ("net.core.rmem_max", "net.core.wmem_max"):
                lab.raise_global_sysctl(key, size)
        test_flags(lab, res)
        secs = 3 if args.quick else 5
        test_link(lab, res, "1g", 1000, 20, secs, 1, client_args=client_args)
        test_stop(lab, res, "1g")
        if not args.quick:
            st = test_link(lab, res, "100m_loss", 100, 20, secs, 1, loss="0.01%", client_args=client_args)
            ab = st["directions"]["ab"]
            ok, mean = binomial_ok(ab["dropped_loss_packets"], ab["received_packets"], 1e-4)
            res.check("loss_0.01pct_counter", ok, ab["dropped_loss_packets"],
                      f"{mean:.1f}+-{4 * math.sqrt(mean) + 2:.1f} of {ab['received_packets']} packets")
            test_stop(lab, res, "100m")
        test_loss_udp(lab, res, 2 if args.quick else 3)
        test_tail_drop(lab, res, 2)
        if not args.quick:
            test_seed(lab, res)
        test_sigkill(lab, res)
    except Abort as e:
        res.check("abort", False, str(e), "no error")
    except Exception as e:  # a bug in a check must still clean up and count as a failure
        import traceback
        traceback.print_exc()
        res.check("abort", False, repr(e), "no error")
    finally:
        lab.cleanup()
    left = lab.leftovers()
    res.check("cleanup_no_leftovers", not left, ",".join(left) or "none", "none")
    Results.info(f"took {time.monotonic() - t_start:.1f}s")
    print(f"{res.passed} passed, {res.failed} failed", flush=True)
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
