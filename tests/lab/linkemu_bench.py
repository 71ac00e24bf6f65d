#!/usr/bin/python3
"""linkemu_bench.py - repeated RTT, TCP goodput and CPU measurements of laneshim-linkemu, with their spread.

Usage: tests/lab/linkemu_bench.py [--runs N] [--secs S] [--omit S] [--delay 20ms] [--mtu 9000]
                                  [--rates 1000,100,0] [--rt-priority N] [--cc NAME] [--bin PATH]
A rate of 0 means unlimited: it shows how fast the emulator itself can forward.
Prints one line per run and a min/median/max summary per rate. Needs root; cleans up like the self-test.
"""
import argparse
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from linkemu_selftest import DEFAULT_BIN, ROOT, Abort, Lab, ensure_tools, run  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--omit", type=int, default=1)
    ap.add_argument("--delay", default="20ms", help="one-way delay")
    ap.add_argument("--mtu", default="9000")
    ap.add_argument("--rates", default="1000,100", help="Mbit/s, comma-separated; 0 = unlimited")
    ap.add_argument("--rt-priority", type=int, default=0)
    ap.add_argument("--cc")
    ap.add_argument("--bin", default=DEFAULT_BIN)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("linkemu_bench: needs root", file=sys.stderr)
        return 2
    ensure_tools()
    if args.bin == DEFAULT_BIN:
        run(["make", "-s", "-C", os.path.join(ROOT, "lab", "linkemu")], timeout=300)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    lab = Lab(os.path.abspath(args.bin), args.rt_priority)
    extra = ["-C", args.cc] if args.cc else []
    summary = []
    try:
        lab.setup()
        with open("/proc/loadavg") as f:
            print(f"# load average before: {f.read().split()[0]}; {os.cpu_count()} CPUs", flush=True)
        for rate in [int(r) for r in args.rates.split(",")]:
            rtts, goodputs, cpus = [], [], []
            for i in range(args.runs):
                lab.start_emulator("--mtu", args.mtu, "--delay", args.delay, "--rate", f"{rate}mbit")
                avg, worst = lab.ping_avg_ms()
                cpu0, t0 = lab.cpu_seconds(), time.monotonic()
                result = lab.iperf("-t", str(args.secs), "-O", str(args.omit), *extra,
                                   duration=args.secs + args.omit)
                cpu = (lab.cpu_seconds() - cpu0) / (time.monotonic() - t0)
                recv = result["end"]["sum_received"]["bits_per_second"] / 1e6
                retr = result["end"]["sum_sent"].get("retransmits")
                lab.stop_emulator()
                late = [lab.stats()["directions"][d]["mean_late_ns"] / 1e3 for d in ("ab", "ba")]
                rtts.append(avg)
                goodputs.append(recv)
                cpus.append(cpu * 100)
                print(f"rate={rate or 'unlimited'} run={i + 1} rtt_avg={avg:.3f}ms rtt_worst={worst:.3f}ms "
                      f"goodput={recv:.1f}Mbit/s retransmits={retr} emulator_cpu={cpu * 100:.0f}% "
                      f"mean_lateness_ab/ba={late[0]:.0f}/{late[1]:.0f}us", flush=True)
            summary.append((rate, rtts, goodputs, cpus))
    except Abort as e:
        print(f"aborted: {e}", flush=True)
        return 1
    finally:
        lab.cleanup()

    def spread(xs, fmt):
        return f"{fmt % min(xs)}/{fmt % statistics.median(xs)}/{fmt % max(xs)}"

    print("# min/median/max over runs:")
    for rate, rtts, goodputs, cpus in summary:
        print(f"rate={rate or 'unlimited'} rtt={spread(rtts, '%.3f')}ms goodput={spread(goodputs, '%.1f')}Mbit/s "
              f"emulator_cpu={spread(cpus, '%.0f')}% (of one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
