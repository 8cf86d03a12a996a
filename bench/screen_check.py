"""Are partial repaints right? The console's terminal output, played on a terminal emulator, vs a full repaint.

The console watches a sandbox (``--scenario``, default steady) in a 120×40 pty for N seconds of live
updates, each sending only the cells that changed (tui/terminal.py, widgets' changed_regions). The
output so far is kept; at once ``p`` pauses the console (which repaints the whole screen), and a
resize to 121 columns and back repaints it twice more. Both byte streams are played on pyte
(characters, colours, bold): if every partial repaint was right, the screen before the full
repaints equals the one after, except the header (paused, its ages tick). A check where the
header's "refreshed" clock differs (new data arrived before the pause took) is tried again.
Needs pyte (``pip install pyte``; not a dependency of tierconsole).

    python bench/screen_check.py [--scenario spike] [--seconds 40]
"""
from __future__ import annotations

import argparse
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import time

from _common import CONSOLE, PtyProcess, Row, SandboxProcess, add_common_args, emit

COLS, ROWS = 120, 40


def cells(data: bytes) -> list[str]:
    import pyte  # noqa: PLC0415 - optional, for this script only

    screen = pyte.Screen(COLS, ROWS)
    pyte.ByteStream(screen).feed(data)
    return ["".join(screen.buffer[y][x].data for x in range(COLS)) + " | " +
            " ".join(f"{c.fg}/{c.bg}/{int(c.bold)}" for c in (screen.buffer[y][x] for x in range(COLS)))
            for y in range(ROWS)]


def resize(term: PtyProcess, cols: int) -> None:
    fcntl.ioctl(term.master, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, cols, 0, 0))
    os.kill(term.pid, signal.SIGWINCH)


def run(scenario: str, seconds: float, sandbox_age: float) -> list[Row]:
    for _ in range(5):
        rows = check(scenario, seconds, sandbox_age)
        if rows is not None:
            return rows
        print("new data arrived just before the pause: again")
    raise SystemExit("every try straddled a refresh")


def check(scenario: str, seconds: float, sandbox_age: float) -> list[Row] | None:
    with SandboxProcess(scenario=scenario) as sb:
        time.sleep(sandbox_age)
        term = PtyProcess([*CONSOLE, "--profile", "sandbox", "--endpoint-url", sb.endpoint])
        term.keep_output = True
        try:
            if term.wait_for(b"Batch jobs", 60) is None:
                raise SystemExit("no first frame from the console")
            time.sleep(seconds)
            partial = bytes(term.output)
            term.send(b"p")
            time.sleep(3)
            resize(term, COLS + 1)
            time.sleep(2)
            resize(term, COLS)
            time.sleep(3)
            full = bytes(term.output)
        finally:
            term.stop()
    before, after = cells(partial), cells(full)
    clock = re.compile(r"\d\d:\d\d:\d\d UTC")
    if clock.findall(before[0]) != clock.findall(after[0]):
        return None  # new data was shown between the snapshot and the pause
    differ = [y for y in range(ROWS) if before[y] != after[y]]
    print(f"scenario={scenario}: {len(partial):,} bytes of live output over {seconds:g} s; "
          f"rows that a full repaint changed: {differ or 'none'} (row 0, the header: PAUSED, ticking ages)")
    for y in differ:
        print(f"  row {y} partial: {before[y][:COLS]!r}\n  row {y} full:    {after[y][:COLS]!r}")
    wrong = [y for y in differ if y != 0]
    return [Row("partial repaints", f"{len(wrong)} rows differ from a full repaint ({scenario}, {seconds:g} s)",
                "0 rows (header excepted)", not wrong)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="steady")
    ap.add_argument("--seconds", type=float, default=40.0, help="live updates before the check (default 40)")
    ap.add_argument("--sandbox-age", type=float, default=50.0, help="let the sandbox run this long first")
    add_common_args(ap)
    args = ap.parse_args()
    try:
        import pyte  # noqa: F401, PLC0415
    except ImportError:
        raise SystemExit("screen_check.py needs pyte: pip install pyte") from None
    emit(run(args.scenario, args.seconds, args.sandbox_age), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
