"""Fleet pulse at scale (issue 15): 100 source accounts × 4 regions × 10 models from one monitoring account.

A fleet sandbox in its own process (``tierconsole sandbox --config FILE --access-log LOG``): the accounts linked
to the monitoring account's sinks (``oam: auto``), one made-up catalog of 10 models, each account's metrics
seeded with one ``PutMetricData`` per account × region (as that account: 80 calm at 2–40 %, 15 hot at 80–95 %, 5
throttling), no scenario traffic (this measures the console, not the engine); one account refuses AssumeRole.

Measured in this process (the console's own collector and app, nothing of the sandbox's):
- API calls per refresh by operation, counted on the wire from the sandbox's access log: the first refresh
  (discovery: links and series; every account's quotas through the account) and steady refreshes (target:
  GetMetricData = Σ ceil((Q+1)/500) per region, nothing else); CloudWatch $/h at 60 s and 10 s;
- refresh-to-frame: a new snapshot handed to the fleet screen until the repaint is complete (``scale.py``'s
  clock), for unchanged figures and for every figure changed; target p95 < 100 ms;
- keystroke-to-repaint: typing into ``/``, applying it, ``g``, scrolling; target p95 < 50 ms;
- peak RSS of this process (collector, 4,000 rows, the app): target < 300 MB;
- faults: the denied account (only its rows lose quota use) and a region the sandbox does not serve (only that
  region's rows stale).

    python bench/fleet.py [--accounts 100] [--regions 4] [--models 10] [--repeat 20]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import Row, SandboxProcess, add_common_args, emit, median
from scale import peak_rss_mb, stats

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
MONITORING = "100000000000"
FRAME_TARGET_MS, KEY_TARGET_MS, RSS_TARGET_MB = 100.0, 50.0, 300.0
TPM = 1_000_000


def models(n: int) -> list[tuple[str, str]]:
    return [(f"vendor.model-{i:02d}-v1:0", f"Bench Model {i:02d}") for i in range(n)]


def accounts(n: int) -> list[str]:
    return [f"{200000000001 + a:012d}" for a in range(n)]


def sandbox_config(n_accounts: int, regions: tuple[str, ...], catalog) -> str:
    lines = ["sandbox:", f'  account_id: "{MONITORING}"', "  bucket: tierconsole-fleet-bench",
             f"  regions: [{', '.join(regions)}]", "  oam: auto", "  scenario: none", "  models:"]
    lines += [f"    - {{id: {m}, name: {name}, family: nova, tpm: {TPM}, rpm: 10000, burndown: 1, "
              f"max_output_tokens: 5000, output_tps: 2000, ttft_ms: 10}}" for m, name in catalog]
    lines.append("  accounts:")
    for i, account in enumerate(accounts(n_accounts)):
        deny = ", assume_role: deny" if i == n_accounts - 1 else ""
        lines.append(f'    - {{id: "{account}", name: team-{i:03d}{deny}}}')
    return "\n".join(lines) + "\n"


def seed(endpoint: str, n_accounts: int, regions: tuple[str, ...], catalog) -> float:
    """One PutMetricData per account × region, as that account: every minute from the one before now to 15
    minutes ahead (so the figures are current whenever the console looks). Run in a process of its own
    (``--seed``): its boto3 clients are not the console's memory."""
    import boto3
    from botocore.config import Config

    from tierconsole.core.domain.sandboxkeys import account_credentials

    t0 = time.perf_counter()
    now = time.time()
    for i, account in enumerate(accounts(n_accounts)):
        hot, throttling = 80 <= i < 95, i >= 95
        key, secret = account_credentials(account)
        for region in regions:
            cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                              aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1},
                              # botocore gzips a PutMetricData body over 10 KB; the sandbox reads it as text
                              disable_request_compression=True))
            data = []
            for j, (m, _) in enumerate(catalog):
                share = (0.80 + 0.15 * ((i + j) % 4) / 3) if hot and j == 0 else 0.02 + 0.38 * ((i * 7 + j) % 10) / 10
                for stamp in [now + 60 * k for k in range(-1, 16)]:
                    dims = [{"Name": "ModelId", "Value": m}]
                    data += [{"MetricName": "EstimatedTPMQuotaUsage", "Dimensions": dims, "Timestamp": stamp,
                              "Value": share * TPM},
                             {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": stamp, "Value": 50.0},
                             {"MetricName": "InvocationThrottles", "Dimensions": dims, "Timestamp": stamp,
                              "Value": 7.0 if throttling and j == 0 else 0.0}]
            for k in range(0, len(data), 1000):  # PutMetricData takes 1,000 data a call
                cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[k:k + 1000])
    return time.perf_counter() - t0


