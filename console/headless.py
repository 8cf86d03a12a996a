"""Headless subcommands: the same actions as the TUI, for scripts. Output is a table or --json."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import asynccontextmanager

from .actions.guard import Guard, ReadOnlyError, append_history, text_fingerprint
from .domain.catalog import ConfigError
from .domain.pricing import PriceTable
from .profile_loader import load_profile, user_data_dir, user_state_dir

EXIT_FAIL = 1
EXIT_USAGE = 2


def err(msg: str) -> None:
    print(f"tierconsole: error: {msg}", file=sys.stderr)


@asynccontextmanager
async def session(args):
    """The profile's AWS context (starting a quiet embedded sandbox when the profile is the sandbox)."""
    from .live import LiveSource  # noqa: PLC0415

    profile = load_profile(args.profile)
    source = LiveSource(profile, endpoint_url=args.endpoint_url, region=args.region, read_only=args.read_only,
                        scenario="none")
    await asyncio.to_thread(source.start)
    try:
        yield source
    finally:
        await source.close()


def guard_for(source) -> Guard:
    return Guard(source.profile, user_state_dir() / "audit.jsonl")


async def _account(source) -> str | None:
    try:
        sts = await source.ctx.client("sts")
        return (await sts.get_caller_identity())["Account"]
    except Exception:  # noqa: BLE001 - the audit entry still goes in, without the account
        return None


def run(coro) -> int:
    try:
        return asyncio.run(coro)
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    except ReadOnlyError as e:
        err(str(e))
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------ prompt

def cmd_prompt(args) -> int:
    from .actions.prompt import PromptRequest  # noqa: PLC0415

    req = PromptRequest(model_id=args.model, text=args.text, tier=args.tier, system=args.system,
                        max_tokens=args.max_tokens, temperature=args.temperature, stream=args.stream)
    try:
        req.validate()
    except ValueError as e:
        err(str(e))
        return EXIT_USAGE
    return run(_prompt(args, req))


async def _prompt(args, req) -> int:
    from .actions.prompt import send_prompt  # noqa: PLC0415

    async with session(args) as source:
        guard = guard_for(source)
        guard.require_prompt()
        guard.account_id = await _account(source)
        client = await source.ctx.client("bedrock-runtime")
        prices = PriceTable.from_profile(source.profile.prices, source.profile.tier_price_multipliers)
        single_stream = req.stream and req.tier not in ("all",) and not args.json

        def on_text(tier: str, chunk: str) -> None:
            if single_stream:
                sys.stdout.write(chunk)
                sys.stdout.flush()

        results = await send_prompt(client, req, prices, on_text=on_text)
        if single_stream:
            sys.stdout.write("\n")
        ok = any(r.ok for r in results)
        guard.audit("prompt", req.model_id, "ok" if ok else "failed",
                    tiers=[r.tier for r in results], served=[r.served_tier for r in results],
                    errors=[r.error for r in results if r.error], prompt=text_fingerprint(req.text))
        append_history(user_data_dir() / "history.jsonl",
                       {"time": round(time.time(), 3), "profile": source.profile.name, "model": req.model_id,
                        "tier": req.tier, "system": req.system, "text": req.text, "max_tokens": req.max_tokens})
    if args.json:
        for r in results:
            print(json.dumps(r.to_json()))
    else:
        if not req.stream and len(results) == 1 and results[0].ok:
            print(results[0].text)
        print(format_results(results), file=sys.stderr if not args.json and len(results) == 1 else sys.stdout)
    return 0 if ok else EXIT_FAIL


def format_results(results) -> str:
    head = f"{'tier':<9} {'served':<9} {'status':<22} {'ttft ms':>8} {'latency ms':>10} {'out tok/s':>9} " \
           f"{'in':>6} {'out':>6} {'cost $':>10}"
    lines = [head]
    for r in results:
        status = "ok" if r.ok else (r.error or "error")
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        lines.append(f"{r.tier:<9} {r.served_tier or '-':<9} {status:<22} {fmt(r.ttft_ms, '8.0f'):>8} "
                     f"{fmt(r.latency_ms, '10.0f'):>10} {fmt(r.output_tps, '9.1f'):>9} {r.input_tokens:>6} "
                     f"{r.output_tokens:>6} {fmt(r.cost_usd, '10.6f'):>10}")
        if not r.ok and r.message:
            lines.append(f"          {r.message}")
    return "\n".join(lines)
