"""Seconds from launch to the dashboard's first frame in a 120×40 pty, as a ratio to a bare Textual app.

`tierconsole` (no arguments: the embedded sandbox starts after the first frame) and
`bench/baseline_app.py` (Header, DataTable, Footer) are launched alternately in a fresh 120×40 pty,
exactly the same way; the time is from spawning the process until a marker drawn in the first frame
arrives on the pty (the dashboard's pane title "Batch jobs", the baseline's column label). Median
of N runs each; target: the console's median ≤ 1.2× the baseline's.

    python bench/first_frame.py [--runs 5]
"""
from __future__ import annotations

import argparse
import sys

from _common import BENCH, CONSOLE, PY, PtyProcess, Row, add_common_args, emit, median

CONSOLE_MARKER = b"Batch jobs"  # the fourth pane's title: present only once the whole grid is drawn
BASELINE_MARKER = b"BASELINE-READY"
TARGET = 1.2


def launch(cmd: list[str], marker: bytes, timeout: float = 60.0) -> float:
    term = PtyProcess(cmd)
    term.watch(marker)
    try:
        at = term.wait_for(marker, timeout)
        if at is None:
            raise SystemExit(f"no first frame from {' '.join(cmd)} within {timeout:g}s "
                             f"(exit {term.proc.poll()}, {term.bytes_read} bytes written)")
        return at - term.started
    finally:
        term.stop(quit_keys=None)  # the frame is what we measured; no need to wait for a clean exit


def run(runs: int) -> list[Row]:
    base_cmd = [PY, str(BENCH / "baseline_app.py")]
    launch(CONSOLE, CONSOLE_MARKER)  # warm the OS file cache and .pyc files for both
    launch(base_cmd, BASELINE_MARKER)
    console, base = [], []
    for _ in range(runs):  # interleaved so that background load hits both alike
        base.append(launch(base_cmd, BASELINE_MARKER))
        console.append(launch(CONSOLE, CONSOLE_MARKER))
    c, b = median(console), median(base)
    ratio = c / b
    print(f"runs={runs}")
    print("console  s: " + " ".join(f"{x:.3f}" for x in console) + f"  median {c:.3f}")
    print("baseline s: " + " ".join(f"{x:.3f}" for x in base) + f"  median {b:.3f}")
    # Each console run over the baseline run just before it: steadier than the ratio of medians when
    # the machine's load changes during the run (other engineers' tests on 2 shared cores).
    paired = median([x / y for x, y in zip(console, base)])
    print(f"ratio: {ratio:.2f}x (median of the {runs} paired ratios: {paired:.2f}x)")
    return [Row("first frame", f"{ratio:.2f}x baseline ({c:.2f} s vs {b:.2f} s, median of {runs}; "
                f"paired {paired:.2f}x)",
                f"<= {TARGET}x", ratio <= TARGET)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    add_common_args(ap)
    args = ap.parse_args()
    emit(run(args.runs), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
