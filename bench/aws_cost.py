"""AWS cost of watching: API calls per refresh by operation, and CloudWatch dollars per hour.

`tierconsole sandbox --scenario steady --access-log FILE` runs in its own process; the console
watches it in a 120×40 pty (`--profile sandbox --endpoint-url URL`, 1-second refresh) for N
refreshes. The access log (one JSON line per request) is then split into refreshes (calls closer
than 0.4 s together) and counted by operation. Targets: exactly one GetMetricData per region per
refresh; no Service Quotas call on most refreshes.

Cost, at CloudWatch list price (no free tier): GetMetricData $0.01 per 1,000 metrics requested
(the number of MetricDataQueries per call comes from the console's own plan,
`tierconsole.core.domain.metricsplan.plan`, for the models and tiers the collector discovered);
ListMetrics $0.01 per 1,000 requests (discovery of the per-tier form: one call every 5 minutes, every
minute while a watched model has no per-tier series yet). STS, Service Quotas
and the Bedrock control plane are free.

    python bench/aws_cost.py [--refreshes 30]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter

from _common import CONSOLE, PtyProcess, Row, SandboxProcess, add_common_args, emit, median

GMD_PER_1K_METRICS = 0.01
LIST_METRICS_PER_1K = 0.01
CADENCES = (1, 10, 60)
SERVICE_QUOTAS_OPS = {"ListServiceQuotas", "GetServiceQuota", "ListAWSDefaultServiceQuotas", "GetAWSDefaultServiceQuota",
                      "StartQuotaUtilizationReport", "GetQuotaUtilizationReport",
                      "ListRequestedServiceQuotaChangeHistory"}  # open increase requests, for the quota pane
#: the calls of the slow quota cadence (quota_refresh_seconds): the report is started on one refresh and read on
#: the next (again while it is being made), so it may touch two or three refreshes per quota period
#: (ListInferenceProfiles runs on this cadence and on the discovery one, with ListMetrics: not counted here)
QUOTA_CADENCE_OPS = SERVICE_QUOTAS_OPS | {"ListFoundationModels"}
CLUSTER_GAP_S = 0.4


def read_log(path: str) -> list[dict]:
    out = []
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def op_name(e: dict) -> str:
    if e.get("operation") and e["operation"] != e.get("method"):
        return e["operation"]
    if e.get("service") == "sts":
        return "GetCallerIdentity"  # the console's only STS call; the sandbox logs query-protocol calls unnamed
    return f"{e.get('service')} {e.get('method')} {e.get('path')}"


def split_refreshes(entries: list[dict]) -> list[list[dict]]:
    entries = sorted(entries, key=lambda e: e["time"])
    groups: list[list[dict]] = []
    for e in entries:
        if groups and e["time"] - groups[-1][-1]["time"] <= CLUSTER_GAP_S:
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


async def console_plan(endpoint: str) -> tuple[int, list[str], dict[str, list[str]], float, str, float]:
    """The metrics per GetMetricData call in the console's plan, after one collection (as the console does)."""
    from tierconsole.core.aws.collectors import Collector
    from tierconsole.core.aws.session import AwsContext, Target
    from tierconsole.core.domain import metricsplan as mp
    from tierconsole.core.config.profiles import load_profile

    profile = load_profile("sandbox")
    ctx = AwsContext(Target(profile, endpoint, sandbox=True))
    try:
        c = Collector(ctx)
        await c.refresh()
        p = c.metric_plan(time.time())
        assert all(q.namespace in (mp.NAMESPACE, mp.SANDBOX_NAMESPACE, mp.BATCH_NAMESPACE) for q in p.queries)
        return (len(p.queries), c.models, {m: sorted(t) for m, t in c.tiers.items()}, profile.quota_refresh_seconds,
                c.discovery.form or "none seen", c.discovery_every)
    finally:
        await ctx.close()


def discoveries_per_hour(cadence: float, every: float) -> float:
    """How many ListMetrics discoveries an hour of refreshes at ``cadence`` triggers (the collector's rule)."""
    n, last, t = 0, -1e18, 0.0
    while t < 3600:
        if t - last >= every:
            n, last = n + 1, t
        t += cadence
    return n


