"""Prompt overhead: `send_prompt` against a raw aiobotocore `converse` with the same client, and
whether the all-tiers fan-out is concurrent.

Overhead: a sandbox (its own process) at --speed 1e6, so generation pacing is negligible and a call
costs what the SDK, loopback HTTP and the sandbox cost. The same bedrock-runtime client (built the
way the console builds it, `AwsContext.client`) sends the same request alternately raw
(`client.converse(...)`) and through `send_prompt(client, PromptRequest(...), PriceTable.from_profile())`;
overhead = median(send_prompt) − median(raw). Target: ≤ 5 ms or ≤ 1.05×.

Fan-out: a second sandbox at a speed where one call takes about 100 ms; `tier="all"` (reserved,
priority, standard, flex on Sonnet 4.5, the model with a reservation) vs each tier alone, one after
another. Concurrent means the fan-out's wall time ≈ the slowest tier, not the sum.

    python bench/prompt_overhead.py [--calls 200] [--rounds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _common import Row, SandboxProcess, add_common_args, emit, median

MODEL = "amazon.nova-lite-v1:0"
FANOUT_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
TEXT = "Benchmark prompt: say something short."
MAX_TOKENS = 32
OVERHEAD_MS, OVERHEAD_RATIO = 5.0, 1.05
FANOUT_SPEED = 8.0  # Sonnet: 600 ms to the first token and ~32 tokens at 70/s at speed 1 -> ~100-150 ms


async def _context(endpoint: str):
    from tierconsole.core.aws.session import AwsContext, Target
    from tierconsole.core.config.profiles import load_profile

    ctx = AwsContext(Target(load_profile("sandbox"), endpoint, sandbox=True))
    return ctx, await ctx.client("bedrock-runtime")


async def overhead(endpoint: str, calls: int) -> dict:
    from tierconsole.core.ops.prompt import PromptRequest, send_prompt
    from tierconsole.core.domain.pricing import PriceTable

    ctx, client = await _context(endpoint)
    prices = PriceTable.from_profile()
    req = PromptRequest(model_id=MODEL, text=TEXT, tier="default", max_tokens=MAX_TOKENS)
    kwargs = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": TEXT}]}],
              "serviceTier": {"type": "default"}, "inferenceConfig": {"maxTokens": MAX_TOKENS}}
    raw, wrapped, failures = [], [], 0
    try:
        for _ in range(20):  # warm-up: connections, botocore's model and endpoint caches
            await client.converse(**kwargs)
            await send_prompt(client, req, prices)
        for i in range(calls):
            for which in ((0, 1) if i % 2 else (1, 0)):  # alternate the order
                t = time.perf_counter()
                if which == 0:
                    await client.converse(**kwargs)
                    raw.append((time.perf_counter() - t) * 1000)
                else:
                    res = await send_prompt(client, req, prices)
                    wrapped.append((time.perf_counter() - t) * 1000)
                    failures += not res[0].ok
    finally:
        await ctx.close()
    return {"raw": raw, "wrapped": wrapped, "failures": failures}


async def fanout(endpoint: str, rounds: int) -> dict:
    from tierconsole.core.ops.prompt import ALL_TIERS, PromptRequest, send_prompt
    from tierconsole.core.domain.pricing import PriceTable

    ctx, client = await _context(endpoint)
    prices = PriceTable.from_profile()
    walls, slowest, sums, failures = [], [], [], []
    try:
        await send_prompt(client, PromptRequest(FANOUT_MODEL, TEXT, tier="all", max_tokens=MAX_TOKENS), prices)
        for _ in range(rounds):
            alone = {}
            for tier in ALL_TIERS:  # each tier alone, one after another
                t = time.perf_counter()
                res = await send_prompt(client, PromptRequest(FANOUT_MODEL, TEXT, tier=tier, max_tokens=MAX_TOKENS),
                                        prices)
                alone[tier] = (time.perf_counter() - t) * 1000
                failures += [f"{tier}: {r.error}" for r in res if not r.ok]
            t = time.perf_counter()
            res = await send_prompt(client, PromptRequest(FANOUT_MODEL, TEXT, tier="all", max_tokens=MAX_TOKENS),
                                    prices)
            walls.append((time.perf_counter() - t) * 1000)
            failures += [f"all/{r.tier}: {r.error}" for r in res if not r.ok]
            slowest.append(max(r.latency_ms for r in res))
            sums.append(sum(alone.values()))
            last_alone = alone
    finally:
        await ctx.close()
    return {"walls": walls, "slowest": slowest, "sums": sums, "alone": last_alone, "failures": failures}


def run(calls: int, rounds: int) -> list[Row]:
    with SandboxProcess(scenario="none", speed=1e6) as sb:
        o = asyncio.run(overhead(sb.endpoint, calls))
    with SandboxProcess(scenario="none", speed=FANOUT_SPEED) as sb:
        f = asyncio.run(fanout(sb.endpoint, rounds))
    r, w = median(o["raw"]), median(o["wrapped"])
    over, ratio = w - r, w / r
    print(f"overhead: {calls} calls each, alternating, same client, sandbox --speed 1e6")
    print(f"  raw converse   median {r:.2f} ms  (min {min(o['raw']):.2f})")
    print(f"  send_prompt    median {w:.2f} ms  (min {min(o['wrapped']):.2f}); failures {o['failures']}")
    print(f"  overhead       {over:+.2f} ms = {ratio:.3f}x")
    wall, slow, total = median(f["walls"]), median(f["slowest"]), median(f["sums"])
    print(f"fan-out: tier=all on {FANOUT_MODEL}, sandbox --speed {FANOUT_SPEED:g}, {rounds} rounds")
    print("  alone (ms): " + ", ".join(f"{t} {ms:.0f}" for t, ms in f["alone"].items()))
    print(f"  all tiers wall median {wall:.0f} ms; slowest tier inside it {slow:.0f} ms; "
          f"tiers one after another {total:.0f} ms")
    if f["failures"]:
        print("  failures: " + "; ".join(sorted(set(f["failures"]))))
    concurrent = wall <= 1.25 * slow and wall < 0.6 * total
    return [
        Row("prompt: send_prompt overhead", f"{over:+.2f} ms = {ratio:.3f}x (raw {r:.2f} ms, send_prompt {w:.2f} ms)",
            f"<= {OVERHEAD_MS:g} ms or <= {OVERHEAD_RATIO}x", over <= OVERHEAD_MS or ratio <= OVERHEAD_RATIO),
        Row("prompt: all-tiers fan-out", f"wall {wall:.0f} ms vs slowest tier {slow:.0f} ms, sequential sum "
            f"{total:.0f} ms ({wall / total:.2f} of the sum)", "wall ≈ slowest, not the sum",
            concurrent and not f["failures"]),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200, help="calls of each kind for the overhead (default 200)")
    ap.add_argument("--rounds", type=int, default=5, help="fan-out rounds (default 5)")
    add_common_args(ap)
    args = ap.parse_args()
    emit(run(args.calls, args.rounds), args.rows_json)


if __name__ == "__main__":
    sys.exit(main())
