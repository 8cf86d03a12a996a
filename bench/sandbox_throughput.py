"""Requests/s the sandbox serves for non-streaming Converse, from a client in another process.

The sandbox runs as `tierconsole sandbox` (its own process) with --speed so high that generation
pacing and quota windows are negligible; this process is the client. By default the client is
raw aiohttp with a SigV4-shaped Authorization header (the sandbox accepts any credentials), so
the figure measures the server, not botocore's request signing. `--client aiobotocore` measures
through the real SDK instead (then the client is usually the bottleneck).

    python bench/sandbox_throughput.py [--seconds 10] [--concurrency 64] [--client raw|aiobotocore]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

MODEL = "amazon.nova-lite-v1:0"
BODY = json.dumps({"messages": [{"role": "user", "content": [{"text": "Benchmark prompt: say something."}]}],
                   "inferenceConfig": {"maxTokens": 64}}).encode()
AUTH = ("AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/bedrock/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")


def start_sandbox(speed: float) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--scenario", "none",
           "--speed", str(speed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"sandbox exited: {proc.stderr.read()}")
        if line.startswith("endpoint: "):
            return proc, line.split(" ", 1)[1].strip()
    raise SystemExit("sandbox did not print its endpoint")


async def raw_client(endpoint: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    import aiohttp

    url = f"{endpoint}/model/{MODEL.replace(':', '%3A')}/converse"
    headers = {"Authorization": AUTH, "Content-Type": "application/json", "X-Amz-Date": "20260101T000000Z"}
    ok = errors = 0
    lat: list[float] = []
    stop_at = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def worker():
            nonlocal ok, errors
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with session.post(url, data=BODY, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        ok += 1
                    else:
                        errors += 1
                lat.append(time.perf_counter() - t0)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors, lat


async def sdk_client(endpoint: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    ok = errors = 0
    lat: list[float] = []
    stop_at = time.perf_counter() + seconds
    cfg = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=concurrency)
    async with get_session().create_client("bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1",
                                           aws_access_key_id="bench", aws_secret_access_key="bench",
                                           config=cfg) as c:
        msgs = json.loads(BODY)

        async def worker():
            nonlocal ok, errors
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    await c.converse(modelId=MODEL, **msgs)
                    ok += 1
                except Exception:  # noqa: BLE001 - counted
                    errors += 1
                lat.append(time.perf_counter() - t0)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--speed", type=float, default=1e7)
    ap.add_argument("--client", choices=("raw", "aiobotocore"), default="raw")
    args = ap.parse_args()
    proc, endpoint = start_sandbox(args.speed)
    try:
        client = raw_client if args.client == "raw" else sdk_client
        asyncio.run(client(endpoint, 1.0, args.concurrency))  # warm-up
        cpu0 = _cpu(proc.pid)
        ok, errors, lat = asyncio.run(client(endpoint, args.seconds, args.concurrency))
        cpu = _cpu(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(10)
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000 if lat else 0
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
    print(f"client={args.client} concurrency={args.concurrency} seconds={args.seconds:g} cores={os.cpu_count()}")
    print(f"requests/s: {ok / args.seconds:,.0f}  (ok={ok} errors={errors})")
    print(f"latency ms: p50={p50:.2f} p99={p99:.2f}")
    print(f"sandbox CPU: {cpu / args.seconds * 100:.0f}% of one core, {cpu / max(ok + errors, 1) * 1000:.2f} ms a request "
          "(steadier than requests/s on a loaded machine)")
    target = 1000
    print(f"target >= {target} requests/s: {'MET' if ok / args.seconds >= target else 'MISSED'}")


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
