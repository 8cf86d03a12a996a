"""What serving every Bedrock region costs the single-account sandbox: start time, and the time and memory of a
region's first request (the region's cell is made then) against later ones.

In a fresh process each run: the built-in config (no scenario) is started in-process; then, for every region
botocore lists for Amazon Bedrock (40), a client in that region sends one Converse, one GetMetricData and one
ListServiceQuotas (the first of them makes the region's cell); then the same again (cells made). Printed: the
sandbox's start (construction + serving), RSS after start and after every region was asked, and the median and
worst time of a region's first and second round. ``--baseline DIR`` runs the same in a source tree of another
build (a directory holding a ``tierconsole`` package, e.g. ``git archive main`` with ``console`` and
``profiles`` laid out as the package) for comparison.

    python bench/sandbox_regions.py [--runs 5] [--baseline /tmp/main-src]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from _common import Row, emit

CHILD = r'''
import json, re, statistics, sys, time
from datetime import datetime, timedelta, timezone


def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS:"))


t0 = time.perf_counter()
import boto3
from botocore.config import Config
from botocore.loaders import create_loader
from tierconsole.sandbox.app import Sandbox, SandboxThread

imported = time.perf_counter() - t0
t0 = time.perf_counter()
thread = SandboxThread(Sandbox(speed=1e6))  # answers at once: what is timed is the serving
thread.start()
start_s = time.perf_counter() - t0
rss_start = rss_mb()
regions = sorted({name for p in create_loader().load_data("endpoints")["partitions"]
                  for name in p.get("services", {}).get("bedrock", {}).get("endpoints", {})
                  if re.fullmatch(p.get("regionRegex", "(?!)"), name)})
cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"})
kw = dict(endpoint_url=thread.sandbox.endpoint, aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
          config=cfg)
clients = {r: (boto3.client("bedrock-runtime", region_name=r, **kw), boto3.client("cloudwatch", region_name=r, **kw),
               boto3.client("service-quotas", region_name=r, **kw)) for r in regions}
now = datetime.now(timezone.utc)
query = [{"Id": "m", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": "Invocations",
          "Dimensions": [{"Name": "ModelId", "Value": "amazon.nova-lite-v1:0"}]}, "Period": 60, "Stat": "Sum"}}]


def round_():
    times = []
    for r in regions:
        rt, cw, sq = clients[r]
        t = time.perf_counter()
        rt.converse(modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}],
                    inferenceConfig={"maxTokens": 5})
        cw.get_metric_data(MetricDataQueries=query, StartTime=now - timedelta(hours=1), EndTime=now)
        sq.list_service_quotas(ServiceCode="bedrock")
        times.append(time.perf_counter() - t)
    return times


rss_clients = rss_mb()
first = round_()
rss_after = rss_mb()
second = round_()
cells = len(thread.sandbox.cells) if getattr(thread.sandbox, "cells", None) is not None else 0
thread.stop()
print(json.dumps({"regions": len(regions), "cells": cells, "start_s": start_s, "import_s": imported,
                  "rss_start": rss_start, "rss_clients": rss_clients, "rss_after": rss_after,
                  "first_ms": [t * 1000 for t in first], "second_ms": [t * 1000 for t in second]}))
'''


CELLS = r'''
import json, statistics, time, tracemalloc
from tierconsole.sandbox.app import Sandbox, SandboxThread

thread = SandboxThread(Sandbox(speed=1.0))
thread.start()
sb = thread.sandbox
t = time.perf_counter()
regions = sb.cells.regions  # botocore's endpoint data, read when a region other than the home one is first asked
read_s = time.perf_counter() - t
thread.call(lambda: sb.cells.cell(sb.config.account_id, "us-west-2", "json"))  # the first cell warms imports
tracemalloc.start()
before = tracemalloc.take_snapshot()
times = []


def make_all():
    for region in regions:
        if (sb.config.account_id, region) not in dict(sb.cells):
            t = time.perf_counter()
            sb.cells.cell(sb.config.account_id, region, "json")
            times.append(time.perf_counter() - t)


thread.call(make_all)
grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
thread.stop()
print(json.dumps({"read_ms": read_s * 1000, "made": len(times), "median_ms": statistics.median(times) * 1000,
                  "max_ms": max(times) * 1000, "kb_each": grown / len(times) / 1000}))
'''


def cells_cost() -> str:
    out = subprocess.run([sys.executable, "-c", CELLS], capture_output=True, text=True, timeout=600, cwd="/")
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    c = json.loads(out.stdout.strip().splitlines()[-1])
    return (f"a region's cell (in-process, no HTTP): {c['made']} made, median {c['median_ms']:.1f} ms, max "
            f"{c['max_ms']:.1f} ms, {c['kb_each']:.0f} KB each (Python allocations, tracemalloc); botocore's region "
            f"list read once, when a region other than the home one is first asked: {c['read_ms']:.0f} ms")


def run(source: str | None) -> dict:
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=600,
                         cwd="/")
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def describe(name: str, runs: list[dict]) -> str:
    def med(key):
        return statistics.median(r[key] for r in runs)

    first = [t for r in runs for t in r["first_ms"]]
    second = [t for r in runs for t in r["second_ms"]]
    return (f"{name}: start {med('start_s') * 1000:.0f} ms, RSS {med('rss_start'):.0f} MB at start, "
            f"+{med('rss_after') - med('rss_clients'):.0f} MB after {runs[0]['regions']} regions "
            f"({runs[0]['cells']} cells); a region's first round (Converse + GetMetricData + ListServiceQuotas) "
            f"median {statistics.median(first):.1f} ms, max {max(first):.1f} ms; later rounds median "
            f"{statistics.median(second):.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline", help="a source tree of another build to compare with")
    ap.add_argument("--rows-json")
    args = ap.parse_args()
    rows = []
    builds = [("this build", None)] + ([("baseline", args.baseline)] if args.baseline else [])
    runs: dict[str, list[dict]] = {name: [] for name, _ in builds}
    for _ in range(args.runs):  # interleaved: a loaded machine slows both alike
        for name, source in builds:
            runs[name].append(run(source))
    for name, _ in builds:
        figure = describe(name, runs[name])
        print(figure, flush=True)
        rows.append(Row("sandbox_regions", figure, "report", None))
    figure = cells_cost()
    print(figure)
    rows.append(Row("sandbox_regions", figure, "report", None))
    emit(rows, args.rows_json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