def run(refreshes: int) -> list[Row]:
    log_path = os.path.join(tempfile.mkdtemp(prefix="tc-aws-cost-"), "access.jsonl")
    with SandboxProcess(scenario="steady", access_log=log_path) as sb:
        term = PtyProcess([*CONSOLE, "--profile", "sandbox", "--endpoint-url", sb.endpoint])
        try:
            if term.wait_for(b"Batch jobs", 60) is None:
                raise SystemExit("the console drew no first frame")
            deadline = time.time() + refreshes * 3 + 60
            while time.time() < deadline:
                if sum(1 for e in read_log(log_path) if e.get("operation") == "GetMetricData") >= refreshes:
                    break
                time.sleep(0.5)
            time.sleep(0.3)  # let the last refresh's other calls land
        finally:
            term.stop()
        entries = [e for e in read_log(log_path) if e.get("service") != "bedrock-runtime"]
        n_metrics, models, tiers, quota_refresh, form, every = asyncio.run(console_plan(sb.endpoint))

    groups = split_refreshes(entries)
    n = len(groups)
    totals = Counter(op_name(e) for e in entries)
    gmd_per = [sum(1 for e in g if e.get("operation") == "GetMetricData") for g in groups]
    sq_refreshes = sum(1 for g in groups if any(op_name(e) in SERVICE_QUOTAS_OPS or e.get("service") == "servicequotas"
                                                    for e in g))
    starts = [g[0]["time"] for g in groups]
    cadence = median([b - a for a, b in zip(starts, starts[1:])])
    lm_calls = totals.get("ListMetrics", 0)
    lm_discoveries = sum(1 for g in groups if any(e.get("operation") == "ListMetrics" for e in g))
    lm_pages = lm_calls / lm_discoveries if lm_discoveries else 1.0
    gmd_pages = median(gmd_per) if gmd_per else 0
    errors = sum(1 for e in entries if e.get("status", 200) >= 400)

    print(f"refreshes observed: {n} (median interval {cadence:.2f} s), {len(entries)} calls, {errors} errors")
    print(f"models watched: {len(models)}; per-tier form discovered: {form} (ListMetrics every {every:g} s); tiers: " +
          ", ".join(f"{m.split('.')[-1]}={'/'.join(t)}" for m, t in tiers.items()))
    print(f"{'operation':28} {'calls':>6} {'per refresh':>12}")
    for op, c in totals.most_common():
        print(f"{op:28} {c:6d} {c / n:12.3f}")
    print(f"GetMetricData per refresh: min {min(gmd_per)} max {max(gmd_per)}; "
          f"refreshes with a Service Quotas call: {sq_refreshes} of {n} (quotas cached {quota_refresh:g} s)")
    cadence_calls = {op: c for op, c in totals.items() if op in QUOTA_CADENCE_OPS}
    cadence_refreshes = sum(1 for g in groups if any(op_name(e) in QUOTA_CADENCE_OPS for e in g))
    print(f"quota-cadence calls (every {quota_refresh:g} s): " + (", ".join(f"{op} {c}" for op, c in
          sorted(cadence_calls.items())) or "none") + f"; on {cadence_refreshes} of {n} refreshes")
    print(f"MetricDataQueries per GetMetricData (console plan): {n_metrics}; ListMetrics pages per discovery: {lm_pages:g}")
    print(f"\nCloudWatch list price per hour, one console, one region ({n_metrics} metrics/refresh):")
    print(f"{'cadence':>8} {'GetMetricData':>14} {'metrics/h':>10} {'ListMetrics/h':>14} {'$/hour':>8} {'$/30 days':>10}")
    rows = []
    for c in CADENCES:
        gmd_h = 3600 / c * gmd_pages
        metrics_h = 3600 / c * n_metrics
        lm_h = discoveries_per_hour(c, every) * lm_pages
        usd = metrics_h / 1000 * GMD_PER_1K_METRICS + lm_h / 1000 * LIST_METRICS_PER_1K
        print(f"{c:>7}s {gmd_h:14,.0f} {metrics_h:10,.0f} {lm_h:14,.0f} {usd:8.3f} {usd * 24 * 30:10,.2f}")
        rows.append(Row("aws: CloudWatch $/hour", f"${usd:.3f}/h at {c} s cadence (${usd * 24 * 30:,.0f}/30 days)",
                        "report", None))
    one_gmd = n > 0 and min(gmd_per) == 1 and max(gmd_per) == 1
    sq_ok = sq_refreshes <= max(1, math.ceil(n * 0.1))
    per_refresh = ", ".join(f"{op} {c / n:.2f}" for op, c in totals.most_common())
    return [
        Row("aws: ListMetrics", f"{lm_calls} calls over {n} refreshes ({lm_discoveries} discoveries, form {form})",
            "not every refresh", n <= 1 or lm_discoveries < n),
        Row("aws: GetMetricData/refresh", f"{min(gmd_per)}-{max(gmd_per)} per refresh over {n} refreshes "
            f"({n_metrics} metrics each); all calls/refresh: {per_refresh}", "exactly 1 per region", one_gmd),
        Row("aws: Service Quotas calls", f"on {sq_refreshes} of {n} refreshes", "0 on most refreshes", sq_ok),
        Row("aws: quota-cadence calls", ", ".join(f"{op} {c}" for op, c in sorted(cadence_calls.items()))
            + f" on {cadence_refreshes} of {n} refreshes", "report", None),
        *rows,
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--refreshes", type=int, default=30, help="refreshes to watch (default 30)")
    add_common_args(ap)
    args = ap.parse_args()
    emit(run(args.refreshes), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
