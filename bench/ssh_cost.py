"""Steady-state cost of leaving the console open over SSH: terminal bytes/s and CPU.

`tierconsole sandbox --scenario steady` runs in its own process; the console watches it
(`--profile sandbox --endpoint-url URL`, 1-second refresh) in a 120×40 pty with TERM=xterm-256color
and no COLORTERM (what an SSH session usually has). After a warm-up, over a window of N seconds:
the bytes the console wrote to its terminal per second (what SSH would carry) and the console
process's CPU time (/proc/PID/stat utime+stime, all threads) as a share of one core. The console's
window starts only once the sandbox is at least --sandbox-age seconds old: the panes' history fills
during the first minute and the bytes/s rise with it (about 3.2 KB/s at 30 s, 4.1-4.4 from 60 s).

The baseline, measured the same way in the same run: a bare Textual app updating one Sparkline
and one DataTable cell every second (`bench/baseline_app.py --update`).

    python bench/ssh_cost.py [--seconds 30] [--warmup 10] [--repeat 1]
"""
from __future__ import annotations

import argparse
import sys
import time

from _common import (BENCH, CONSOLE, PY, PtyProcess, Row, SandboxProcess, add_common_args, cpu_seconds, emit,
                     median)

BYTES_TARGET = 4096  # bytes/s
CPU_TARGET = 3.0  # % of one core


def measure(cmd: list[str], marker: bytes, warmup: float, seconds: float, capture: str | None = None,
            not_before: float = 0.0) -> dict:
    """Bytes/s and CPU over ``seconds``, from ``warmup`` after the first frame (and not before ``not_before``)."""
    term = PtyProcess(cmd)
    try:
        if term.wait_for(marker, 60) is None:
            raise SystemExit(f"no first frame from {' '.join(cmd)} (exit {term.proc.poll()})")
        time.sleep(max(warmup, not_before - time.monotonic()))
        b0, c0, t0 = term.bytes_read, cpu_seconds(term.pid), time.monotonic()
        if capture:
            term.keep_output = True
        time.sleep(seconds)
        b1, c1, t1 = term.bytes_read, cpu_seconds(term.pid), time.monotonic()
        alive = term.proc.poll() is None
        if capture:
            with open(capture, "wb") as f:
                f.write(bytes(term.output))
    finally:
        term.stop()
    if not alive:
        raise SystemExit(f"{' '.join(cmd)} exited during the measurement")
    dt = t1 - t0
    return {"bytes_s": (b1 - b0) / dt, "cpu_pct": (c1 - c0) / dt * 100}


def run(seconds: float, warmup: float, repeat: int, capture: str | None = None, sandbox_age: float = 60.0) -> list[Row]:
    console, base = [], []
    with SandboxProcess(scenario="steady") as sb:
        born = time.monotonic()
        cmd = [*CONSOLE, "--profile", "sandbox", "--endpoint-url", sb.endpoint]
        for i in range(repeat):
            base.append(measure([PY, str(BENCH / "baseline_app.py"), "--update"], b"BASELINE-READY", 2.0, seconds))
            console.append(measure(cmd, b"Batch jobs", warmup, seconds, capture if i == 0 else None,
                                   not_before=born + sandbox_age))
    cb, cc = median([m["bytes_s"] for m in console]), median([m["cpu_pct"] for m in console])
    bb, bc = median([m["bytes_s"] for m in base]), median([m["cpu_pct"] for m in base])
    print(f"window={seconds:g}s warmup={warmup:g}s (sandbox at least {sandbox_age:g}s old) repeat={repeat}")
    for name, ms in (("console", console), ("baseline", base)):
        print(f"{name:8}: " + "  ".join(f"{m['bytes_s'] / 1024:.2f} KB/s {m['cpu_pct']:.1f}% CPU" for m in ms))
    print(f"console  median: {cb / 1024:.2f} KB/s, {cc:.1f}% of one core")
    print(f"baseline median: {bb / 1024:.2f} KB/s, {bc:.1f}% of one core  (Sparkline + one cell per second)")
    return [
        Row("ssh: terminal bytes/s", f"{cb / 1024:.2f} KB/s (baseline {bb / 1024:.2f} KB/s = {cb / bb:.2f}x)",
            f"<= {BYTES_TARGET / 1024:g} KB/s", cb <= BYTES_TARGET),
        Row("ssh: console CPU", f"{cc:.1f}% of one core (baseline {bc:.1f}%)", f"<= {CPU_TARGET:g}%",
            cc <= CPU_TARGET),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measurement window (default 30)")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds after the first frame before measuring")
    ap.add_argument("--repeat", type=int, default=1, help="windows per app (median reported)")
    ap.add_argument("--sandbox-age", type=float, default=60.0,
                    help="measure the console only once the sandbox has run this long (its panes fill with "
                         "history and redraw more; default 60)")
    ap.add_argument("--capture", metavar="FILE", help="save the console's terminal output of the window")
    add_common_args(ap)
    args = ap.parse_args()
    emit(run(args.seconds, args.warmup, args.repeat, args.capture, args.sandbox_age), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
