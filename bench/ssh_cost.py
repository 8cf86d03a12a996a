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
import asyncio
import collections
import re
import sys
import time

from _common import (BENCH, CONSOLE, PY, PtyProcess, Row, SandboxProcess, add_common_args, cpu_seconds, emit,
                     median)

BYTES_TARGET = 2000  # bytes/s
CPU_TARGET = 3.0  # % of one core, and no more than the baseline's


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


def run(seconds: float, warmup: float, repeat: int, capture: str | None = None, sandbox_age: float = 60.0,
        attribute: bool = False, scenario: str = "steady") -> list[Row]:
    console, base = [], []
    with SandboxProcess(scenario=scenario) as sb:
        born = time.monotonic()
        cmd = [*CONSOLE, "--profile", "sandbox", "--endpoint-url", sb.endpoint]
        for i in range(repeat):
            base.append(measure([PY, str(BENCH / "baseline_app.py"), "--update"], b"BASELINE-READY", 2.0, seconds))
            console.append(measure(cmd, b"Batch jobs", warmup, seconds, capture if i == 0 else None,
                                   not_before=born + sandbox_age))
    cb, cc = median([m["bytes_s"] for m in console]), median([m["cpu_pct"] for m in console])
    bb, bc = median([m["bytes_s"] for m in base]), median([m["cpu_pct"] for m in base])
    print(f"scenario={scenario} window={seconds:g}s warmup={warmup:g}s (sandbox at least {sandbox_age:g}s old) "
          f"repeat={repeat}")
    for name, ms in (("console", console), ("baseline", base)):
        print(f"{name:8}: " + "  ".join(f"{m['bytes_s']:,.0f} B/s {m['cpu_pct']:.1f}% CPU" for m in ms))
    print(f"console  median: {cb:,.0f} B/s, {cc:.1f}% of one core")
    print(f"baseline median: {bb:,.0f} B/s, {bc:.1f}% of one core  (Sparkline + one cell per second)")
    if attribute and capture:
        print_attribution(capture, seconds)
    return [
        Row("ssh: terminal bytes/s", f"{cb:,.0f} B/s (baseline {bb:,.0f} B/s = {cb / bb:.2f}x)",
            f"<= {BYTES_TARGET:,} B/s", cb <= BYTES_TARGET),
        Row("ssh: console CPU", f"{cc:.1f}% of one core (baseline {bc:.1f}%)",
            f"<= baseline and <= {CPU_TARGET:g}%", cc <= CPU_TARGET and cc <= bc),
    ]


# ------------------------------------------------------------------ where the bytes go
_TOKEN = re.compile(rb"\x1b\[(\d+);(\d+)H|(\x1b\[[0-9;?]*m)|(\x1b\[[0-9;?]*[A-Za-z]|\x1b[^\[])|([^\x1b]+)")


def split_output(data: bytes) -> tuple[collections.Counter, collections.Counter]:
    """(bytes by kind: colour codes, cursor moves, other escapes, text; bytes by (column, row) of the last move)."""
    kinds: collections.Counter = collections.Counter()
    at: collections.Counter = collections.Counter()
    where = (0, 0)
    for m in _TOKEN.finditer(data):
        size = len(m.group(0))
        if m.group(1):
            where = (int(m.group(2)) - 1, int(m.group(1)) - 1)
            kinds["cursor moves"] += size
        elif m.group(3):
            kinds["colour codes (SGR)"] += size
        elif m.group(4):
            kinds["other escapes"] += size
        else:
            kinds["text"] += size
        at[where] += size
    return kinds, at


def widget_map(cells: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The dashboard's widget at each cell (120x40, headless, sample data)."""
    from tierconsole.core.domain.sample import sample_dashboard
    from tierconsole.tui.app import TierConsoleApp

    names: dict[tuple[int, int], str] = {}

    async def lay_out() -> None:
        app = TierConsoleApp(data=sample_dashboard())
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            for x, y in cells:
                widget, _ = app.screen.get_widget_at(x, y)
                pane = next((a for a in widget.ancestors_with_self if "pane" in a.classes), None)
                names[(x, y)] = type(widget).__name__ + (f" in #{pane.id}" if pane is not None and pane is not widget
                                                         else "")

    asyncio.run(lay_out())
    return names


def print_attribution(path: str, seconds: float) -> None:
    data = open(path, "rb").read()
    kinds, at = split_output(data)
    names = widget_map(set(at))
    by_widget: collections.Counter = collections.Counter()
    for cell, size in at.items():
        by_widget[names.get(cell, "?")] += size
    print(f"where the bytes went ({path}, {len(data):,} bytes over {seconds:g}s = {len(data) / seconds:,.0f} B/s):")
    for kind, size in kinds.most_common():
        print(f"  {kind:20} {size / seconds:7,.0f} B/s  {size / max(1, len(data)):4.0%}")
    for name, size in by_widget.most_common(12):
        print(f"  {name:40} {size / seconds:7,.0f} B/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measurement window (default 30)")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds after the first frame before measuring")
    ap.add_argument("--repeat", type=int, default=1, help="windows per app (median reported)")
    ap.add_argument("--sandbox-age", type=float, default=60.0,
                    help="measure the console only once the sandbox has run this long (its panes fill with "
                         "history and redraw more; default 60)")
    ap.add_argument("--scenario", default="steady",
                    help="the sandbox's scenario (default steady, which the targets are for)")
    ap.add_argument("--capture", metavar="FILE", help="save the console's terminal output of the window")
    ap.add_argument("--attribute", action="store_true",
                    help="say where the bytes went: escape codes vs text, bytes per widget")
    ap.add_argument("--from", dest="from_file", metavar="FILE",
                    help="with --attribute: a capture saved before (no measurement)")
    add_common_args(ap)
    args = ap.parse_args()
    if args.from_file:
        print_attribution(args.from_file, args.seconds)
        return
    capture = args.capture or ("/tmp/tierconsole-ssh-capture.bin" if args.attribute else None)
    emit(run(args.seconds, args.warmup, args.repeat, capture, args.sandbox_age, args.attribute, args.scenario),
         args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
