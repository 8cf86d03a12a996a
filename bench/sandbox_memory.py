"""Sandbox memory over a long run: RSS of `tierconsole sandbox --scenario steady --speed N` over many sandbox hours.

Metrics are retained 3 sandbox hours (``metrics.DEFAULT_RETENTION_S``); after that every store the
sandbox keeps is full, so RSS must stay flat. Target: the peak RSS of the second half of the run after
the retention is at most 5% above the peak of the first half (no growth once retention is reached).

    python bench/sandbox_memory.py [--speed 200] [--seconds 240] [--scenario steady] [--rows-json FILE]
    python bench/sandbox_memory.py --config profiles/fleet.yaml --speed 60 --seconds 330   # the fleet sandbox
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from _common import Row, clean_env, emit

RETENTION_H = 3.0


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speed", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=240.0, help="real seconds to run")
    ap.add_argument("--scenario", default=None, help="default: steady, or the --config file's")
    ap.add_argument("--config", help="a sandbox config (e.g. profiles/fleet.yaml: 14 accounts, 3 regions)")
    ap.add_argument("--every", type=float, default=10.0, help="real seconds between samples")
    ap.add_argument("--rows-json")
    args = ap.parse_args()
    if args.scenario is None and args.config is None:
        args.scenario = "steady"
    extra = (["--scenario", args.scenario] if args.scenario else []) + (["--config", args.config] if args.config else [])
    label = f"{args.config or 'the built-in config'}, scenario {args.scenario or 'of the config'}"
    proc = subprocess.Popen([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", *extra,
                             "--speed", str(args.speed)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=clean_env(), text=True)
    try:
        for line in proc.stdout:  # the banner: wait for the endpoint (the sandbox serves from then on)
            if line.startswith("endpoint:"):
                break
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining: never block its prints
        t0 = time.monotonic()
        samples: list[tuple[float, float]] = []  # (sandbox hours, RSS MB)
        cpu0 = cpu_s(proc.pid)
        print(f"sandbox ({label}) --speed {args.speed:g}: RSS every {args.every:g} s")
        while (elapsed := time.monotonic() - t0) < args.seconds:
            hours = elapsed * args.speed / 3600
            samples.append((hours, rss_mb(proc.pid)))
            print(f"  {hours:6.2f} sandbox h  {samples[-1][1]:7.1f} MB", flush=True)
            time.sleep(args.every)
        cpu = (cpu_s(proc.pid) - cpu0) / (time.monotonic() - t0)
    finally:
        proc.terminate()
        proc.wait(30)
    after = [mb for h, mb in samples if h >= RETENTION_H + 0.5]
    if len(after) < 4:
        print(f"run too short: fewer than 4 samples after {RETENTION_H + 0.5:g} sandbox hours")
        return 2
    half = len(after) // 2
    first, second = max(after[:half]), max(after[half:])
    growth = second / first - 1
    figure = (f"RSS {samples[0][1]:.0f} MB at start, {first:.0f} MB peak after retention, {second:.0f} MB peak "
              f"at {samples[-1][0]:.1f} sandbox h ({growth:+.1%}; --speed {args.speed:g}, {label}; "
              f"CPU {cpu:.0%} of a core)")
    emit([Row("sandbox_memory", figure, "flat after retention (second half ≤ +5%)", growth <= 0.05)],
         args.rows_json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