def profile_text(endpoint: str, regions: tuple[str, ...]) -> str:
    return (f"name: bench-fleet\nendpoint_url: {endpoint}\nsandbox: {{}}\nregions: [{', '.join(regions)}]\n"
            "timeouts: {calls: 60}\n"
            "fleet:\n  access:\n    - match: '*'\n      role_arn: 'arn:aws:iam::{account}:role/Read'\n")


class WireLog:
    """The sandbox's access log, read from where the last look ended: calls by operation."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def take(self) -> Counter:
        time.sleep(0.3)  # the log is written after the answer
        with open(self.path) as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        ops: Counter = Counter()
        for line in text.splitlines():
            try:
                ops[json.loads(line).get("operation") or "?"] += 1
            except json.JSONDecodeError:
                continue
        return ops


async def collect(endpoint: str, regions: tuple[str, ...], wire: WireLog, steady: int):
    from tierconsole.core.aws.fleet import FleetCollector
    from tierconsole.core.aws.session import AwsContext, Target
    from tierconsole.core.config.profiles import _load

    profile = _load("bench-fleet", "bench-fleet.yaml", "user", profile_text(endpoint, regions))
    ctx = AwsContext(Target(profile, endpoint, sandbox=True))
    c = FleetCollector(ctx)
    out: dict = {}
    try:
        t0 = time.perf_counter()
        first = await c.refresh(wait_quotas=True)
        out["first_s"] = time.perf_counter() - t0
        out["first_wire"] = wire.take()
        out["plan_calls"] = {r: len(c.plan(r, c.clock()).calls) for r in regions}
        out["plan_queries"] = {r: c.plan(r, c.clock()).query_count for r in regions}
        snaps, times, wires = [first], [], []
        for _ in range(steady):
            t0 = time.perf_counter()
            snaps.append(await c.refresh())
            times.append(time.perf_counter() - t0)
            wires.append(wire.take())
        out["steady_s"], out["steady_wire"], out["snaps"] = times, wires, snaps
    finally:
        await c.close()
        await ctx.close()
    dead = _load("bench-fleet", "bench-fleet.yaml", "user", profile_text(endpoint, (*regions, "sa-east-1")))
    ctx = AwsContext(Target(dead, endpoint, sandbox=True))
    c = FleetCollector(ctx)
    try:
        await c.refresh()
        out["fault"] = await c.refresh()
    finally:
        await c.close()
        await ctx.close()
    return out


async def ui(snapshots, repeat: int) -> dict[str, list[float]]:
    from dataclasses import replace

    from scale import RenderClock, _press, _sync, measure
    from tierconsole.tui.app import TierConsoleApp

    clock = RenderClock()
    base = snapshots[-1]
    changed = replace(base, rows=tuple(replace(r, tpm_used=(r.tpm_used or 0) + 1.0,
                                               throttles_per_min=(r.throttles_per_min or 0) + 0.1)
                                       for r in base.rows))
    app = TierConsoleApp(fleet=base)
    results: dict[str, list[float]] = {}
    late: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        async def timed(name, action):
            results.setdefault(name, []).append(await measure(pilot, clock, action, late))

        for i in range(repeat):
            await timed("refresh: same figures", _sync(app.show_fleet, snapshots[i % len(snapshots)]))
            await timed("refresh: every figure changed", _sync(app.show_fleet, changed if i % 2 == 0 else base))
        for _ in range(max(1, repeat // 4)):
            await timed("key: / (open filter)", _press(pilot, "slash"))
            for ch in "team-09":
                await timed("key: type a character", _press(pilot, "minus" if ch == "-" else ch))
            await timed("key: enter (apply)", _press(pilot, "enter"))
            await timed("key: / (open filter)", _press(pilot, "slash"))
            for _ in range(7):
                await timed("key: backspace", _press(pilot, "backspace"))
            await timed("key: enter (apply)", _press(pilot, "enter"))
            for _ in range(4):
                await timed("key: g (group)", _press(pilot, "g"))
            for _ in range(5):
                await timed("key: down", _press(pilot, "down"))
                await timed("key: page down", _press(pilot, "pagedown"))
        table = app.screen.query_one("FleetTable")
        results["_built"] = [float(table.lines_built)]
    return results


def run(n_accounts: int, n_regions: int, n_models: int, steady: int, repeat: int) -> list[Row]:
    regions = REGIONS[:n_regions]
    catalog = models(n_models)
    tmp = Path(tempfile.mkdtemp(prefix="tierconsole-fleet-bench-"))
    (tmp / "fleet.yaml").write_text(sandbox_config(n_accounts, regions, catalog))
    log = tmp / "access.jsonl"
    sb = SandboxProcess(scenario="none", access_log=str(log), extra=["--config", str(tmp / "fleet.yaml")])
    rows: list[Row] = []
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--seed", sb.endpoint, "--accounts", str(n_accounts),
                        "--regions", str(n_regions), "--models", str(n_models)], check=True)
        seeded = time.perf_counter() - t0
        wire = WireLog(log)
        wire.take()
        out = asyncio.run(collect(sb.endpoint, regions, wire, steady))
    finally:
        sb.stop()
    snaps = out["snaps"]
    last = snaps[-1]
    print(f"{n_accounts} accounts × {n_regions} regions × {n_models} models; seeded in {seeded:.1f} s; "
          f"{len(last.rows):,} rows; {last.pulse.text()}")
    from tierconsole.present.fleet import format_fleet

    print("\n".join(format_fleet(last).splitlines()[3:9]))
    print(f"first refresh (discovery + {n_accounts * n_regions} account × region quota reads through each account): "
          f"{out['first_s']:.1f} s, on the wire: {dict(out['first_wire'])}")
    steady_ops = [dict(w) for w in out["steady_wire"]]
    expected = out["plan_calls"]  # ceil((Q + 1) / 500), or ceil(Q / 500) where no Insights query rides along
    gmd = [w.get("GetMetricData", 0) for w in out["steady_wire"]]
    others = [sum(n for op, n in w.items() if op != "GetMetricData") for w in out["steady_wire"]]
    print(f"queries per region {out['plan_queries']} -> calls {out['plan_calls']} (ceil((Q + 1) / 500): the +1 is "
          f"the Metrics Insights query of call 0, throttles by tier for the whole region)")
    print(f"steady refreshes on the wire: {steady_ops}; collector time median {median(out['steady_s']) * 1000:.0f} ms")
    metrics = sum(out["plan_queries"].values())
    print(f"CloudWatch cost (GetMetricData $0.01 per 1,000 metrics): {metrics:,} metrics a refresh = "
          f"${metrics / 1000 * 0.01 * 60:.2f}/h at 60 s, ${metrics / 1000 * 0.01 * 360:.2f}/h at 10 s")
    rows.append(Row("fleet: API calls per refresh",
                    f"GetMetricData {median(gmd):.0f} (planned {sum(expected.values())}), other calls "
                    f"{max(others)}; {metrics:,} metrics, ${metrics / 1000 * 0.01 * 60:.2f}/h at 60 s",
                    "Σ ceil((Q+1)/500), nothing else", all(g == sum(expected.values()) for g in gmd) and max(others) == 0))
    fault = out["fault"]
    stale = [r for r in fault.rows if r.stale]
    denied = [r for r in last.rows if r.account_id == accounts(n_accounts)[-1]]
    print(f"fault drills: region sa-east-1 (not served) stale: {dict(fault.region_stale)}; stale rows "
          f"{len(stale)} (regions {sorted({r.region for r in stale}) or 'none'}); denied account rows "
          f"{len(denied)}, quota unknown on {sum(1 for r in denied if r.use is None)}, others unknown on "
          f"{sum(1 for r in last.rows if r.use is None and r not in denied)}")
    rows.append(Row("fleet: faults stay in their scope",
                    f"unserved region: {len(fault.region_stale)} region stale, {len(stale)} rows stale; denied account: "
                    f"{sum(1 for r in denied if r.use is None)}/{len(denied)} of its rows without quota use, "
                    f"{sum(1 for r in last.rows if r.use is None and r not in denied)} others",
                    "only the affected", set(fault.region_stale) == {"sa-east-1"} and not stale
                    and all(r.use is None for r in denied)
                    and not any(r.use is None for r in last.rows if r not in denied)))
    times = asyncio.run(ui(snaps, repeat))
    built = times.pop("_built")[0]
    print(f"{'action':36} {'median ms':>9} {'p95 ms':>8} {'n':>4}")
    for name, xs in times.items():
        med, p95 = stats(xs)
        print(f"{name:36} {med:9.1f} {p95:8.1f} {len(xs):4d}")
    print(f"fleet table lines built in all: {built:,.0f} (4,000 rows; only visible lines are built)")
    frame = [stats(x)[1] for n, x in times.items() if n.startswith("refresh")]
    keys = [stats(x)[1] for n, x in times.items() if n.startswith("key")]
    rows.append(Row("fleet: refresh→frame",
                    "; ".join(f"{n.split(': ')[1]} {stats(x)[0]:.0f}/{stats(x)[1]:.0f} ms" for n, x in times.items()
                              if n.startswith("refresh")) + " (median/p95)", f"p95 < {FRAME_TARGET_MS:g} ms",
                    max(frame) < FRAME_TARGET_MS))
    rows.append(Row("fleet: keystroke→repaint",
                    "; ".join(f"{n.split(': ')[1]} {stats(x)[1]:.0f} ms" for n, x in times.items()
                              if n.startswith("key")) + " (p95)", f"p95 < {KEY_TARGET_MS:g} ms",
                    max(keys) < KEY_TARGET_MS))
    peak = peak_rss_mb()
    rows.append(Row("fleet: memory", f"peak RSS {peak:.0f} MB (console side: collector, {len(last.rows):,} rows, app)",
                    f"< {RSS_TARGET_MB:g} MB", peak < RSS_TARGET_MB))
    return rows


def ssh(seconds: float) -> list[Row]:
    """Terminal bytes/s over a pty (``ssh_cost.py``'s measure): the fleet screen on the shipped fleet sandbox (13
    accounts, its scenarios, ``refresh_seconds: 5``) against the single-account dashboard on a ``steady`` sandbox
    (1 s refresh), each measured ``seconds`` after a 20 s warm-up."""
    from ssh_cost import measure

    from _common import CONSOLE

    with SandboxProcess(scenario="none", extra=["--config", str(Path(__file__).resolve().parent.parent / "profiles" /
                                                               "fleet.yaml")]) as sb:
        fleet = measure([*CONSOLE, "--profile", "fleet", "--endpoint-url", sb.endpoint], b"thr/min", 20.0, seconds)
    with SandboxProcess(scenario="steady") as sb:
        single = measure([*CONSOLE, "--profile", "sandbox", "--endpoint-url", sb.endpoint], b"Batch jobs", 20.0, seconds)
    print(f"terminal bytes/s: fleet screen {fleet['bytes_s']:,.0f} B/s ({fleet['cpu_pct']:.1f}% CPU), single-account "
          f"dashboard {single['bytes_s']:,.0f} B/s ({single['cpu_pct']:.1f}% CPU), over {seconds:g} s")
    return [Row("fleet: terminal bytes/s", f"{fleet['bytes_s']:,.0f} B/s vs the dashboard's {single['bytes_s']:,.0f} B/s",
                "<= the single-account dashboard's", fleet["bytes_s"] <= single["bytes_s"])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--regions", type=int, default=4, choices=range(1, 5))
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--steady", type=int, default=3, help="steady refreshes counted on the wire")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--seed", metavar="ENDPOINT", help=argparse.SUPPRESS)  # the seeding process
    ap.add_argument("--ssh", type=float, metavar="SECONDS", default=0.0,
                    help="also measure terminal bytes/s over a pty for SECONDS (fleet screen vs dashboard)")
    add_common_args(ap)
    args = ap.parse_args()
    if args.seed:
        seed(args.seed, args.accounts, REGIONS[:args.regions], models(args.models))
        return
    rows = ssh(args.ssh) if args.ssh else []
    emit(run(args.accounts, args.regions, args.models, args.steady, args.repeat) + rows, args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
