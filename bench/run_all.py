"""Run every benchmark with short defaults and print one table: benchmark, figure, target, MET/MISSED.

Each benchmark runs as its own process (so one's memory or threads never skew another's figures),
streams its own report, and hands its rows back through --rows-json. The whole suite takes about
four minutes on a 2-core machine.

    python bench/run_all.py [--only first_frame,scale] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _common import BENCH, PY, Row, clean_env

#: (script, arguments for the short suite)
SUITE = [
    ("first_frame", ["--runs", "5"]),
    ("ssh_cost", ["--seconds", "30", "--warmup", "5"]),
    ("aws_cost", ["--refreshes", "20"]),
    ("scale", ["--repeat", "3"]),
    ("prompt_overhead", ["--calls", "200", "--rounds", "3"]),
    ("quota_accuracy", ["--minutes", "3", "--throughput-seconds", "5"]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated benchmark names: " + ", ".join(n for n, _ in SUITE))
    ap.add_argument("--json", metavar="FILE", help="also write every row as JSON")
    args = ap.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    rows: list[Row] = []
    started = time.monotonic()
    for name, extra in SUITE:
        if wanted and name not in wanted:
            continue
        out = os.path.join(tempfile.mkdtemp(prefix="tc-bench-"), f"{name}.json")
        print(f"\n=== {name} {' '.join(extra)}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([PY, str(BENCH / f"{name}.py"), *extra, "--rows-json", out], cwd=str(BENCH),
                             env=clean_env())  # bytecode cached outside the tree, as for every child
        took = time.monotonic() - t0
        if rc == 0 and os.path.exists(out):
            got = [Row(**r) for r in json.load(open(out))]
        else:
            got = [Row(name, f"failed (exit {rc})", "runs", False)]
        rows.extend(got)
        print(f"--- {name}: {took:.0f} s", flush=True)

    w_bench = max(len(r.bench) for r in rows)
    w_target = max(len(r.target) for r in rows)
    print(f"\n{'benchmark':<{w_bench}}  {'target':<{w_target}}  {'result':<6}  figure")
    print(f"{'-' * w_bench}  {'-' * w_target}  ------  {'-' * 40}")
    for r in rows:
        print(f"{r.bench:<{w_bench}}  {r.target:<{w_target}}  {r.verdict:<6}  {r.figure}")
    missed = [r for r in rows if r.met is False]
    print(f"\n{sum(r.met is True for r in rows)} met, {len(missed)} missed, "
          f"{sum(r.met is None for r in rows)} informational; {time.monotonic() - started:.0f} s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.__dict__ for r in rows], f, indent=2)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
