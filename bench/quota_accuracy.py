"""Sandbox quota enforcement: tokens admitted per sliding minute vs the model's TPM quota, under saturation.

The sandbox runs in this process (`SandboxThread`, its own loop and thread) at --speed 30, so a
sandbox minute lasts 2 real seconds; a load client in another process keeps 48 Converse requests
outstanding at one model (Amazon Nova Lite: 120,000 TPM, 300 RPM) on the Flex tier, whose long
queue wait keeps the pool saturated without a storm of throttles. Each request is ~600 input
tokens + maxTokens 400, so the pool is bound by tokens, not requests.

Two readings, after one warm-up sandbox minute:
* the engine's own sliding window (`engine.usage(model, now)["tpm_used"]`), sampled every ~10 ms:
  what admission compares with the quota (holds of requests in flight, settled amounts after);
* from the outcome log, after the run: settled quota tokens of the successful requests, placed at
  their admission time (completion − latency + queue wait), summed over a sliding 60-second window.
Target: never above the quota, and at least 98% of it used under saturation (the mean).

`--route cross_region` sends the same load through the `us.` inference profile and reads the model's
cross-region TPM quota instead (the on-demand pool stays empty).

Also the sandbox's requests/s, with `bench/sandbox_throughput.py`'s client (target ≥ 1,000).

    python bench/quota_accuracy.py [--minutes 5] [--speed 30] [--throughput-seconds 5] [--route cross_region]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from _common import BENCH, PY, Row, add_common_args, clean_env, cpu_seconds, emit, median

MODEL = "amazon.nova-lite-v1:0"
INPUT_CHARS = 2400  # 600 tokens at 4 characters a token
MAX_TOKENS = 400
TIER = "flex"
AUTH = ("AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/bedrock/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")
WINDOW = 60.0
ROUTES = {"on_demand": MODEL, "cross_region": "us." + MODEL}  # the identifier each route is called by


# ------------------------------------------------------------------ the load (runs in another process)
async def load(endpoint: str, seconds: float, concurrency: int, identifier: str = MODEL) -> dict:
    import aiohttp

    url = f"{endpoint}/model/{identifier.replace(':', '%3A')}/converse"
    headers = {"Authorization": AUTH, "Content-Type": "application/json", "X-Amz-Date": "20260101T000000Z"}
    counts: dict[str, int] = {}
    import aiohttp  # noqa: F811 - imported before the clock starts

    stop_at = time.monotonic() + seconds
    filler = ("oak " * (INPUT_CHARS // 4))[: INPUT_CHARS - 16]
    print("started", flush=True)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=aiohttp.ClientTimeout(total=None)) as session:
        async def worker(w: int) -> None:
            i = 0
            while time.monotonic() < stop_at:
                i += 1
                body = json.dumps({"messages": [{"role": "user", "content": [{"text": f"{w:04d}-{i:08d} {filler}"}]}],
                                   "inferenceConfig": {"maxTokens": MAX_TOKENS}, "serviceTier": {"type": TIER}})
                try:
                    async with session.post(url, data=body, headers=headers) as r:
                        await r.read()
                        counts[str(r.status)] = counts.get(str(r.status), 0) + 1
                except aiohttp.ClientError as e:
                    counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return counts


# ------------------------------------------------------------------ enforcement
def sliding_sums(points: list[tuple[float, float]], start: float, end: float, step: float) -> list[float]:
    """Sum of amounts with time in (t - 60, t], for t from start to end by step."""
    points.sort()
    out, lo, hi, total = [], 0, 0, 0.0
    t = start
    while t <= end:
        while hi < len(points) and points[hi][0] <= t:
            total += points[hi][1]
            hi += 1
        while lo < hi and points[lo][0] <= t - WINDOW:
            total -= points[lo][1]
            lo += 1
        out.append(total)
        t += step
    return out


def enforcement(minutes: float, speed: float, concurrency: int, route: str = "on_demand") -> dict:
    from tierconsole.sandbox.app import Sandbox, SandboxThread
    from tierconsole.sandbox.config import load_sandbox_config

    sandbox = Sandbox(load_sandbox_config(), speed=speed, scenario="none")
    thread = SandboxThread(sandbox)
    endpoint = thread.start()
    engine, clock = sandbox.engine, sandbox.clock
    specs = {(q.kind.value, q.measure.value): q for q in sandbox.config.catalog.quota_specs if q.model_id == MODEL}
    tpm_spec, rpm_spec = specs[(route, "tokens")], specs[(route, "requests")]
    quota, rpm = tpm_spec.value, rpm_spec.value

    def route_use(now: float) -> tuple[float, float, float]:
        used = {u.code: u.used for u in engine.quota_uses(now, MODEL)}
        return now, used[tpm_spec.code], used[rpm_spec.code]

    run_s = (1 + minutes) * WINDOW / speed  # a warm-up sandbox minute, then the measured ones
    client = subprocess.Popen([PY, __file__, "--load", endpoint, "--seconds", str(run_s),
                               "--concurrency", str(concurrency), "--route", route], stdout=subprocess.PIPE, text=True,
                              env=clean_env(), cwd=str(BENCH))
    samples: list[tuple[float, float, float]] = []
    try:
        if client.stdout.readline().strip() != "started":
            raise SystemExit("the load client did not start")
        t_start = clock.now()  # the load's first requests leave now
        t_measure = t_start + WINDOW  # after one warm-up sandbox minute
        t_stop = t_start + run_s * speed - 1.0  # before the client stops sending
        while client.poll() is None:
            samples.append(thread.call(lambda: route_use(clock.now())))
            time.sleep(0.01)
        counts = json.loads(client.stdout.read() or "{}")
        outcomes = thread.call(lambda: list(sandbox.outcomes.recent))
    finally:
        if client.poll() is None:
            client.terminate()
        thread.stop()
    samples = [s for s in samples if t_measure <= s[0] <= t_stop]
    t_end = t_stop
    # settled tokens at admission time, from the outcome log
    points = [(o.time - o.latency_ms / 1000 + o.queue_ms / 1000, float(o.quota_tokens)) for o in outcomes
              if o.model_id == MODEL and o.status == 200]
    # windows that end after the warm-up and before the load stops
    sums = sliding_sums(points, t_measure, t_stop, 0.5)
    ok = sum(1 for o in outcomes if o.model_id == MODEL and o.status == 200 and o.time >= t_start)
    throttled = sum(1 for o in outcomes if o.model_id == MODEL and o.status == 429)
    return {"quota": quota, "rpm": rpm, "samples": samples, "sums": sums, "ok": ok, "throttled": throttled,
            "quota_name": tpm_spec.name,
            "counts": counts, "sandbox_minutes": (t_end - t_measure) / WINDOW}


def throughput(seconds: float) -> dict:
    sys.path.insert(0, str(BENCH))
    import sandbox_throughput as st

    proc, endpoint = st.start_sandbox(1e7)
    try:
        asyncio.run(st.raw_client(endpoint, 1.0, 64))  # warm-up
        cpu0 = cpu_seconds(proc.pid)
        ok, errors, lat = asyncio.run(st.raw_client(endpoint, seconds, 64))
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(10)
    lat.sort()
    return {"rps": ok / seconds, "errors": errors, "p50": lat[len(lat) // 2] * 1000 if lat else 0,
            "cpu": cpu / seconds * 100}


def run(minutes: float, speed: float, concurrency: int, tp_seconds: float, route: str = "on_demand") -> list[Row]:
    e = enforcement(minutes, speed, concurrency, route)
    q = e["quota"]
    used = [s[1] for s in e["samples"]]
    rpm_used = [s[2] for s in e["samples"]]
    print(f"model {MODEL} called as {ROUTES[route]}: {e['quota_name']!r}")
    print(f"model {MODEL}: quota {q:,.0f} TPM, {e['rpm']:,.0f} RPM; speed {speed:g} "
          f"(a sandbox minute = {WINDOW / speed:.1f} s); {e['sandbox_minutes']:.1f} sandbox minutes measured")
    print(f"load: {concurrency} outstanding {TIER} requests (~{INPUT_CHARS // 4} input + maxTokens {MAX_TOKENS}); "
          f"responses {e['counts']}")
    print(f"engine window (tpm_used), {len(used)} samples: min {min(used) / q:.2%} median {median(used) / q:.2%} "
          f"mean {sum(used) / len(used) / q:.2%} max {max(used) / q:.2%} of quota; "
          f"RPM used max {max(rpm_used):.0f}/{e['rpm']:.0f}")
    s = e["sums"]
    print(f"outcome log (settled tokens by admission time, sliding 60 s), {len(s)} windows: "
          f"min {min(s) / q:.2%} median {median(s) / q:.2%} mean {sum(s) / len(s) / q:.2%} max {max(s) / q:.2%}")
    print(f"requests served {e['ok']}, throttled {e['throttled']}")
    tp = throughput(tp_seconds)
    print(f"sandbox throughput (bench/sandbox_throughput.py raw client, 64 concurrent, {tp_seconds:g} s): "
          f"{tp['rps']:,.0f} requests/s, p50 {tp['p50']:.2f} ms, errors {tp['errors']}, sandbox CPU {tp['cpu']:.0f}%")
    eng_mean, eng_max = sum(used) / len(used) / q, max(used) / q
    log_mean, log_max = sum(s) / len(s) / q, max(s) / q
    return [
        Row("quota: engine window", f"mean {eng_mean:.2%}, min {min(used) / q:.2%}, max {eng_max:.2%} of TPM quota",
            "<= 100% and mean >= 98%", eng_max <= 1.0 + 1e-9 and eng_mean >= 0.98),
        Row("quota: settled by admission", f"mean {log_mean:.2%}, min {min(s) / q:.2%}, max {log_max:.2%} of TPM quota",
            "<= 100% and mean >= 98%", log_max <= 1.0 + 1e-9 and log_mean >= 0.98),
        Row("sandbox requests/s", f"{tp['rps']:,.0f}/s (raw client, 64 concurrent; p50 {tp['p50']:.1f} ms)",
            ">= 1000/s", tp["rps"] >= 1000),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="sandbox minutes measured after a warm-up minute")
    ap.add_argument("--speed", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=48)
    ap.add_argument("--throughput-seconds", type=float, default=5.0)
    ap.add_argument("--route", choices=sorted(ROUTES), default="on_demand",
                    help="on_demand: call the model id; cross_region: call its us. inference profile")
    ap.add_argument("--load", metavar="ENDPOINT", help=argparse.SUPPRESS)  # internal: be the load client
    ap.add_argument("--seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    add_common_args(ap)
    args = ap.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(load(args.load, args.seconds, args.concurrency, ROUTES[args.route]))))
        return
    emit(run(args.minutes, args.speed, args.concurrency, args.throughput_seconds, args.route), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
